#!/usr/bin/env python
"""A GTP version 2 engine on stdin/stdout around a Go-playing agent.

    python scripts/gtp.py --agent random --board-size 9 --komi 7.5
    gogui -program "python scripts/gtp.py --agent random"

Agents are policies ``policy(state) -> move | "resign"`` built by the factories in ``AGENTS``
from the command-line options; ``random`` plays uniformly random legal moves that do not fill
its own single-point eyes. Search and network agents join the table with their factories; a
``--checkpoint`` is loaded by the agent that reads it, and refused by an agent that has none.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from envs.go.gtp import GtpEngine, Policy, RandomPolicy

AgentFactory = Callable[[argparse.Namespace], Policy]


def random_agent(opts: argparse.Namespace) -> Policy:
    if opts.checkpoint is not None:
        raise ValueError(
            f"--checkpoint {opts.checkpoint}: agent 'random' has no network to load, and none of "
            f"the available agents ({', '.join(sorted(AGENTS))}) loads checkpoints"
        )
    if opts.sims is not None:
        raise ValueError("--sims: agent 'random' does no search")
    return RandomPolicy(opts.seed)


AGENTS: dict[str, AgentFactory] = {"random": random_agent}


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose and configure an agent (shared with scripts/play.py)."""
    parser.add_argument("--agent", choices=sorted(AGENTS), default="random")
    parser.add_argument("--checkpoint", metavar="FILE", help="network weights for the agent")
    parser.add_argument("--sims", type=int, metavar="N", help="search simulations per move")
    parser.add_argument("--seed", type=int, default=None, help="seed of the agent's randomness")


def make_policy(opts: argparse.Namespace) -> Policy:
    """The agent ``opts.agent`` built from the options; ValueError names what does not fit."""
    if opts.sims is not None and opts.sims < 1:
        raise ValueError(f"--sims must be at least 1, got {opts.sims}")
    return AGENTS[opts.agent](opts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_agent_arguments(parser)
    parser.add_argument(
        "--board-size", type=int, default=9, help="5..19 (GTP boardsize changes it)"
    )
    parser.add_argument("--komi", type=float, default=7.5)
    parser.add_argument("--name", default="rlcourse", help="the engine's GTP name")
    opts = parser.parse_args(argv)
    try:
        policy = make_policy(opts)
        engine = GtpEngine(policy, name=opts.name, board_size=opts.board_size, komi=opts.komi)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine.serve(sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
