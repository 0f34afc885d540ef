#!/usr/bin/env python
"""A match between two Go players, colours alternating, draws counting half.

    python scripts/go_match.py network gnugo --games 40 --size 7 --komi 9 --sims 200
    python scripts/go_match.py mcts gnugo --games 6 --size 7 --komi 9 --mcts-sims 3000
    python scripts/go_match.py network mcts --games 20 --size 7 --komi 9 --mcts-sims 800

Players: ``network`` (an AlphaZero agent file, checkpoint or run directory given by
``--checkpoint``; by default the shipped network for the board size, agents/pretrained/; it
searches ``--sims`` simulations per move with no root noise and samples its first
``--sampled-moves`` moves from the visits so that games differ), ``mcts`` (plain MCTS with
``--mcts-sims`` random-rollout simulations), ``random`` (random legal moves that keep their own
eyes) and ``gnugo`` (GNU Go at ``--gnugo-level`` over GTP, Chinese rules, positional superko,
capture-all-dead). The first player takes Black in odd-numbered games. Games are played to the
end under area scoring; only GNU Go resigns. Prints each game, then the first player's wins,
draws and losses with the score's 95% Wilson interval, by colour too.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from rlcourse.cli import command
from scripts.go_players import PRETRAINED, load_alphazero

if TYPE_CHECKING:
    from agents.alphazero.arena import FinishedGame, MatchResult, Player

KINDS = ("network", "mcts", "random", "gnugo")


def build_player(
    kind: str, opts: argparse.Namespace, game: Any, network: Any, seed: int, closers: list[Any]
) -> Player:
    from agents.alphazero.arena import mcts_player, network_player, random_player
    from agents.alphazero.config import ArenaConfig
    from envs.go.opponents import GnuGoPlayer

    if kind == "network":
        arena = ArenaConfig(simulations=opts.sims)
        return network_player(game, network.net, arena, seed, opts.sampled_moves)
    if kind == "mcts":
        return mcts_player(game, ArenaConfig(mcts_simulations=opts.mcts_sims), seed)
    if kind == "random":
        return random_player(game, seed)
    player = GnuGoPlayer(opts.size, opts.komi, level=opts.gnugo_level)
    closers.append(player)
    return player


def network_checkpoint(opts: argparse.Namespace) -> str:
    if opts.checkpoint is not None:
        return opts.checkpoint
    if opts.size not in PRETRAINED:
        shipped = ", ".join(f"{n}x{n}" for n in sorted(PRETRAINED))
        raise ValueError(
            f"no shipped network plays {opts.size}x{opts.size} ({shipped}): give --checkpoint"
        )
    return str(PRETRAINED[opts.size])


def load_network(opts: argparse.Namespace) -> Any:
    """The AlphaZero agent of the match; a board size or komi other than the match's is
    refused."""
    agent = load_alphazero(network_checkpoint(opts), opts.seed)
    config = agent.config.game
    if (config.board_size, config.komi) != (opts.size, opts.komi):
        raise ValueError(
            f"the network was trained for {config.board_size}x{config.board_size} at komi "
            f"{config.komi:g}, the match is {opts.size}x{opts.size} at komi {opts.komi:g}"
        )
    return agent


def describe(game_number: int, finished: FinishedGame, started: float) -> str:
    outcome = finished.returns[0 if finished.a_first else 1]
    result = "win" if outcome > 0 else "draw" if outcome == 0 else "loss"
    final = finished.final
    how = "resigned" if final.resigned is not None else f"Black {final.score():+g} with komi"
    colour = "black" if finished.a_first else "white"
    return (
        f"game {game_number + 1:3d}: first player {colour:5s} {result:4s} "
        f"({len(final.moves)} moves, {how}), {time.perf_counter() - started:.0f} s"
    )


def summary(name: str, result: MatchResult) -> str:
    low, high = result.interval()
    return (
        f"{name}: {result.wins} won, {result.draws} drawn, {result.losses} lost of "
        f"{result.games}: score {result.score:.3f} (95% Wilson {low:.3f}-{high:.3f})"
    )


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("first", choices=KINDS, help="the player the scores are for")
    parser.add_argument("second", choices=KINDS)
    parser.add_argument("--games", type=int, default=10)
    parser.add_argument("--size", type=int, default=7)
    parser.add_argument("--komi", type=float, default=9.0)
    parser.add_argument("--checkpoint", help="network: agent file, checkpoint or run directory")
    parser.add_argument("--sims", type=int, default=200, help="network: simulations per move")
    parser.add_argument(
        "--sampled-moves", type=int, default=2, help="network: opening moves drawn from the visits"
    )
    parser.add_argument("--mcts-sims", type=int, default=800, help="mcts: simulations per move")
    parser.add_argument("--gnugo-level", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1, help="second player: seed + 100")
    opts = parser.parse_args(argv)
    if opts.games < 1 or opts.sims < 1 or opts.mcts_sims < 1 or opts.sampled_moves < 0:
        parser.error("--games, --sims and --mcts-sims must be >= 1, --sampled-moves >= 0")
    if opts.first == opts.second == "gnugo":
        parser.error("GNU Go against itself: use scripts/gtp_match.py")
    # Imported once the arguments are read, so that --help answers at once.
    import torch

    import envs  # noqa: F401  (registers the rlcourse/* env ids)
    from agents.alphazero.arena import MatchResult, play_match
    from agents.alphazero.config import GameConfig
    from agents.alphazero.games import make_game

    torch.set_num_threads(1)
    closers: list[Any] = []
    try:
        network = load_network(opts) if "network" in (opts.first, opts.second) else None
        game_config = (
            GameConfig(name="go", board_size=opts.size, komi=opts.komi)
            if network is None
            else network.config.game
        )
        game = make_game(game_config)
        first = build_player(opts.first, opts, game, network, opts.seed, closers)
        second = build_player(opts.second, opts, game, network, opts.seed + 100, closers)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    by_colour = {True: [0, 0, 0], False: [0, 0, 0]}  # first player black? -> [won, drawn, lost]

    def on_game(i: int, finished: FinishedGame) -> None:
        outcome = finished.returns[0 if finished.a_first else 1]
        by_colour[finished.a_first][0 if outcome > 0 else 1 if outcome == 0 else 2] += 1
        print(describe(i, finished, started), flush=True)

    try:
        result = play_match(game, first, second, opts.games, on_game)
    finally:
        for closer in closers:
            closer.close()
    name = f"{opts.first} vs {opts.second} ({opts.size}x{opts.size}, komi {opts.komi:g})"
    print(summary(name, result))
    for black, label in ((True, "as Black"), (False, "as White")):
        if sum(by_colour[black]):
            print(summary(f"  {label}", MatchResult(*by_colour[black])))
    return 0


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
