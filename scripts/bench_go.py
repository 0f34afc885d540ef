#!/usr/bin/env python
"""Go speed, ours beside OpenSpiel's, PettingZoo's and EnvPool's Go, in one process.

Game cases play whole games from the empty board (komi 7.5) with random moves and count the
moves played (passes included) per second of wall time. Env cases step Gymnasium-style envs
with random legal actions and count steps per second. Every measure is repeated over a few
rounds in which the engines take turns; the table gives the best round, and ``spread_*``
(max - min) / max over rounds.

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

Env cases, 9x9 only (EnvPool's smallest board), each step one move of the player to move:
- ``env_single/9x9``: our ``rlcourse/Go-v0`` (``gym.make``, two agents taking turns, an
  observation of 19 float32 planes: own, opponent and empty points, legal moves, colour and
  the 7 earlier positions, so 8 positions in all, plus the int8 action mask; ``info`` with
  the bool mask and the score) against EnvPool's ``Go9x9-v1`` (pgx rules: area scoring, komi
  7.5, superko as pgx judges it, flagged in ``info["is_psk"]``; ``num_envs=1,
  num_threads=1``; 17 bool planes per player: 8 positions and the colour; ``info`` with the
  legal-action mask, the board and both areas).
  The same Python loop drives both: a uniformly random legal action from the last mask.
  Ratio: ours / EnvPool (target >= 1).
- ``env_batch64/9x9``: 64 of our envs in Gymnasium's ``SyncVectorEnv`` (same-step autoreset)
  against EnvPool with ``num_envs=64, num_threads=1``, random legal actions drawn for all 64
  at once. Ratio: ours / EnvPool (target >= 1).

EnvPool restarts a finished game on the next ``step``, which returns the new game's first
observation and ignores its action: such steps are not counted. Rows of a peer that cannot be
imported are skipped with one line saying so.

Usage: ``python scripts/bench_go.py [--quick] [--json FILE]``
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from rlcourse.benchmarking import bench_main, import_peer, print_rows, spread, taking_turns

KOMI = 7.5
SIZES = (9, 7)
ENV_SIZE = 9
BATCH = 64
HISTORY = 7  # our planes then show 8 positions, as EnvPool's do
TARGETS = {"python_mask": ("open_spiel", 1.0), "python_list": ("open_spiel", 1.0),
           "native": ("pettingzoo", 50.0), "env_single": ("envpool", 1.0),
           f"env_batch{BATCH}": ("envpool", 1.0)}  # fmt: skip
PEERS = {"open_spiel": ("pyspiel", "open-spiel"), "pettingzoo": ("pettingzoo", "pettingzoo"),
         "envpool": ("envpool", "envpool")}  # name -> (module, what pip installs)  # fmt: skip

GameFn = Callable[[int], int]  # seed -> moves played in one game
Measure = Callable[[int], float]  # round -> moves or steps per second over that round

if TYPE_CHECKING:
    from envs.go.rules import GoState


def empty_board(size: int) -> GoState:
    """The start of our games (envs is imported here, not at the top: --help needs none)."""
    from envs.go.rules import GoState

    return GoState.new(size, KOMI)


def ours_python_mask(size: int) -> GameFn:
    start = empty_board(size)

    def game(seed: int) -> int:
        rng, state, moves = random.Random(seed), start, 0
        while not state.is_terminal:
            legal = state.legal_mask().nonzero()[0]
            state = state.play(legal[rng.randrange(len(legal))])
            moves += 1
        return moves

    return game


def ours_python_list(size: int) -> GameFn:
    start = empty_board(size)

    def game(seed: int) -> int:
        rng, state, moves = random.Random(seed), start, 0
        while not state.is_terminal:
            state = state.play(rng.choice(state.legal_moves()))
            moves += 1
        return moves

    return game


def ours_native(size: int) -> GameFn:
    start = empty_board(size)
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


def game_measure(play: GameFn, seconds: float) -> Measure:
    play(0)  # warm up: imports, first allocations
    return lambda round_: moves_per_second(play, seconds, 1 + 10**6 * round_)


def random_legal(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random legal action for each row of a ``[B, A]`` 0/1 mask."""
    return (rng.random(mask.shape) * mask).argmax(axis=1)


def ours_env_single(seconds: float) -> Measure:
    import gymnasium as gym

    import envs  # noqa: F401  (registers rlcourse/Go-v0)

    env = gym.make("rlcourse/Go-v0", board_size=ENV_SIZE, komi=KOMI, history=HISTORY)

    def measure(round_: int) -> float:
        rng = np.random.default_rng(round_)
        obs, _ = env.reset(seed=round_)
        steps, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            action = random_legal(obs["action_mask"][None], rng)[0]
            obs, _, terminated, truncated, _ = env.step(action)
            steps += 1
            if terminated or truncated:
                obs, _ = env.reset()
        return steps / elapsed

    return measure


def ours_env_batch(seconds: float) -> Measure:
    import gymnasium as gym

    import envs  # noqa: F401  (registers rlcourse/Go-v0)

    envs_ = gym.make_vec(
        "rlcourse/Go-v0", num_envs=BATCH, vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        board_size=ENV_SIZE, komi=KOMI, history=HISTORY,
    )  # fmt: skip

    def measure(round_: int) -> float:
        rng = np.random.default_rng(round_)
        obs, _ = envs_.reset(seed=round_)
        steps, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            obs, *_ = envs_.step(random_legal(obs["action_mask"], rng))
            steps += BATCH
        return steps / elapsed

    return measure


def envpool_env(envpool: Any, num_envs: int, seconds: float) -> Measure:
    env = envpool.make_gymnasium(
        f"Go{ENV_SIZE}x{ENV_SIZE}-v1", num_envs=num_envs, num_threads=1, seed=0, komi=KOMI
    )
    _, info = env.reset()

    def measure(round_: int) -> float:
        nonlocal info
        rng = np.random.default_rng(round_)
        steps, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            _, _, _, _, info = env.step(random_legal(info["legal_action_mask"], rng))
            steps += int(np.count_nonzero(info["elapsed_step"]))  # 0: a restart, no step
        return steps / elapsed

    return measure


def case_result(ours: list[float], peer: str, theirs: list[float], unit: str) -> dict[str, Any]:
    """One case from every round's rates of ours and of its peer."""
    return {
        "ours": max(ours), peer: max(theirs), "ratio": max(ours) / max(theirs), "unit": unit,
        "spread_ours": spread(ours), "spread_peer": spread(theirs),
    }  # fmt: skip


GAME_CASES = ("python_mask", "python_list", "native")
GAME_PEERS: dict[str, Callable[[int], GameFn]] = {
    "open_spiel": open_spiel_loop,
    "pettingzoo": pettingzoo_loop,
}


def game_cases(size: int, seconds: float, rounds: int, peers: dict[str, Any]) -> dict[str, Any]:
    """The game cases on a ``size`` board, each against its target's peer (and showing the
    other game peer's rate); a case whose peer is missing is left out."""
    ours = {"python_mask": ours_python_mask, "python_list": ours_python_list,
            "native": ours_native}  # fmt: skip
    present = {name: make for name, make in GAME_PEERS.items() if peers[name] is not None}
    measures = {name: game_measure(make(size), seconds) for name, make in (ours | present).items()}
    rates = taking_turns(measures, rounds)
    results: dict[str, Any] = {}
    for case in GAME_CASES:
        peer, _ = TARGETS[case]
        if peer in rates:
            result = case_result(rates[case], peer, rates[peer], "moves/s")
            results[f"{case}/{size}x{size}"] = result | {
                other: max(rates[other]) for other in present if other != peer
            }
    return results


def env_cases(seconds: float, rounds: int, envpool: Any) -> dict[str, Any]:
    """Our Go-v0 beside EnvPool's Go, one env and a batch; nothing without EnvPool."""
    if envpool is None:
        return {}
    measures = {
        "single": ours_env_single(seconds), "batch": ours_env_batch(seconds),
        "envpool_single": envpool_env(envpool, 1, seconds),
        "envpool_batch": envpool_env(envpool, BATCH, seconds),
    }  # fmt: skip
    rates = taking_turns(measures, rounds)
    board = f"{ENV_SIZE}x{ENV_SIZE}"
    return {
        f"env_single/{board}": case_result(
            rates["single"], "envpool", rates["envpool_single"], "steps/s"
        ),
        f"env_batch{BATCH}/{board}": case_result(
            rates["batch"], "envpool", rates["envpool_batch"], "steps/s"
        ),
    }


def run(quick: bool) -> dict[str, dict[str, Any]]:
    seconds, rounds = (1.0, 2) if quick else (5.0, 5)
    peers = {name: import_peer(module, install) for name, (module, install) in PEERS.items()}
    results: dict[str, dict[str, Any]] = {}
    for size in SIZES:
        results.update(game_cases(size, seconds, rounds, peers))
    results.update(env_cases(seconds, rounds, peers["envpool"]))
    return results


def show(results: dict[str, dict[str, Any]]) -> None:
    peers = [name for name in PEERS if any(name in r for r in results.values())]
    rows = [("case", "ours", *peers, "ratio", "vs", "target", "met", "spread ours/peer")]
    for case, r in results.items():
        peer, target = TARGETS[case.split("/")[0]]
        rows.append((
            case, f"{r['ours']:,.0f}", *(f"{r[p]:,.0f}" if p in r else "" for p in peers),
            f"{r['ratio']:.2f}", peer, f">= {target:g}", "yes" if r["ratio"] >= target else "NO",
            f"{r['spread_ours']:.2f}/{r['spread_peer']:.2f}",
        ))  # fmt: skip
    print_rows(rows)
    print(
        "\nmoves/s: moves played (passes included) per second of wall time; steps/s: env steps"
        " per second; best of repeats, spread (max - min) / max over them"
    )


def main(argv: list[str] | None = None) -> int:
    versions = ("numpy", "open-spiel", "pettingzoo", "envpool")
    return bench_main(run, show, description=__doc__, versions=versions, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
