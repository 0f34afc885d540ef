#!/usr/bin/env python
"""Redraw figures of Sutton & Barto (2018), chapters 2-8, with the suite's envs and agents.

python scripts/figures.py 2.2 4.3            # two figures, into docs/figures/
python scripts/figures.py --all --quick      # every figure from shorter runs (a few minutes)
python scripts/figures.py --list             # the figures and their book references

Every run seeds itself from its index, so the same command draws the same figure. The runs
of all asked-for figures share one process pool (--workers, default: every core).
"""

from __future__ import annotations

import argparse
import sys
import time

from rlcourse.cli import command


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("figures", nargs="*", metavar="FIGURE", help="e.g. 2.2 6.2 'Example 8.4'")
    parser.add_argument("--all", action="store_true", help="every figure of the gallery")
    parser.add_argument("--quick", action="store_true", help="fewer runs, for checking")
    parser.add_argument("--out", default="docs/figures", help="folder for the PNGs")
    parser.add_argument("--workers", type=int, help="processes (default: one per core; 1: none)")
    parser.add_argument("--list", action="store_true", help="list the figures and stop")
    parser.add_argument("--no-progress", action="store_true")
    opts = parser.parse_args(argv)
    # Imported once the arguments are read, so that --help answers at once.
    from scripts.gallery import FIGURES, make_figures

    if opts.list:
        for number, figure in FIGURES.items():
            print(f"{number:>13}  {figure.title}  [{figure.book}]")
        return 0
    names = list(FIGURES) if opts.all else opts.figures
    unknown = [n for n in names if n not in FIGURES]
    if unknown or not names:
        known = ", ".join(FIGURES)
        what = f"unknown figure(s) {', '.join(unknown)}" if unknown else "name a figure or --all"
        print(f"error: {what}; the gallery has {known}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    paths = make_figures(
        [FIGURES[n] for n in names], opts.out, opts.quick, opts.workers, not opts.no_progress
    )
    for path in paths:
        print(f"wrote {path}")
    print(f"{len(paths)} figure(s) in {time.perf_counter() - started:.1f} s")
    return 0


main = command(run)

if __name__ == "__main__":
    sys.exit(main())
