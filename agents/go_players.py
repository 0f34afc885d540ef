"""Go players built from command-line options, shared by `scripts/gtp.py` and `scripts/play.py`.

A player is a policy ``policy(state) -> move | "resign"``. `PLAYERS` maps an ``--agent`` name
to its factory; ``random`` plays uniformly random legal moves that do not fill its own
single-point eyes. Search and network players join the table with their factories; a
``--checkpoint`` is loaded by the player that reads it, and refused by one that has none.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from envs.go.gtp import Policy, RandomPolicy

PlayerFactory = Callable[[argparse.Namespace], Policy]


def random_player(opts: argparse.Namespace) -> Policy:
    if opts.checkpoint is not None:
        raise ValueError(
            f"--checkpoint {opts.checkpoint}: agent 'random' has no network to load, and none of "
            f"the available agents ({', '.join(sorted(PLAYERS))}) loads checkpoints"
        )
    if opts.sims is not None:
        raise ValueError("--sims: agent 'random' does no search")
    return RandomPolicy(opts.seed)


PLAYERS: dict[str, PlayerFactory] = {"random": random_player}


def add_player_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that choose and configure a player."""
    parser.add_argument("--agent", choices=sorted(PLAYERS), default="random")
    parser.add_argument("--checkpoint", metavar="FILE", help="network weights for the agent")
    parser.add_argument("--sims", type=int, metavar="N", help="search simulations per move")
    parser.add_argument("--seed", type=int, default=None, help="seed of the agent's randomness")


def make_player(opts: argparse.Namespace) -> Policy:
    """The player ``opts.agent`` built from the options; ValueError names what does not fit."""
    if opts.sims is not None and opts.sims < 1:
        raise ValueError(f"--sims must be at least 1, got {opts.sims}")
    return PLAYERS[opts.agent](opts)
