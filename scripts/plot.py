#!/usr/bin/env python
"""Learning curves of one or more runs as a PNG: the mean per experiment and a band across seeds.

Runs are grouped by their resolved config (env id, agent, overrides) but the seed; runs of one
config name whose settings differ are drawn apart, and a warning names the keys that differ.

python scripts/plot.py runs/CliffWalking-v0 --out curves.png      # SARSA beside Q-learning
python scripts/plot.py runs/CliffWalking-v0/q_learning runs/WindyGridworld-v0/q_learning
python scripts/plot.py runs/ --tag eval/return_mean --band ci95 --smooth 1
python scripts/plot.py runs/Go-v0/alphazero --tag arena/gnugo/score_as_first --x minutes --smooth 1
"""

from __future__ import annotations

import argparse
import sys

from rlcourse.cli import command


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "runs", nargs="+", metavar="RUN_DIR", help="run directories or folders holding them"
    )
    parser.add_argument("--out", default="learning_curves.png")
    parser.add_argument("--tag", default="episode/return", help="TensorBoard scalar to plot")
    parser.add_argument(
        "--smooth", type=int, default=10, help="moving-average window in logged points"
    )
    parser.add_argument("--band", choices=["std", "ci95", "minmax", "none"], default="std")
    parser.add_argument(
        "--x", choices=["steps", "episodes", "minutes"], default="steps",
        help="x axis (minutes: wall-clock time since each run started)",
    )  # fmt: skip
    parser.add_argument("--ylim", type=float, nargs=2, metavar=("LOW", "HIGH"))
    parser.add_argument("--title")
    opts = parser.parse_args(argv)
    # Imported once the arguments are read, so that --help answers at once.
    from rlcourse.plotting import plot_learning_curves

    try:
        path = plot_learning_curves(
            opts.runs, opts.out, opts.tag, opts.smooth, opts.band, opts.title, opts.x, opts.ylim
        )
    except (FileNotFoundError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
