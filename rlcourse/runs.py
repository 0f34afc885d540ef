"""Run directories, TensorBoard scalars, the progress bar, atomic checkpoints and resume.

A run lives in ``<runs_dir>/<env>/<config name>/<timestamp or train.name>/``::

    config.yaml          the fully resolved config
    events.out.tfevents  TensorBoard scalars (episode/return, episode/length, train/*, eval/*)
    checkpoints/         step_<N>.pt; `latest` names the newest (a plain step_<N>.pt name)
    eval.json            the final evaluation (written by the trainer)

Learners drive a `Run` with `begin()` (restores a checkpoint when resuming), `end_episode()`
after every episode (logging, progress, evaluation and checkpoints when due) and `close()`.
A checkpoint holds the learner's state, the env's state (its random generator, or all of it as
data for learners stopped mid-episode: `rlcourse.env_state`) and the counters, so a resumed run
continues exactly as if it had never stopped. Where the env cannot be saved as data (a Box2D
world, subprocess envs), a resumed run says so in one warning and starts new episodes.

Ctrl-C (SIGINT) during training asks the run to stop at the next point where it could
checkpoint (the end of an episode, or a counted batch of steps): it writes a checkpoint there
and raises :class:`TrainingInterrupted`, which names the run to resume; a second Ctrl-C stops
at once.

Every file is written atomically (`rlcourse.files`) and checkpoints are data, read without
running code. Resuming tries `latest`, then the step files newest first; a broken file, or one
that holds Python objects, is named in a warning and skipped (`load_latest_checkpoint`).
Warnings go to the ``rlcourse`` logger: one line on stderr unless logging is set up otherwise.
"""

from __future__ import annotations

import copy
import datetime as _dt
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from rlcourse import env_state
from rlcourse.config import ConfigError, ExperimentConfig
from rlcourse.files import (
    CorruptFileError,
    FileError,
    UnsafeFileError,
    atomic_write_text,
    load_data,
    save_data,
)
from rlcourse.log import warn

CHECKPOINT_DIR = "checkpoints"
LATEST = "latest"
KEEP_CHECKPOINTS = 3
STEP_FILE = re.compile(r"step_(\d+)\.pt")
CHECKPOINT_KEYS = ("learner", "step", "episode")
NOT_EXACT = "its unfinished episodes restart, so the run will differ from an uninterrupted one"

EnvSnapshot = Literal["rng", "full", "none"]


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run after a checkpoint: ``--resume run_dir`` carries on from ``step``."""

    def __init__(self, run_dir: Path, step: int) -> None:
        super().__init__(f"interrupted: checkpoint written at step {step:,} in {run_dir}")
        self.run_dir, self.step = run_dir, step


class Stateful(Protocol):
    """What a learner must offer to be checkpointed."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


def env_folder(env_id: str) -> str:
    """The folder name of an env id: its name and version, without a namespace
    (``rlcourse/CliffWalking-v0`` -> ``CliffWalking-v0``)."""
    return env_id.rsplit("/", 1)[-1].replace(":", "_")


def make_run_dir(config: ExperimentConfig, root: str | Path | None = None) -> Path:
    """A fresh ``<runs_dir>/<env>/<config name>/<stamp>`` directory (as RL Zoo files runs by
    experiment), or ``.../<train.name>`` when the config names the run; `ConfigError` when
    that name is taken."""
    base = Path(root if root is not None else config.train.runs_dir)
    base = base / env_folder(config.env.id) / config.name
    if config.train.name is not None:
        path = base / config.train.name
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            taken = f"train.name: {path} exists: resume it with --resume {path}, or choose another"
            raise ConfigError(config.name, [taken]) from None
        return path
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for suffix in [""] + [f"-{i}" for i in range(1, 1000)]:
        path = base / f"{stamp}{suffix}"
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a run directory under {base}")


def save_state(path: Path, state: Mapping[str, Any]) -> None:
    """Atomically write a checkpoint dict of tensors, arrays and plain values."""
    save_data(path, dict(state))


def load_state(path: str | Path) -> dict[str, Any]:
    """The checkpoint at `path`, read as data (`FileError` naming the file if it is missing,
    broken, not a checkpoint, or holds Python objects)."""
    state = load_data(path)
    if not isinstance(state, dict) or any(key not in state for key in CHECKPOINT_KEYS):
        raise CorruptFileError(f"{path}: not a run checkpoint (no {'/'.join(CHECKPOINT_KEYS)})")
    return state


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
        announce: bool = True,
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
        self.env_restored = False  # set by begin(): the env was restored mid-episode
        self.evaluate_fn: Callable[[], Mapping[str, float]] | None = None
        self._stop_requested = False  # Ctrl-C: checkpoint and stop at the next chance
        self._restore_interrupts: Callable[[], Any] | None = None
        self.history: list[tuple[int, float, int]] = []  # (step, return, length) per episode
        self.announce = announce
        config_file = self.dir / "config.yaml"
        if not resume or config_file.read_text(encoding="utf-8") != config.to_yaml():
            atomic_write_text(config_file, config.to_yaml())  # a resume's new budget included

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

        Returns the env to use from now on (the one given). Three ways to checkpoint the env:

        - "rng" (episode-based learners, which checkpoint between episodes): only the env's
          random generator is saved. The env is reset here with the run's seed (before its
          generator is restored when resuming): call `env.reset()` without a seed to start
          each episode.
        - "full" (step-based learners, which checkpoint mid-episode): the whole env (a vector
          env included) is saved as data (`rlcourse.env_state`) and written back into the
          freshly built `env` when resuming. Nothing is reset here: unless `run.env_restored`,
          reset it yourself with `seed=run.reset_seed`. An env that cannot be saved as data
          (a Box2D world, subprocess envs) is not restored: a warning names it and why.
        - "none": nothing of the env is saved or restored, and nothing is reset here; the
          learner resets it itself with `seed=run.reset_seed` (a resume warns that the
          unfinished episodes restart).
        """
        self._env_snapshot = env_snapshot
        self.env_restored = False
        if env_snapshot == "rng":
            env.reset(seed=self.seed)
        purge_step = None
        if self._resume:
            path, state = load_latest_checkpoint(self.dir)
            learner.load_state_dict(state["learner"])
            if env_snapshot == "full":
                self._restore_env(env, state.get("env"))
            elif env_snapshot == "rng":
                set_env_rng_state(env, state["env_rng"])
            else:
                self._env_not_restored("this learner does not keep its env in checkpoints")
            self.step, self.episode = state["step"], state["episode"]
            self.history = list(state.get("history", []))
            self._last_checkpoint_step = self._last_eval_step = self.step
            self.resumed_from = path
            # Events logged after this checkpoint by the interrupted process are discarded.
            purge_step = self.step + 1
        self._learner, self._env = learner, env
        self._catch_interrupts()  # before the run is announced: a Ctrl-C from then on is caught
        self._say_where()
        self._open_writer(purge_step)
        self._open_progress()
        self._clock, self._clock_step = time.perf_counter(), self.step
        self._counted = (self.step, self._clock)
        return env

    def _say_where(self) -> None:
        """One line on stdout: the new run's directory, or where a resume starts from."""
        if not self.announce:
            return
        if self.resumed_from is None:
            print(f"run directory: {self.dir}", flush=True)
            return
        line = f"resuming {self.dir} from step {self.step:,} ({self.resumed_from.name})"
        if self.finished:
            steps, episodes = self.total_steps, self.total_episodes
            done = f"{steps:,} steps" if steps is not None and self.step >= steps else (
                f"{episodes:,} episodes")  # fmt: skip
            line += f": already complete ({done}); raise train.steps or train.episodes to go on"
        print(line, flush=True)

    @property
    def reset_seed(self) -> int:
        """The seed for envs the learner resets itself: the run's seed, or when a resume did
        not restore the env, one offset by the step (new episodes, not the first ones again)."""
        return self.seed + self.step if self._resume else self.seed

    def _restore_env(self, env: Any, snapshot: Any) -> None:
        if not isinstance(snapshot, dict):
            self._env_not_restored("the checkpoint holds no env state as data")
            return
        try:
            env_state.restore(env, snapshot)
        except env_state.EnvStateError as exc:
            self._env_not_restored(str(exc))
        else:
            self.env_restored = True

    def _env_not_restored(self, why: str) -> None:
        warn(f"resuming {self.dir}: the env {self.config.env.id} is not restored ({why}): "
             f"{NOT_EXACT}")  # fmt: skip

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

    def _catch_interrupts(self) -> None:
        """Ctrl-C asks for a stop at the next checkpoint point (main thread only: signal
        handlers live there; Ray and Tune workers are stopped by their drivers)."""
        self._stop_requested = False
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGINT)

        def request_stop(signum: int, frame: Any) -> None:
            self._stop_requested = True
            signal.signal(signal.SIGINT, previous)  # a second Ctrl-C stops at once
            print("\nstopping at the next checkpoint (Ctrl-C again to stop at once)",
                  file=sys.stderr, flush=True)  # fmt: skip

        signal.signal(signal.SIGINT, request_stop)
        self._restore_interrupts = lambda: signal.signal(signal.SIGINT, previous)

    def _when_due(self) -> None:
        if self._stop_requested:
            self.checkpoint()
            raise TrainingInterrupted(self.dir, self.step)
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
        """Write the learner, the env (its generator, or its state as data) and the counters
        atomically, then point `latest` at them; keep the newest few."""
        assert self._learner is not None and self._env is not None, "call begin() first"
        state = {
            "learner": self._learner.state_dict(),
            "step": self.step,
            "episode": self.episode,
            "history": list(self.history),
        }
        if self._env_snapshot == "full":
            state["env"] = env_state.capture(self._env)
        elif self._env_snapshot == "rng":
            state["env_rng"] = env_rng_state(self._env)
        path = self.checkpoint_dir / f"step_{self.step:010d}.pt"
        save_state(path, state)
        atomic_write_text(self.checkpoint_dir / LATEST, path.name)
        self._last_checkpoint_step = self.step
        for old in step_files(self.checkpoint_dir)[KEEP_CHECKPOINTS:]:
            old.unlink(missing_ok=True)
        return path

    def close(self) -> None:
        if self._restore_interrupts is not None:
            self._restore_interrupts()
            self._restore_interrupts = None
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


def step_files(directory: Path) -> list[Path]:
    """The ``step_<N>.pt`` files of a checkpoints folder, newest first."""
    found = [(int(m.group(1)), p) for p in directory.glob("step_*.pt")
             if (m := STEP_FILE.fullmatch(p.name)) and p.is_file()]  # fmt: skip
    return [path for _, path in sorted(found, reverse=True)]


def checkpoint_candidates(run_dir: str | Path, quiet: bool = False) -> list[Path]:
    """The checkpoints of a run directory to try, best first: the one `latest` names, then
    the step files newest first. A `latest` that is not a plain ``step_<N>.pt`` name (a path
    leading out of the folder) is ignored with a warning naming it (unless `quiet`); so are
    symbolic links."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    found = step_files(directory)
    pointer = directory / LATEST
    if pointer.is_file():
        name = pointer.read_text(errors="replace").strip()
        if STEP_FILE.fullmatch(name):
            found = [directory / name] + [p for p in found if p.name != name]
        elif not quiet:
            warn(f"{pointer}: ignored: it names {name[:80]!r}, not a step_<N>.pt of its folder")
    links = [p for p in found if p.is_symlink()]
    for link in [] if quiet else links:
        warn(f"{link}: ignored: a symbolic link, not a checkpoint file of this run")
    return [p for p in found if p not in links]


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest checkpoint of a run directory (not yet read), or None."""
    found = checkpoint_candidates(run_dir, quiet=True)
    return found[0] if found else None


def load_latest_checkpoint(run_dir: str | Path) -> tuple[Path, dict[str, Any]]:
    """(path, state) of the newest checkpoint of `run_dir` that reads as data.

    Tries `latest`'s file, then the step files newest first. Each broken file (truncated,
    not a checkpoint), and each that holds Python objects (refused: loading it could run
    code), is named in a warning line and skipped. `FileError` when none is good.
    """
    tried = checkpoint_candidates(run_dir)
    for path in tried:
        try:
            return path, load_state(path)
        except UnsafeFileError:
            warn(f"{path}: refused (holds Python objects; loading it could run code); "
                 f"trying an older checkpoint")  # fmt: skip
        except FileError as exc:
            warn(f"{exc}; trying an older checkpoint")
    where = Path(run_dir) / CHECKPOINT_DIR
    if not tried:
        raise FileError(f"{where}: no checkpoint to resume from")
    raise FileError(f"{where}: no usable checkpoint (tried {', '.join(p.name for p in tried)})")
