"""Run directories, TensorBoard scalars, the progress bar, atomic checkpoints and resume.

A run lives in ``<runs_dir>/<config name>/<timestamp>/``::

    config.yaml          the fully resolved config
    events.out.tfevents  TensorBoard scalars (episode/return, episode/length, train/*, eval/*)
    checkpoints/         step_<N>.pt, written to a temp file and renamed; `latest` names the newest
    eval.json            the final evaluation (written by the trainer)

Learners drive a `Run` with `begin()` (restores a checkpoint when resuming), `end_episode()`
after every episode (logging, progress, evaluation and checkpoints when due) and `close()`.
A checkpoint holds the learner's state, the env's random-generator state and the counters, so a
resumed run continues exactly as if it had never stopped.
"""

from __future__ import annotations

import copy
import datetime as _dt
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import cloudpickle
import numpy as np

from rlcourse.config import ExperimentConfig

CHECKPOINT_DIR = "checkpoints"
LATEST = "latest"
KEEP_CHECKPOINTS = 3

EnvSnapshot = Literal["rng", "full", "none"]


class Stateful(Protocol):
    """What a learner must offer to be checkpointed."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


def make_run_dir(config: ExperimentConfig, root: str | Path | None = None) -> Path:
    """A fresh, unique ``runs/<name>/<timestamp>`` directory."""
    base = Path(root if root is not None else config.train.runs_dir) / config.name
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for suffix in [""] + [f"-{i}" for i in range(1, 1000)]:
        path = base / f"{stamp}{suffix}"
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a run directory under {base}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save_state(path: Path, state: Mapping[str, Any]) -> None:
    """Atomically pickle a checkpoint dict (torch format, so tensors and arrays both fit)."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_state(path: str | Path) -> dict[str, Any]:
    import torch

    return torch.load(path, map_location="cpu", weights_only=False)


def env_rng_state(env: Any) -> dict[str, Any]:
    """The bit-generator state of an env's `np_random` (what its next reset will draw)."""
    return copy.deepcopy(env.unwrapped.np_random.bit_generator.state)


def set_env_rng_state(env: Any, state: Mapping[str, Any]) -> None:
    env.unwrapped.np_random.bit_generator.state = copy.deepcopy(dict(state))


class Run:
    """One training run: its directory, logger, progress bar, budget and checkpoints."""

    def __init__(
        self,
        config: ExperimentConfig,
        directory: Path,
        *,
        resume: bool = False,
        progress: bool | None = None,
    ):
        self.config = config
        self.dir = Path(directory)
        self.checkpoint_dir = self.dir / CHECKPOINT_DIR
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.seed = config.train.seed
        self.total_steps = config.train.steps
        self.total_episodes = config.train.episodes
        self.step = 0
        self.episode = 0
        self.resumed_from: Path | None = None
        self._resume = resume
        self.show_progress = sys.stderr.isatty() if progress is None else progress
        self._last_checkpoint_step = 0
        self._last_eval_step = 0
        self._writer: Any = None
        self._bar: Any = None
        # Steps per second are measured between points where steps were counted (advance /
        # end_episode), so episodes ending inside one vector rollout do not read a rate of 0.
        self._clock = time.perf_counter()
        self._clock_step = 0
        self._counted = (0, self._clock)  # (step, time) when steps were last counted
        self._learner: Stateful | None = None
        self._env: Any = None
        self._env_snapshot: EnvSnapshot = "rng"
        self.evaluate_fn: Callable[[], Mapping[str, float]] | None = None
        self.history: list[tuple[int, float, int]] = []  # (step, return, length) per episode
        if not resume:
            (self.dir / "config.yaml").write_text(config.to_yaml())

    # ------------------------------------------------------------------ construction

    @classmethod
    def create(cls, config: ExperimentConfig, **kwargs: Any) -> Run:
        return cls(config, make_run_dir(config), **kwargs)

    @classmethod
    def open(cls, directory: str | Path, config: ExperimentConfig, **kwargs: Any) -> Run:
        """Reopen an existing run directory to resume it."""
        directory = Path(directory)
        if latest_checkpoint(directory) is None:
            raise FileNotFoundError(f"{directory} has no checkpoint to resume from")
        return cls(config, directory, resume=True, **kwargs)

    # ------------------------------------------------------------------ budget

    @property
    def finished(self) -> bool:
        steps_done = self.total_steps is not None and self.step >= self.total_steps
        episodes_done = self.total_episodes is not None and self.episode >= self.total_episodes
        return steps_done or episodes_done

    # ------------------------------------------------------------------ life cycle

    @property
    def resumed(self) -> bool:
        return self._resume

    def begin(self, learner: Stateful, env: Any, env_snapshot: EnvSnapshot = "rng") -> Any:
        """Attach the learner and its env; restore both from the latest checkpoint if resuming.

        Returns the env to use from now on. Two ways to checkpoint the env:

        - "rng" (episode-based learners, which checkpoint between episodes): only the env's
          random generator is saved. The env is reset here with the run's seed (before its
          generator is restored when resuming): call `env.reset()` without a seed to start
          each episode.
        - "full" (step-based learners, which checkpoint mid-episode): the whole env (a vector
          env included) is pickled into the checkpoint and a resumed run gets the unpickled
          env back. Nothing is reset here: on a fresh run (`not run.resumed`) reset it with
          `seed=run.seed` yourself.
        - "none" (envs that cannot be pickled, such as an `AsyncVectorEnv`'s subprocesses):
          nothing of the env is saved or restored, and nothing is reset here; the learner
          resets it itself, also when resuming (its unfinished episodes are then dropped).
        """
        self._env_snapshot = env_snapshot
        if env_snapshot == "rng":
            env.reset(seed=self.seed)
        purge_step = None
        if self._resume:
            path = latest_checkpoint(self.dir)
            assert path is not None
            state = load_state(path)
            learner.load_state_dict(state["learner"])
            if env_snapshot == "full":
                env.close()
                env = cloudpickle.loads(state["env"])
            elif env_snapshot == "rng":
                set_env_rng_state(env, state["env_rng"])
            self.step, self.episode = state["step"], state["episode"]
            self.history = list(state.get("history", []))
            self._last_checkpoint_step = self._last_eval_step = self.step
            self.resumed_from = path
            # Events logged after this checkpoint by the interrupted process are discarded.
            purge_step = self.step + 1
        self._learner, self._env = learner, env
        self._open_writer(purge_step)
        self._open_progress()
        self._clock, self._clock_step = time.perf_counter(), self.step
        self._counted = (self.step, self._clock)
        return env

    def end_episode(self, episode_return: float, length: int, **scalars: float) -> None:
        """For episode-based learners: count a finished episode's steps, log it, and evaluate
        or checkpoint when due."""
        self.step += length
        self._counted = (self.step, time.perf_counter())
        self.record_episode(episode_return, length, **scalars)
        self._when_due()

    def advance(self, steps: int) -> None:
        """For step-based learners: count env steps; evaluate or checkpoint when due."""
        self.step += steps
        self._counted = (self.step, time.perf_counter())
        self._update_progress()
        self._when_due()

    def record_episode(self, episode_return: float, length: int, **scalars: float) -> None:
        """Log a finished episode whose steps were already counted by `advance`."""
        self.episode += 1
        self.history.append((self.step, float(episode_return), int(length)))
        if self.episode % self.config.train.log_every == 0:
            self.log(
                {"episode/return": episode_return, "episode/length": length, **scalars},
                self.step,
            )
            step, now = self._counted
            if step > self._clock_step and now > self._clock:
                self.log(
                    {"perf/steps_per_second": (step - self._clock_step) / (now - self._clock)},
                    self.step,
                )
                self._clock, self._clock_step = now, step
        self._update_progress()

    def _when_due(self) -> None:
        every = self.config.train.eval_every
        if (
            every is not None
            and self.evaluate_fn is not None
            and (self.step - self._last_eval_step >= every)
        ):
            self._last_eval_step = self.step
            self.log({f"eval/{k}": v for k, v in self.evaluate_fn().items()}, self.step)
        if self.step - self._last_checkpoint_step >= self.config.train.checkpoint_every:
            self.checkpoint()

    def checkpoint(self) -> Path:
        """Write the learner, env generator and counters atomically; keep the newest few."""
        assert self._learner is not None and self._env is not None, "call begin() first"
        state = {
            "learner": self._learner.state_dict(),
            "step": self.step,
            "episode": self.episode,
            "history": list(self.history),
        }
        if self._env_snapshot == "full":
            state["env"] = cloudpickle.dumps(self._env)
        elif self._env_snapshot == "rng":
            state["env_rng"] = env_rng_state(self._env)
        path = self.checkpoint_dir / f"step_{self.step:010d}.pt"
        save_state(path, state)
        atomic_write_bytes(self.checkpoint_dir / LATEST, path.name.encode())
        self._last_checkpoint_step = self.step
        for old in sorted(self.checkpoint_dir.glob("step_*.pt"))[:-KEEP_CHECKPOINTS]:
            old.unlink()
        return path

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ logging

    def log(self, scalars: Mapping[str, float], step: int | None = None) -> None:
        """Write scalars to TensorBoard at `step` (default: the current env step)."""
        if self._writer is None:
            self._open_writer(None)
        at = self.step if step is None else step
        for tag, value in scalars.items():
            self._writer.add_scalar(tag, float(value), at)

    def _open_writer(self, purge_step: int | None) -> None:
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.dir), purge_step=purge_step)

    def _open_progress(self) -> None:
        if not self.show_progress or self._bar is not None:
            return
        from tqdm import tqdm

        by_steps = self.total_steps is not None
        self._bar = tqdm(
            total=self.total_steps if by_steps else self.total_episodes,
            initial=self.step if by_steps else self.episode,
            unit="step" if by_steps else "ep",
            desc=self.config.name,
            dynamic_ncols=True,
            mininterval=0.5,
            file=sys.stderr,
        )

    def _update_progress(self) -> None:
        if self._bar is None:
            return
        target = self.step if self.total_steps is not None else self.episode
        self._bar.update(min(target, self._bar.total) - self._bar.n)
        if self.history:
            recent = [r for _, r, _ in self.history[-100:]]
            self._bar.set_postfix(ep=self.episode, ret100=f"{np.mean(recent):.2f}", refresh=False)


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest complete checkpoint of a run directory, or None."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    pointer = directory / LATEST
    if pointer.is_file():
        path = directory / pointer.read_text().strip()
        if path.is_file():
            return path
    found = sorted(directory.glob("step_*.pt"))
    return found[-1] if found else None
