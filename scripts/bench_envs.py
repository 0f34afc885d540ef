#!/usr/bin/env python
"""Gridworld speed, ours beside Gymnasium's toy-text envs, in one process.

Cases:
- ``steps/<id>``: steps per second with random actions (pre-drawn), every env made with
  ``gym.make`` (so with its wrappers), resetting when an episode ends; best of a few repeats.
  The ratio is ours / FrozenLake-v1 (target: >= 1/1.2, i.e. a step costs at most 1.2x
  FrozenLake's). The cliff case also lists Gymnasium's CliffWalking-v1.
- ``steps/frozen_lake_replica``: our GridWorld-v0 on FrozenLake's own 4x4 map and dynamics
  (same episodes, same 100-step limit) against FrozenLake-v1: the like-for-like step cost.
- ``mdp_build/maze100``: seconds to build the 10,000-state maze env and its TabularMDP
  (target: under 1 s).
- ``value_iteration/maze100``: seconds for ``agents.tabular.planning.value_iteration`` on the
  10,000-state maze, step reward -1, gamma = 1 (target: under 0.1 s).

Usage: ``python scripts/bench_envs.py [--quick] [--json FILE]``
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from rlcourse.benchmarking import bench_main, print_table

if TYPE_CHECKING:
    import gymnasium as gym

STEP_RATIO_TARGET = 1 / 1.2  # ours / FrozenLake-v1 steps per second
VI_TARGET_S = 0.1
BUILD_TARGET_S = 1.0
NOTES = ("states", "sweeps", "ms_per_sweep")  # extra numbers some cases report
RATIO_NOTE = (
    "ratio: ours / FrozenLake-v1 steps per second (target >= 0.83, i.e. a step costs at most "
    "1.2x FrozenLake's); for seconds, target / ours (target met when >= 1)."
)

# FrozenLake-v1's default 4x4 map and dynamics in our format: every cell slips (1/3 each to
# the intended move and the two perpendicular ones), holes and the goal end the episode.
FROZEN_LAKE_4X4 = """\
name: FrozenLake 4x4 replica
step_reward: 0
ice_slip: 2/3
hole_reward: 0
terminals: G=1
grid:
S~~~
~O~O
~~~O
O~~G
"""


def steps_per_second(make: Callable[[], gym.Env], n_steps: int, repeats: int) -> float:
    """Best-of-``repeats`` steps per second over ``n_steps`` random actions."""
    env = make()
    actions = np.random.default_rng(0).integers(env.action_space.n, size=n_steps).tolist()
    best = float("inf")
    for repeat in range(repeats):
        env.reset(seed=repeat)
        step, reset = env.step, env.reset
        started = time.perf_counter()
        for a in actions:
            _, _, terminated, truncated, _ = step(a)
            if terminated or truncated:
                reset()
        best = min(best, time.perf_counter() - started)
    env.close()
    return n_steps / best


def best_seconds(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def run(quick: bool) -> dict[str, dict[str, Any]]:
    # Imported here, not at the top, so that --help answers at once.
    import gymnasium as gym

    from agents.tabular.planning import value_iteration
    from envs.gridworld import REGISTERED, GridWorldEnv, TabularMDP, parse_map  # registers ids

    n_steps, repeats = (20_000, 3) if quick else (200_000, 5)
    results: dict[str, dict[str, Any]] = {}
    frozen = steps_per_second(lambda: gym.make("FrozenLake-v1"), n_steps, repeats)
    cliff_peer = steps_per_second(lambda: gym.make("CliffWalking-v1"), n_steps, repeats)
    for env_id in sorted(REGISTERED):
        kwargs = {"map": "cliff"} if env_id == "rlcourse/GridWorld-v0" else {}
        ours = steps_per_second(lambda i=env_id, k=kwargs: gym.make(i, **k), n_steps, repeats)
        case: dict[str, Any] = {"ours": ours, "FrozenLake-v1": frozen}
        if env_id == "rlcourse/CliffWalking-v0":
            case["CliffWalking-v1"] = cliff_peer
        case.update(ratio=ours / frozen, unit="steps/s")
        results[f"steps/{env_id.removeprefix('rlcourse/')}"] = case

    replica = parse_map(FROZEN_LAKE_4X4, source="FrozenLake 4x4 replica")
    ours = steps_per_second(
        lambda: gym.make("rlcourse/GridWorld-v0", map=replica, max_episode_steps=100),
        n_steps,
        repeats,
    )
    frozen_again = steps_per_second(lambda: gym.make("FrozenLake-v1"), n_steps, repeats)
    results["steps/frozen_lake_replica"] = {
        "ours": ours, "FrozenLake-v1": frozen_again, "ratio": ours / frozen_again,
        "unit": "steps/s",
    }  # fmt: skip

    build_s, mdp = best_seconds(
        lambda: TabularMDP.from_env(GridWorldEnv("maze100")), 3 if quick else 5
    )
    results["mdp_build/maze100"] = {
        "ours": build_s, "target": BUILD_TARGET_S, "ratio": BUILD_TARGET_S / build_s,
        "unit": "s",
    }  # fmt: skip
    vi_s, solution = best_seconds(lambda: value_iteration(mdp, gamma=1.0), 3 if quick else 5)
    sweeps = int(solution[2]) if len(solution) > 2 else None  # (V, policy[, sweeps])
    results["value_iteration/maze100"] = {
        "ours": vi_s, "target": VI_TARGET_S, "ratio": VI_TARGET_S / vi_s, "unit": "s",
        "states": mdp.n_states, "sweeps": sweeps,
        "ms_per_sweep": 1e3 * vi_s / sweeps if sweeps else None,
    }  # fmt: skip
    return results


def _fmt(x: float, unit: str) -> str:
    return f"{x:,.0f}" if unit == "steps/s" else f"{x:.4f}"


def _target(case: dict[str, Any]) -> float:
    return STEP_RATIO_TARGET if case["unit"] == "steps/s" else 1.0


def show(results: dict[str, dict[str, Any]]) -> None:
    print_table(results, RATIO_NOTE, number=_fmt, target=_target, notes=NOTES)


def main(argv: list[str] | None = None) -> int:
    return bench_main(
        run, show, description=__doc__, versions=("gymnasium", "numpy"),
        quick_help="reduced run (a few seconds)", argv=argv,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
