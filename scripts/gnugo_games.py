#!/usr/bin/env python
"""A training set of Go-lite games: GNU Go plays itself, one SGF file per game.

    python scripts/gnugo_games.py --size 7 --komi 9 --games 200 --level 5 --out /tmp/go7_games

Game ``i`` opens with ``--opening-moves`` uniformly random legal moves (never filling an own
eye) drawn from ``default_rng([seed, i])``, so games differ and the same seed gives the same
openings (they stay in the record, so pre-training imitates them too: 2 of about 35 moves of a
7x7 game); GNU Go then plays both colours to the end (two passes, a resignation or the move
cap of ``2 * size * size`` moves). GNU Go runs with ``--chinese-rules --positional-superko
--capture-all-dead``, so the Tromp-Taylor area count of the final position is the result
written as RE (``B+R``/``W+R`` after a resignation, ``B+F``/``W+F`` after an illegal move).
Files are ``game_00000.sgf``, ...; the records feed ``agent.pretrain.sgf`` of an AlphaZero
config.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from envs.go.game import GoGame
    from envs.go.rules import GoState

GNUGO_NAME = "GNU Go"


def opening(game: GoGame, moves: int, rng: np.random.Generator) -> GoState:
    """The initial state after ``moves`` random legal moves (fewer if the game ends)."""
    from envs.go.gtp import RandomPolicy

    state = game.initial_state()
    policy = RandomPolicy(rng)
    for _ in range(moves):
        if state.is_terminal:
            break
        state = state.play(policy(state))
    return state


def forfeit(final: GoState) -> str | None:
    """RE of a game that stopped on an illegal move (the mover forfeits); None when the game
    ended on the board or by resignation (RE then follows from the final state)."""
    from envs.go.rules import BLACK

    if final.is_terminal:
        return None
    return "W+F" if final.to_play == BLACK else "B+F"


def write_games(
    size: int,
    komi: float,
    games: int,
    level: int,
    out: str | Path,
    opening_moves: int = 2,
    seed: int = 0,
    first: int = 0,
) -> list[Path]:
    """Play ``games`` GNU Go self-play games numbered from ``first``; returns the SGF paths."""
    from agents.alphazero.arena import play_game
    from envs.go.game import GoGame
    from envs.go.opponents import GnuGoPlayer
    from envs.go.sgf import game_record, save_sgf

    if games < 1:
        raise ValueError(f"games must be at least 1, got {games}")
    if opening_moves < 0:
        raise ValueError(f"opening_moves must be >= 0, got {opening_moves}")
    game = GoGame(size, komi, history=0)
    name = f"{GNUGO_NAME} level {level}"
    player = GnuGoPlayer(size, komi, level)
    paths = []
    try:
        for i in range(first, first + games):
            start = opening(game, opening_moves, np.random.default_rng([seed, i]))
            final = play_game(game, player, player, start).final
            comment = f"moves 1-{len(start.moves)} random (seed {seed}, game {i})"
            record = game_record(game.initial_state(), final, black=name, white=name,
                                 result=forfeit(final), event="gnugo self-play",
                                 game_comment=comment)  # fmt: skip
            paths.append(save_sgf(record, Path(out) / f"game_{i:05d}.sgf"))
    finally:
        player.close()
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=7, help="board size (5..19)")
    parser.add_argument("--komi", type=float, default=9.0)
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--level", type=int, default=5, help="GNU Go level (0..10)")
    parser.add_argument("--out", required=True, help="folder for the SGF files")
    parser.add_argument("--opening-moves", type=int, default=2, help="random moves first")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random openings")
    parser.add_argument("--first", type=int, default=0, help="number of the first game")
    opts = parser.parse_args(argv)
    if not 0 <= opts.level <= 10:
        parser.error(f"--level must be 0..10, got {opts.level}")
    started = time.perf_counter()
    try:
        paths = write_games(opts.size, opts.komi, opts.games, opts.level, opts.out,
                            opts.opening_moves, opts.seed, opts.first)  # fmt: skip
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    rate = seconds / len(paths)
    print(f"{len(paths)} games in {seconds:.1f} s ({rate:.2f} s/game) -> {opts.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
