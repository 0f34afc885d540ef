#!/usr/bin/env python
"""Driving simulator speed, ours beside highway-env, in one process, on matched settings.

Cases (both envs made with ``gym.make``, uniformly random discrete meta-actions from a seeded
generator, resetting when an episode ends; steps per second of wall time over about a fixed
time, best of a few rounds, the two envs taking turns within each round):

- ``single/highway-v0``: our ``rlcourse/Highway-v0`` against highway-env's ``highway-v0``,
  both at highway-v0's defaults: 4 lanes, 50 other vehicles, 15 Hz simulation, 1 Hz policy,
  40 s episodes, Kinematics observation of 5 vehicles, discrete meta-actions.
- ``single/highway-fast-v0``: our ``rlcourse/HighwayFast-v0`` against ``highway-fast-v0``
  (3 lanes, 20 vehicles, 5 Hz simulation, 1 Hz policy, 30 s). highway-fast-v0 checks only
  the ego for collisions; ours checks every vehicle.
- ``batch<B>/highway-v0`` and ``batch<B>/highway-fast-v0``: env-steps per second of our batch
  API (:class:`envs.driving.DrivingBatch`, ``B`` scenes stepped together, finished scenes
  restarted) on the same settings, against the same single highway-env.

Ours steps the traffic (IDM, MOBIL, bicycle model, neighbours, collisions) and builds the
kinematics observation in the C extension ``envs.driving._sim``; the rest is numpy.

Ratio: ours / highway-env (target >= 100).

Usage: ``python scripts/bench_driving.py [--quick] [--json FILE]``
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the rlcourse/* ids)
from envs.driving import REGISTERED, DrivingBatch, DrivingConfig
from rlcourse.benchmarking import bench_main, print_table

TARGET = 100.0
BATCH = 256
MATCHED = {  # highway-env id -> our id
    "highway-v0": "rlcourse/Highway-v0",
    "highway-fast-v0": "rlcourse/HighwayFast-v0",
}
RATIO_NOTE = "ratio: ours / highway-env steps per second (target >= 100)"

Runner = Callable[[float, int], float]  # (seconds, seed) -> steps per second


def single_env(make: Callable[[], gym.Env]) -> Runner:
    env = make()
    env.reset(seed=0)

    def run(seconds: float, seed: int) -> float:
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        steps, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            _, _, terminated, truncated, _ = env.step(int(rng.integers(5)))
            steps += 1
            if terminated or truncated:
                env.reset()
        return steps / elapsed

    return run


def batch_env(config: DrivingConfig, scenes: int) -> Runner:
    batch = DrivingBatch(config, scenes, seed=0)
    batch.reset()

    def run(seconds: float, seed: int) -> float:
        rng = np.random.default_rng(seed)
        batch.reset(seed=seed)
        steps, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            batch.step(rng.integers(5, size=scenes))
            steps += scenes
        return steps / elapsed

    return run


def registered(env_id: str) -> Callable[[], gym.Env]:
    return lambda: gym.make(env_id)


def highway_env(env_id: str) -> Callable[[], gym.Env]:
    import highway_env  # noqa: F401  (registers highway-v0 and highway-fast-v0)

    return registered(env_id)


def best_rates(runners: dict[str, Runner], seconds: float, rounds: int) -> dict[str, float]:
    """Best steps per second of each runner over ``rounds`` rounds, taking turns."""
    best = dict.fromkeys(runners, 0.0)
    for round_ in range(rounds):
        for name, run in runners.items():
            best[name] = max(best[name], run(seconds, 1 + round_))
    return best


def run(quick: bool) -> dict[str, dict[str, Any]]:
    seconds, rounds = (4.0, 1) if quick else (20.0, 3)
    results: dict[str, dict[str, Any]] = {}
    for peer_id, our_id in MATCHED.items():
        config = DrivingConfig(**REGISTERED[our_id])
        runners = {
            "highway-env": single_env(highway_env(peer_id)),
            "single": single_env(registered(our_id)),
            "batch": batch_env(config, BATCH),
        }
        rates = best_rates(runners, seconds, rounds)
        peer = rates["highway-env"]
        for case, name in ((f"single/{peer_id}", "single"), (f"batch{BATCH}/{peer_id}", "batch")):
            results[case] = {
                "ours": rates[name], "highway-env": peer, "ratio": rates[name] / peer,
                "unit": "steps/s" if name == "single" else "env-steps/s",
            }  # fmt: skip
    return results


def show(results: dict[str, dict[str, Any]]) -> None:
    print_table(
        results,
        RATIO_NOTE,
        number=lambda value, unit: f"{value:,.1f}" if value < 100 else f"{value:,.0f}",
        target=lambda _case: TARGET,
    )


def main(argv: list[str] | None = None) -> int:
    return bench_main(run, show, description=__doc__, versions=("numpy", "highway-env"), argv=argv)


if __name__ == "__main__":
    sys.exit(main())
