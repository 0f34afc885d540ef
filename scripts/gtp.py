#!/usr/bin/env python
"""A GTP version 2 engine on stdin/stdout around a Go-playing agent.

    python scripts/gtp.py --board-size 7 --komi 9
    python scripts/gtp.py --agent random --board-size 9 --komi 7.5
    gogui -program "python scripts/gtp.py"

Agents are the Go players of `scripts/go_players.py`. The default, ``--agent shipped``, plays
the network shipped in agents/pretrained for the board size being played (5x5 and 7x7) and
random moves, announced by one line on stderr, on a board size no network ships for;
``--agent random`` plays uniformly random legal moves that do not fill its own single-point eyes.
"""

from __future__ import annotations

import argparse
import sys

from rlcourse.cli import command
from scripts.go_players import add_player_arguments, make_player


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_player_arguments(parser, default_agent="shipped")
    parser.add_argument(
        "--board-size", type=int, default=9, help="5..19 (GTP boardsize changes it)"
    )
    parser.add_argument("--komi", type=float, default=7.5)
    parser.add_argument("--name", default="rlcourse", help="the engine's GTP name")
    opts = parser.parse_args(argv)
    # Imported once the arguments are read, so that --help answers at once.
    from envs.go.gtp import GtpEngine

    try:
        policy = make_player(opts)
        engine = GtpEngine(policy, name=opts.name, board_size=opts.board_size, komi=opts.komi)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine.serve(sys.stdin, sys.stdout)
    return 0


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
