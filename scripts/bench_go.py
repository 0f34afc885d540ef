#!/usr/bin/env python
"""Go random-playout speed, ours beside OpenSpiel's and PettingZoo's Go, in one process.

Every engine plays whole games from the empty board (komi 7.5) with random moves and counts
the moves played (passes included) per second of wall time; best of a few rounds, the engines
taking turns within each round.

Cases, for 9x9 and 7x7:
- ``python_mask/<N>``: ours through the per-move Python API as a search loop uses it:
  ``legal_mask()``, a uniformly random legal move from it, ``play``; OpenSpiel's loop is
  ``legal_actions()``, ``random.choice``, ``apply_action``, and PettingZoo's ``go_v5`` steps
  with a random action from its action mask. Ratio: ours / OpenSpiel (target >= 1).
- ``python_list/<N>``: the same with our ``legal_moves()`` list instead of the mask, the
  closest match to OpenSpiel's ``legal_actions()``. Ratio: ours / OpenSpiel (target >= 1).
- ``native/<N>``: our C playout (``GoState.rollout``: random legal moves that never fill the
  mover's own single-point eyes, to two passes or the move cap) beside the same two Python
  loops. Ratio: ours / PettingZoo (target >= 50).

Both Python loops pick uniformly among all legal moves, pass included, to OpenSpiel's move cap
of 2 * N * N; OpenSpiel and ours share that cap, PettingZoo plays to two passes.

Usage: ``python scripts/bench_go.py [--quick] [--json FILE]``
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from envs.go.rules import GoState
from rlcourse.benchmarking import bench_main, print_rows

KOMI = 7.5
SIZES = (9, 7)
TARGETS = {"python_mask": ("open_spiel", 1.0), "python_list": ("open_spiel", 1.0),
           "native": ("pettingzoo", 50.0)}  # fmt: skip

GameFn = Callable[[int], int]  # seed -> moves played in one game


def ours_python_mask(size: int) -> GameFn:
    start = GoState.new(size, KOMI)

    def game(seed: int) -> int:
        rng, state, moves = random.Random(seed), start, 0
        while not state.is_terminal:
            legal = state.legal_mask().nonzero()[0]
            state = state.play(legal[rng.randrange(len(legal))])
            moves += 1
        return moves

    return game


def ours_python_list(size: int) -> GameFn:
    start = GoState.new(size, KOMI)

    def game(seed: int) -> int:
        rng, state, moves = random.Random(seed), start, 0
        while not state.is_terminal:
            state = state.play(rng.choice(state.legal_moves()))
            moves += 1
        return moves

    return game


def ours_native(size: int) -> GameFn:
    start = GoState.new(size, KOMI)
    return lambda seed: start.rollout(seed).moves


def open_spiel_loop(size: int) -> GameFn:
    import pyspiel

    go = pyspiel.load_game("go", {"board_size": size, "komi": KOMI})

    def game(seed: int) -> int:
        rng, state, moves = random.Random(seed), go.new_initial_state(), 0
        while not state.is_terminal():
            state.apply_action(rng.choice(state.legal_actions()))
            moves += 1
        return moves

    return game


def pettingzoo_loop(size: int) -> GameFn:
    try:
        from pettingzoo.classic import go_v5
    except ImportError:  # the classic package needs every classic game's dependencies
        from pettingzoo.classic.go import go as go_v5

    env = go_v5.env(board_size=size, komi=KOMI)

    def game(seed: int) -> int:
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        moves = 0
        for _agent in env.agent_iter():
            obs, _, terminated, truncated, _ = env.last()
            if terminated or truncated:
                action = None
            else:
                action = int(rng.choice(np.flatnonzero(obs["action_mask"])))
                moves += 1
            env.step(action)
        return moves

    return game


def moves_per_second(play: GameFn, seconds: float, first_seed: int) -> float:
    """Moves per second over whole games played for about ``seconds``."""
    moves, seed, started = 0, first_seed, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        moves += play(seed)
        seed += 1
    return moves / elapsed


ENGINES: dict[str, Callable[[int], GameFn]] = {
    "open_spiel": open_spiel_loop,
    "pettingzoo": pettingzoo_loop,
    "python_mask": ours_python_mask,
    "python_list": ours_python_list,
    "native": ours_native,
}


def run(quick: bool) -> dict[str, dict[str, Any]]:
    """Best of a few rounds per engine; the engines take turns within each round so that a
    change in machine load hits them alike."""
    seconds, rounds = (1.5, 2) if quick else (5.0, 3)
    results: dict[str, dict[str, Any]] = {}
    for size in SIZES:
        games = {name: make(size) for name, make in ENGINES.items()}
        for play in games.values():
            play(0)  # warm up: imports, first allocations
        best = dict.fromkeys(games, 0.0)
        for round_ in range(rounds):
            for name, play in games.items():
                best[name] = max(best[name], moves_per_second(play, seconds, 1 + 10**6 * round_))
        peers = {"open_spiel": best["open_spiel"], "pettingzoo": best["pettingzoo"]}
        for case, (peer, _) in TARGETS.items():
            results[f"{case}/{size}x{size}"] = {
                "ours": best[case], **peers, "ratio": best[case] / peers[peer], "unit": "moves/s",
            }  # fmt: skip
    return results


def show(results: dict[str, dict[str, Any]]) -> None:
    rows = [("case", "ours", "open_spiel", "pettingzoo", "ratio", "vs", "target", "met")]
    for case, r in results.items():
        peer, target = TARGETS[case.split("/")[0]]
        rows.append((
            case, f"{r['ours']:,.0f}", f"{r['open_spiel']:,.0f}", f"{r['pettingzoo']:,.0f}",
            f"{r['ratio']:.2f}", peer, f">= {target:g}", "yes" if r["ratio"] >= target else "NO",
        ))  # fmt: skip
    print_rows(rows)
    print("\nmoves/s: moves played (passes included) per second of wall time, best of repeats")


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, show, description=__doc__, versions=("numpy",), argv=argv)


if __name__ == "__main__":
    sys.exit(main())
