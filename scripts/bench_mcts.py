#!/usr/bin/env python
"""MCTS simulations per second: ours with random rollouts beside OpenSpiel's C++ MCTSBot, and
ours with the policy-value network at several evaluation batch sizes, in one process.

Cases:
- ``rollout/9x9``: a search of S simulations from the empty 9x9 board (komi 7.5), fresh tree
  each time, one random rollout per leaf, PUCT with c = 2 and uniform priors on both sides.
  Ours: :class:`MCTS` with :class:`RolloutEvaluator` (rollouts in C, random moves that never
  fill the mover's own eyes, to two passes or the move cap), one leaf per evaluation, no
  virtual loss. OpenSpiel: ``pyspiel.MCTSBot`` with ``pyspiel.RandomRolloutEvaluator(1)`` and
  ``ChildSelectionPolicy.PUCT`` (rollouts of uniformly random moves). Ratio: ours / OpenSpiel
  (target >= 1).
- ``neural/9x9/batch<B>``: ours with :class:`NeuralEvaluator` and the default network (64
  filters, 5 blocks, 11 input planes) on the CPU, each network call evaluating B leaves: one
  tree with B leaves in flight for B <= 8, otherwise B / 8 trees with 8 each, all searched
  together. Ratio: over batch 1 (the gain from batching; target >= 1).

Everything runs on one core (``torch.set_num_threads(1)``), as OpenSpiel's bot does.

Best of a few rounds; the engines take turns within each round.

Usage: ``python scripts/bench_mcts.py [--quick] [--json FILE]``
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from rlcourse.benchmarking import bench_main, print_table

SIZE, KOMI, C_PUCT = 9, 7.5, 2.0
BATCHES = (1, 8, 32, 128)
LEAVES_PER_TREE = 8
ROLLOUT_TARGET = 1.0
BATCHING_TARGET = 1.0  # a batched call must not be slower per simulation than batch 1

Search = Callable[[int], None]  # seed -> one search


def ours_rollout(simulations: int) -> Search:
    from agents.alphazero.config import MCTSConfig
    from agents.alphazero.evaluators import RolloutEvaluator
    from agents.alphazero.mcts import MCTS
    from envs.go.game import GoGame

    game = GoGame(SIZE, KOMI)
    config = MCTSConfig(simulations=simulations, c_puct=C_PUCT, leaves_per_call=1, virtual_loss=0)

    def search(seed: int) -> None:
        MCTS(game, RolloutEvaluator(game, seed=seed), config, rng=seed).search()

    return search


def open_spiel_rollout(simulations: int) -> Search:
    import pyspiel

    game = pyspiel.load_game("go", {"board_size": SIZE, "komi": KOMI})

    def search(seed: int) -> None:
        evaluator = pyspiel.RandomRolloutEvaluator(1, seed)
        bot = pyspiel.MCTSBot(game, evaluator, C_PUCT, simulations, 10**6, False, seed, False,
                              pyspiel.ChildSelectionPolicy.PUCT)  # fmt: skip
        bot.step(game.new_initial_state())

    return search


def ours_neural(batch: int, simulations: int) -> tuple[Search, int]:
    """A search of ``simulations`` in each of ``batch / leaves`` trees, and its total."""
    from agents.alphazero.config import MCTSConfig
    from agents.alphazero.evaluators import NeuralEvaluator
    from agents.alphazero.mcts import MCTS, search_together
    from agents.alphazero.network import PolicyValueNet
    from envs.go.game import GoGame

    game = GoGame(SIZE, KOMI)
    net = PolicyValueNet(game.planes_shape, game.num_actions)
    evaluator = NeuralEvaluator(game, net)
    leaves = min(batch, LEAVES_PER_TREE)
    trees = batch // leaves
    config = MCTSConfig(simulations=simulations, c_puct=C_PUCT, leaves_per_call=leaves)

    def search(seed: int) -> None:
        searches = [MCTS(game, evaluator, config, rng=seed + k) for k in range(trees)]
        search_together(searches)

    return search, simulations * trees


def simulations_per_second(search: Search, simulations: int, seed: int) -> float:
    started = time.perf_counter()
    search(seed)
    return simulations / (time.perf_counter() - started)


def run(quick: bool) -> dict[str, dict[str, Any]]:
    import torch  # here, not at the top: --help answers without it

    torch.set_num_threads(1)  # every engine here searches on one core
    rollout_sims, neural_sims, rounds = (2_000, 64, 3) if quick else (5_000, 128, 3)
    engines = {"ours": ours_rollout(rollout_sims), "open_spiel": open_spiel_rollout(rollout_sims)}
    neural = {b: ours_neural(b, neural_sims) for b in BATCHES}
    for search in (*engines.values(), *(s for s, _ in neural.values())):
        search(0)  # warm up: imports, first allocations
    best = dict.fromkeys([*engines, *neural], 0.0)
    for round_ in range(rounds):
        seed = 1 + round_
        for name, search in engines.items():
            best[name] = max(best[name], simulations_per_second(search, rollout_sims, seed))
        for b, (search, total) in neural.items():
            best[b] = max(best[b], simulations_per_second(search, total, seed))
    results: dict[str, dict[str, Any]] = {
        f"rollout/{SIZE}x{SIZE}": {
            "ours": best["ours"], "open_spiel": best["open_spiel"],
            "ratio": best["ours"] / best["open_spiel"], "unit": "sims/s",
            "simulations": rollout_sims,
        },
    }  # fmt: skip
    for b in BATCHES:
        results[f"neural/{SIZE}x{SIZE}/batch{b}"] = {
            "ours": best[b], "batch_1": best[1], "ratio": best[b] / best[1], "unit": "sims/s",
            "simulations": neural_sims,
        }  # fmt: skip
    return results


def show(results: dict[str, dict[str, Any]]) -> None:
    import torch

    print_table(
        results,
        "sims/s: simulations per second of wall time, best of rounds. rollout: ours / OpenSpiel "
        f"(target >= {ROLLOUT_TARGET:g}); neural: over batch 1 (target >= {BATCHING_TARGET:g}), "
        f"torch threads: {torch.get_num_threads()}",
        target=lambda r: ROLLOUT_TARGET if "open_spiel" in r else BATCHING_TARGET,
        number=lambda value, unit: f"{value:,.0f}",
        notes=("simulations",),
    )


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, show, description=__doc__, versions=("numpy", "torch", "open_spiel"),
                      argv=argv)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
