#!/usr/bin/env python
"""Driving simulator speed, ours beside highway-env and EnvPool, in one process, on matched
settings.

Every env takes uniformly random discrete meta-actions from a seeded generator; steps per
second of wall time over about a fixed time, repeated over a few rounds in which the envs
take turns; the table gives the best round, and ``spread_*`` (max - min) / max over rounds.

Settings matched on every side: highway-v0's defaults (4 lanes, 50 other vehicles, 15 Hz
simulation, 1 Hz policy, 40 s episodes, a Kinematics observation of 5 vehicles, 5 discrete
meta-actions) and highway-fast-v0's (3 lanes, 20 vehicles, 5 Hz simulation, 30 s).
What differs: our kinematics rows have 7 features (presence, x, y, vx, vy, cos_h, sin_h),
highway-env's and EnvPool's 5 (no heading); ours checks every vehicle for collisions, where
highway-fast-v0 (highway-env's and EnvPool's) checks only the ego's.

Cases:

- ``single/<id>``: our one env (``gym.make("rlcourse/Highway-v0")`` or
  ``rlcourse/HighwayFast-v0``, resetting when an episode ends) against highway-env's one env.
  Ratio: ours / highway-env (target >= 100).
- ``batch<B>/<id>``: env-steps per second of our batch API (:class:`envs.driving.DrivingBatch`,
  ``B`` scenes stepped together, finished scenes restarted) against highway-env's one env.
  Ratio: ours / highway-env (target >= 100).
- ``envpool/single/<id>``: our one env against EnvPool's C++ port (``envpool.make_gymnasium``
  with ``num_envs=1, num_threads=1``). Ratio: ours / EnvPool (target >= 1).
- ``envpool/batch<B>/<id>``: our batch against EnvPool with ``num_envs=B, num_threads=1``.
  Ratio: ours / EnvPool (target >= 1).

EnvPool restarts a finished episode on the next ``step``, which returns the new episode's
first observation and ignores its action: such steps are not counted. Ours and highway-env
run in this process's thread; EnvPool in its one worker thread while this one waits. Rows of
a peer that cannot be imported are skipped with one line saying so.

Usage: ``python scripts/bench_driving.py [--quick] [--json FILE]``
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from rlcourse.benchmarking import bench_main, import_peer, print_table, spread, taking_turns

HIGHWAY_ENV_TARGET = 100.0
ENVPOOL_TARGET = 1.0
BATCH = 256
MATCHED = {  # highway-env id -> (our id, EnvPool's id)
    "highway-v0": ("rlcourse/Highway-v0", "Highway-v0"),
    "highway-fast-v0": ("rlcourse/HighwayFast-v0", "HighwayFast-v0"),
}
RATIO_NOTE = (
    "ratio: ours / the case's peer, steps per second (target >= 100 against highway-env, "
    ">= 1 against EnvPool); spread: (max - min) / max over rounds"
)

Runner = Callable[[int], float]  # round -> steps per second over that round

if TYPE_CHECKING:
    import gymnasium as gym

    from envs.driving import DrivingConfig


def single_env(make: Callable[[], gym.Env], seconds: float) -> Runner:
    env = make()
    env.reset(seed=0)

    def run(round_: int) -> float:
        rng = np.random.default_rng(1 + round_)
        env.reset(seed=1 + round_)
        steps, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            _, _, terminated, truncated, _ = env.step(int(rng.integers(5)))
            steps += 1
            if terminated or truncated:
                env.reset()
        return steps / elapsed

    return run


def batch_env(config: DrivingConfig, scenes: int, seconds: float) -> Runner:
    from envs.driving import DrivingBatch

    batch = DrivingBatch(config, scenes, seed=0)
    batch.reset()

    def run(round_: int) -> float:
        rng = np.random.default_rng(1 + round_)
        batch.reset(seed=1 + round_)
        steps, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            batch.step(rng.integers(5, size=scenes))
            steps += scenes
        return steps / elapsed

    return run


def envpool_env(envpool: Any, env_id: str, num_envs: int, seconds: float) -> Runner:
    env = envpool.make_gymnasium(env_id, num_envs=num_envs, num_threads=1, seed=0)
    env.reset()

    def run(round_: int) -> float:
        rng = np.random.default_rng(1 + round_)
        steps, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            _, _, _, _, info = env.step(rng.integers(5, size=num_envs))
            steps += int(np.count_nonzero(info["elapsed_step"]))  # 0: a restart, no step
        return steps / elapsed

    return run


def registered(env_id: str) -> Callable[[], gym.Env]:
    import gymnasium as gym

    return lambda: gym.make(env_id)


def run(quick: bool) -> dict[str, dict[str, Any]]:
    # Imported here, not at the top, so that --help answers at once.
    from envs.driving import REGISTERED, DrivingConfig  # importing envs registers the ids

    seconds, rounds = (2.0, 2) if quick else (10.0, 5)
    highway_env = import_peer("highway_env", "highway-env")  # registers highway-v0, ...
    envpool = import_peer("envpool", "envpool")
    results: dict[str, dict[str, Any]] = {}
    for peer_id, (our_id, envpool_id) in MATCHED.items():
        runners: dict[str, Runner] = {
            "single": single_env(registered(our_id), seconds),
            "batch": batch_env(DrivingConfig(**REGISTERED[our_id]), BATCH, seconds),
        }
        if highway_env is not None:
            runners["highway-env"] = single_env(registered(peer_id), seconds)
        if envpool is not None:
            runners["envpool-single"] = envpool_env(envpool, envpool_id, 1, seconds)
            runners["envpool-batch"] = envpool_env(envpool, envpool_id, BATCH, seconds)
        rates = taking_turns(runners, rounds)
        cases = {
            f"single/{peer_id}": ("single", "highway-env", "highway-env"),
            f"batch{BATCH}/{peer_id}": ("batch", "highway-env", "highway-env"),
            f"envpool/single/{peer_id}": ("single", "envpool", "envpool-single"),
            f"envpool/batch{BATCH}/{peer_id}": ("batch", "envpool", "envpool-batch"),
        }
        for case, (ours, peer, peer_runner) in cases.items():
            if peer_runner not in rates:
                continue
            mine, theirs = max(rates[ours]), max(rates[peer_runner])
            results[case] = {
                "ours": mine, peer: theirs, "ratio": mine / theirs,
                "unit": "steps/s" if ours == "single" else "env-steps/s",
                "spread_ours": spread(rates[ours]), "spread_peer": spread(rates[peer_runner]),
            }  # fmt: skip
    return results


def target(case: Mapping[str, Any]) -> float:
    return ENVPOOL_TARGET if "envpool" in case else HIGHWAY_ENV_TARGET


def show(results: dict[str, dict[str, Any]]) -> None:
    print_table(
        results,
        RATIO_NOTE,
        number=lambda value, unit: f"{value:,.1f}" if value < 100 else f"{value:,.0f}",
        target=target,
        notes=("spread_ours", "spread_peer"),
    )


def main(argv: list[str] | None = None) -> int:
    versions = ("numpy", "highway-env", "envpool")
    return bench_main(run, show, description=__doc__, versions=versions, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
