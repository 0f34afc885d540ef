"""Evaluation spread over Ray workers, with the local evaluator's statistics.

`evaluate_distributed` splits N episodes into contiguous blocks, one Ray task per block.
Episode i is reset with seed ``seed + i`` whichever worker plays it, and the outcomes are put
back in episode order before they are summarised, so a policy that acts deterministically gets
exactly the numbers `rlcourse.evaluation.evaluate` gives on one process: the same returns,
lengths, metrics and confidence interval.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from rlcourse.evaluation import EvalResult, evaluate, summarise


class EpisodeOutcome(NamedTuple):
    ret: float
    length: int
    metrics: dict[str, float]  # the numeric entries of the final step's info


def play_episodes(
    policy: Any,
    env_factory: Callable[[], Any],
    seeds: Sequence[int],
    deterministic: bool = True,
    max_steps: int | None = None,
) -> list[EpisodeOutcome]:
    """One episode per seed, each reset with that seed, on one env made here."""
    env = env_factory()
    try:
        outcomes = []
        for seed in seeds:
            one = evaluate(
                policy, env, 1, seed=seed, deterministic=deterministic, max_steps=max_steps
            )
            outcomes.append(EpisodeOutcome(one.returns[0], one.lengths[0], one.metrics))
        return outcomes
    finally:
        env.close()


def evaluate_distributed(
    policy: Any,
    env_factory: Callable[[], Any],
    episodes: int,
    seed: int = 0,
    deterministic: bool = True,
    max_steps: int | None = None,
    workers: int = 2,
) -> EvalResult:
    """`evaluate` with the episodes spread over `workers` Ray tasks on the running cluster.

    `policy` (an agent or a plain ``(obs, info) -> action`` function) and `env_factory` are
    sent to the workers, so both must pickle; an env factory that builds from a Gymnasium
    ``EnvSpec`` (``functools.partial(gym.make, gym.spec(id))``) needs no registration there.
    """
    import ray

    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if not ray.is_initialized():
        raise RuntimeError("no Ray cluster: call ray.init() (or ray.init(address='auto')) first")
    play = ray.remote(num_cpus=1)(play_episodes)
    policy_ref = ray.put(policy)
    blocks = [b for b in np.array_split(np.arange(episodes), workers) if len(b)]
    pending = [
        play.remote(
            policy_ref, env_factory, [seed + int(i) for i in block], deterministic, max_steps
        )
        for block in blocks
    ]
    outcomes = [o for block in ray.get(pending) for o in block]  # episode order
    metrics: dict[str, list[float]] = {}
    for outcome in outcomes:
        for key, value in outcome.metrics.items():
            metrics.setdefault(key, []).append(value)
    return summarise([o.ret for o in outcomes], [o.length for o in outcomes], metrics)


# ----------------------------------------------------------------------------- the cluster

#: Ray's own chatter kept out of the terminal: repeated worker lines folded into one, and
#: (through start_ray) Python warnings below errors, in the driver and in every worker.
QUIET_RAY = {"RAY_DEDUP_LOGS": "1"}


def start_ray(address: str | None = None, num_cpus: int | None = None) -> str:
    """Join the cluster at ``address`` (``auto``, ``host:port``) or start a local one of
    ``num_cpus`` CPUs, quietly (no dashboard; Ray's warnings and INFO lines silenced, its
    errors kept), and return the one line that says which."""
    import logging
    import os

    import ray

    for key, value in QUIET_RAY.items():
        os.environ.setdefault(key, value)
    quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": True,
                             "logging_config": ray.LoggingConfig(log_level="ERROR"),
                             "runtime_env": {"env_vars": dict(QUIET_RAY)}}  # fmt: skip
    if address is not None:
        ray.init(address=address, **quiet)
        where = f"joined the Ray cluster at {address}"
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, **quiet)
        where = "started a local Ray cluster"
    cpus = int(ray.cluster_resources().get("CPU", 0))
    return f"{where} ({cpus} CPUs)"


class CapturedStderr:
    """What a :func:`captured_stderr` block wrote to file descriptor 2, once the block ended."""

    data: bytes = b""


@contextlib.contextmanager
def captured_stderr() -> Iterator[CapturedStderr]:
    """Run the block with this process's stderr (file descriptor 2, where Ray's C++ core writes
    past Python's logging, and ``sys.stderr`` alike) going to a temporary file; the bytes are in
    the yielded holder when the block ends, also when it raises."""
    captured = CapturedStderr()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            captured.data = held.read()


@contextlib.contextmanager
def stderr_without(*notices: str) -> Iterator[None]:
    """Run the block with this process's stderr held back (:func:`captured_stderr`), then write
    it out without the lines that contain one of `notices`: nothing else is lost, only delayed,
    also when the block raises."""
    captured = CapturedStderr()
    try:
        with captured_stderr() as captured:
            yield
    finally:  # fd 2 is the terminal again here
        os.write(2, _without(captured.data, notices))


def _without(data: bytes, notices: tuple[str, ...]) -> bytes:
    lines = data.splitlines(keepends=True)
    return b"".join(line for line in lines if not any(n.encode() in line for n in notices))
