#!/usr/bin/env python
"""Replay buffer speed and memory, ours beside Stable-Baselines3's and RLlib's, in one process.

Every case stores 84x84 uint8 frames from one env with 1000-step episodes, unless its name
says otherwise, in buffers of capacity 100,000 (``--quick``: 10,000) that have been filled once,
so adds evict old data.

Cases (the first peer named is the one the ratio uses; bigger ratios are better for us):
- ``add/uniform``: transitions added per second; ours (n_step=1) against SB3's
  ``ReplayBuffer`` (``sb3``) and the same with ``optimize_memory_usage=True``.
- ``add/uniform_nstep3``: the same with n_step=3, against SB3's ``NStepReplayBuffer`` (which
  adds as its ``ReplayBuffer`` does and sums the n steps when sampling).
- ``add/uniform_8envs``: one add per step of 8 envs, transitions per second.
- ``add/box4``, ``add/box4_nstep3``: CartPole-sized observations (4 float32) with 200-step
  episodes, n_step=1 and 3, against SB3's ``ReplayBuffer`` and ``NStepReplayBuffer``.
- ``sample/uniform_64``: microseconds per batch of 64 as torch tensors (ours: ``sample`` then
  ``torch.from_numpy`` on each array; SB3's ``sample`` returns tensors itself).
- ``memory/uniform``: bytes per stored transition, counted from the arrays' ``nbytes``.
- ``add/prioritized``, ``sample/prioritized_64``, ``update_priorities/64``: ours against
  RLlib's ``PrioritizedReplayBuffer`` (one ``SampleBatch`` per step, sampling with weights).
- ``sum_tree/sample_64``, ``sum_tree/update_64``: the trees alone at capacity 100,000 in both
  modes: 64 stratified prefix-sum searches, and 64 priority updates (sum and min trees), against
  RLlib's ``SumSegmentTree``/``MinSegmentTree``; the search also against its 100 us target.

Usage: ``python scripts/bench_buffers.py [--quick] [--json FILE]``
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from rlcourse.benchmarking import bench_main, print_table

if TYPE_CHECKING:
    import gymnasium as gym
    import torch

    from rlcourse.replay import ReplayBuffer

FRAME_SHAPE = (84, 84)
EPISODE_LENGTH = 1000
BOX_SHAPE = (4,)  # CartPole's observation
BOX_EPISODE_LENGTH = 200
MANY_ENVS = 8
N_STEP = 3
BATCH = 64
TREE_CAPACITY = 100_000
TREE_SEARCH_TARGET_US = 100.0
N_ACTIONS = 4  # discrete actions of the stored transitions
RATIO_NOTE = (
    "ratio: ours against the first peer listed, oriented so that > 1 favours ours "
    "(peer / ours for times and bytes, ours / peer for rates)."
)


# The spaces are made when a case runs: gymnasium, torch and the buffers are imported there,
# not at the top, so that --help answers at once.


def frame_space() -> gym.spaces.Box:
    """84x84 uint8 frames."""
    import gymnasium as gym

    return gym.spaces.Box(0, 255, FRAME_SHAPE, np.uint8)


def box_space() -> gym.spaces.Box:
    """CartPole-sized float32 observations."""
    import gymnasium as gym

    return gym.spaces.Box(-np.inf, np.inf, BOX_SHAPE, np.float32)


def action_space() -> gym.spaces.Discrete:
    import gymnasium as gym

    return gym.spaces.Discrete(N_ACTIONS)


class Stream:
    """Pre-made observations, actions and rewards of `num_envs` envs, replayed in a cycle (no
    RNG cost while timed); every env's episodes end together, every `episode_length` steps.
    The observations fill `space` (default: :func:`frame_space`)."""

    def __init__(
        self, num_envs: int = 1, space: gym.spaces.Box | None = None,
        episode_length: int = EPISODE_LENGTH, seed: int = 0, frames: int = 257,
    ):  # fmt: skip
        space = frame_space() if space is None else space
        rng = np.random.default_rng(seed)
        shape = (frames, num_envs, *space.shape)
        if space.dtype == np.uint8:
            self.frames = rng.integers(0, 256, size=shape, dtype=np.uint8)
        else:
            self.frames = rng.normal(size=shape).astype(space.dtype)
        self.actions = rng.integers(0, N_ACTIONS, size=(frames, num_envs))
        self.rewards = rng.normal(size=(frames, num_envs))
        self.num_envs, self.space, self.episode_length = num_envs, space, episode_length

    def step(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
        """obs, action, reward, next_obs and whether the episodes end, at step t."""
        n = len(self.frames)
        ended = t % self.episode_length == self.episode_length - 1
        return (self.frames[t % n], self.actions[t % n], self.rewards[t % n],
                self.frames[(t + 1) % n], ended)  # fmt: skip


def best_us(fn: Callable[[], Any], calls: int, repeats: int) -> float:
    """Best-of-`repeats` microseconds per call over `calls` calls."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - started) / calls)
    return best * 1e6


def adds_per_second(add: Callable[[int], None], start: int, count: int, repeats: int) -> float:
    best = float("inf")
    for repeat in range(repeats):
        first = start + repeat * count
        started = time.perf_counter()
        for t in range(first, first + count):
            add(t)
        best = min(best, time.perf_counter() - started)
    return count / best


# -- ours ------------------------------------------------------------------------------------


def ours_adder(buffer: ReplayBuffer, stream: Stream) -> Callable[[int], None]:
    done, running = np.ones(stream.num_envs, bool), np.zeros(stream.num_envs, bool)

    def add(t: int) -> None:
        obs, action, reward, next_obs, ended = stream.step(t)
        buffer.add(obs, action, reward, next_obs, done if ended else running, running)

    return add


def as_tensors(batch: Any) -> list[torch.Tensor]:
    import torch

    return [torch.from_numpy(field) for field in batch if isinstance(field, np.ndarray)]


# -- Stable-Baselines3 -----------------------------------------------------------------------


def sb3_buffer(
    capacity: int, optimize_memory_usage: bool, space: gym.spaces.Box | None = None,
    num_envs: int = 1, n_step: int = 1,
) -> Any:  # fmt: skip
    """SB3's buffer of `space` (default: :func:`frame_space`)."""
    from stable_baselines3.common.buffers import NStepReplayBuffer
    from stable_baselines3.common.buffers import ReplayBuffer as SB3Buffer

    space, actions = frame_space() if space is None else space, action_space()

    if n_step > 1:  # it stores no more than SB3Buffer does: the n steps are summed when sampled
        return NStepReplayBuffer(
            capacity, space, actions, device="cpu", n_envs=num_envs, n_steps=n_step
        )
    return SB3Buffer(
        capacity, space, actions, device="cpu", n_envs=num_envs,
        optimize_memory_usage=optimize_memory_usage,
        handle_timeout_termination=not optimize_memory_usage,
    )  # fmt: skip


def sb3_adder(buffer: Any, stream: Stream) -> Callable[[int], None]:
    infos: list[dict[str, Any]] = [{} for _ in range(stream.num_envs)]
    done, running = np.ones(stream.num_envs, bool), np.zeros(stream.num_envs, bool)

    def add(t: int) -> None:
        obs, action, reward, next_obs, ended = stream.step(t)
        buffer.add(obs, next_obs, action, reward, done if ended else running, infos)

    return add


def sb3_bytes(buffer: Any) -> int:
    names = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")
    return sum(getattr(buffer, name).nbytes for name in names if hasattr(buffer, name))


# -- RLlib -----------------------------------------------------------------------------------


def rllib_adder(buffer: Any, stream: Stream) -> Callable[[int], None]:
    from ray.rllib.policy.sample_batch import SampleBatch

    def add(t: int) -> None:
        obs, action, reward, next_obs, ended = stream.step(t)
        buffer.add(
            SampleBatch(
                obs=obs, actions=action, rewards=reward.astype(np.float32), new_obs=next_obs,
                terminateds=np.array([ended]),
            )
        )  # fmt: skip

    return add


def rllib_trees(values: np.ndarray) -> tuple[Any, Any]:
    from ray.rllib.execution.segment_tree import MinSegmentTree, SumSegmentTree

    size = 1 << (len(values) - 1).bit_length()
    sum_tree, min_tree = SumSegmentTree(size), MinSegmentTree(size)
    sums, mins = np.zeros(2 * size), np.full(2 * size, np.inf)
    sums[size : size + len(values)] = mins[size : size + len(values)] = values
    for node in range(size - 1, 0, -1):  # build every level at once, not leaf by leaf
        sums[node] = sums[2 * node] + sums[2 * node + 1]
        mins[node] = min(mins[2 * node], mins[2 * node + 1])
    sum_tree.set_state(sums.tolist())
    min_tree.set_state(mins.tolist())
    return sum_tree, min_tree


# -- cases -----------------------------------------------------------------------------------


def uniform_cases(capacity: int, adds: int, samples: int, repeats: int) -> dict[str, Any]:
    from rlcourse.replay import ReplayBuffer

    stream = Stream()
    add_rate, sample_us, nbytes = {}, {}, {}
    makers = {
        "ours": lambda: ReplayBuffer(capacity, stream.space, seed=0),
        "sb3": lambda: sb3_buffer(capacity, optimize_memory_usage=False),
        "sb3_optimized": lambda: sb3_buffer(capacity, optimize_memory_usage=True),
    }
    for name, make in makers.items():
        buffer = make()
        add = ours_adder(buffer, stream) if name == "ours" else sb3_adder(buffer, stream)
        for t in range(capacity):
            add(t)
        add_rate[name] = adds_per_second(add, capacity, adds, repeats)
        if name == "ours":
            sample_us[name] = best_us(lambda b=buffer: as_tensors(b.sample(BATCH)), samples,
                                      repeats)  # fmt: skip
            nbytes[name] = buffer.nbytes / capacity
        else:
            sample_us[name] = best_us(lambda b=buffer: b.sample(BATCH), samples, repeats)
            nbytes[name] = sb3_bytes(buffer) / capacity
        del buffer, add
        gc.collect()
    return {
        "add/uniform": {**add_rate, "ratio": add_rate["ours"] / add_rate["sb3"],
                        "unit": "transitions/s"},
        "sample/uniform_64": {**sample_us, "ratio": sample_us["sb3"] / sample_us["ours"],
                              "unit": "us"},
        "memory/uniform": {**nbytes, "ratio": nbytes["sb3"] / nbytes["ours"],
                           "unit": "bytes/transition"},
    }  # fmt: skip


def more_add_cases(capacity: int, adds: int, repeats: int) -> dict[str, Any]:
    """Adds per second in more settings: n-step windows, 8 envs, CartPole-sized observations."""
    from rlcourse.replay import ReplayBuffer

    box: dict[str, Any] = {"space": box_space(), "episode_length": BOX_EPISODE_LENGTH}
    cases: dict[str, tuple[dict[str, Any], int]] = {  # case: the stream's settings, n_step
        "add/uniform_nstep3": ({}, N_STEP),
        "add/uniform_8envs": ({"num_envs": MANY_ENVS}, 1),
        "add/box4": (box, 1),
        "add/box4_nstep3": (box, N_STEP),
    }
    results: dict[str, Any] = {}
    for case, (stream_settings, n_step) in cases.items():
        stream = Stream(**stream_settings)
        num_envs, space = stream.num_envs, stream.space
        rates: dict[str, float] = {}
        for name in ("ours", "sb3"):
            if name == "ours":
                buffer: Any = ReplayBuffer(
                    capacity, space, num_envs=num_envs, n_step=n_step, seed=0
                )
                add = ours_adder(buffer, stream)
            else:
                buffer = sb3_buffer(capacity, False, space, num_envs, n_step)  # split by env
                add = sb3_adder(buffer, stream)
            for t in range(capacity // num_envs):
                add(t)
            start, calls = capacity // num_envs, adds // num_envs
            rates[name] = num_envs * adds_per_second(add, start, calls, repeats)
            del buffer, add
            gc.collect()
        results[case] = {**rates, "ratio": rates["ours"] / rates["sb3"], "unit": "transitions/s"}
    return results


def prioritized_cases(capacity: int, adds: int, samples: int, repeats: int) -> dict[str, Any]:
    from ray.rllib.utils.replay_buffers.prioritized_replay_buffer import (
        PrioritizedReplayBuffer as RLlibPrioritizedReplayBuffer,
    )

    from rlcourse.replay import PrioritizedReplayBuffer

    stream = Stream()
    td_errors = np.random.default_rng(1).random(BATCH) + 0.01
    results: dict[str, dict[str, float]] = {"add": {}, "sample": {}, "update": {}}
    for name in ("ours", "rllib"):
        if name == "ours":
            buffer: Any = PrioritizedReplayBuffer(capacity, stream.space, alpha=0.6, seed=0)
            add = ours_adder(buffer, stream)
        else:
            buffer = RLlibPrioritizedReplayBuffer(capacity=capacity, alpha=0.6)
            add = rllib_adder(buffer, stream)
        for t in range(capacity):
            add(t)
        results["add"][name] = adds_per_second(add, capacity, adds, repeats)
        if name == "ours":
            results["sample"][name] = best_us(lambda b=buffer: b.sample(BATCH), samples, repeats)
            indices = buffer.sample(BATCH).indices
            results["update"][name] = best_us(
                lambda b=buffer, i=indices: b.update_priorities(i, td_errors), samples, repeats
            )
        else:
            results["sample"][name] = best_us(
                lambda b=buffer: b.sample(BATCH, beta=0.4), samples, repeats
            )
            indices = buffer.sample(BATCH, beta=0.4)["batch_indexes"]
            results["update"][name] = best_us(
                lambda b=buffer, i=indices: b.update_priorities(i, td_errors), samples, repeats
            )
        del buffer, add
        gc.collect()
    add, sample, update = results["add"], results["sample"], results["update"]
    return {
        "add/prioritized": {**add, "ratio": add["ours"] / add["rllib"],
                            "unit": "transitions/s"},
        "sample/prioritized_64": {**sample, "ratio": sample["rllib"] / sample["ours"],
                                  "unit": "us"},
        "update_priorities/64": {**update, "ratio": update["rllib"] / update["ours"],
                                 "unit": "us"},
    }  # fmt: skip


def tree_cases(calls: int, repeats: int) -> dict[str, Any]:
    from rlcourse.replay import SumTree

    rng = np.random.default_rng(2)
    values = rng.random(TREE_CAPACITY) + 1e-3
    ours = SumTree(TREE_CAPACITY)
    ours.update(np.arange(TREE_CAPACITY), values)
    rllib_sum, rllib_min = rllib_trees(values)

    def rllib_stratified() -> list[int]:
        segment = rllib_sum.sum() / BATCH
        return [rllib_sum.find_prefixsum_idx((i + rng.random()) * segment) for i in range(BATCH)]

    indices = rng.integers(0, TREE_CAPACITY, size=BATCH)
    new_values = rng.random(BATCH) + 1e-3

    def rllib_update() -> None:
        for index, value in zip(indices.tolist(), new_values.tolist(), strict=True):
            rllib_sum[index] = value
            rllib_min[index] = value

    search = {"ours": best_us(lambda: ours.sample(rng, BATCH), calls, repeats),
              "rllib": best_us(rllib_stratified, calls, repeats)}  # fmt: skip
    update = {"ours": best_us(lambda: ours.update(indices, new_values), calls, repeats),
              "rllib": best_us(rllib_update, calls, repeats)}  # fmt: skip
    return {
        "sum_tree/sample_64": {**search, "target": TREE_SEARCH_TARGET_US,
                               "ratio": search["rllib"] / search["ours"], "unit": "us"},
        "sum_tree/update_64": {**update, "ratio": update["rllib"] / update["ours"],
                               "unit": "us"},
    }  # fmt: skip


def run(quick: bool) -> dict[str, dict[str, Any]]:
    capacity, adds, samples, repeats = (
        (10_000, 5_000, 200, 3) if quick else (100_000, 20_000, 1_000, 5)
    )
    import torch

    torch.set_num_threads(1)
    results = tree_cases(samples, repeats)
    results.update(uniform_cases(capacity, adds, samples, repeats))
    results.update(more_add_cases(capacity, adds, repeats))
    results.update(prioritized_cases(capacity, adds, samples, repeats))
    return results


def _fmt(x: float, unit: str) -> str:
    return f"{x:,.0f}" if unit in {"transitions/s", "bytes/transition"} else f"{x:,.1f}"


def show(results: dict[str, dict[str, Any]]) -> None:
    print_table(results, RATIO_NOTE, number=_fmt)


def main(argv: list[str] | None = None) -> int:
    versions = ("numpy", "torch", "stable-baselines3", "ray")
    return bench_main(run, show, description=__doc__, versions=versions, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
