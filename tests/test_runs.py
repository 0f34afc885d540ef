"""Run directories: config written, TensorBoard scalars, atomic checkpoints, exact resume."""

import os

import gymnasium as gym
import numpy as np
import pytest

from agents import agent_schemas
from rlcourse.config import ConfigError, parse_config
from rlcourse.files import FileError
from rlcourse.plotting import read_scalars
from rlcourse.runs import Run, latest_checkpoint, load_state


def make_config(runs_dir, **train):
    return parse_config(
        {
            "env": {"id": "FrozenLake-v1"},
            "agent": {"name": "value_iteration"},
            "train": {"steps": 50, "checkpoint_every": 10, "runs_dir": str(runs_dir), **train},
        },
        agent_schemas(),
        name="unit",
    )


class Counter:
    """A stand-in learner whose whole state is one random stream and a tally."""

    def __init__(self):
        self.rng = np.random.default_rng(0)
        self.tally = 0.0

    def state_dict(self):
        return {"rng": self.rng.bit_generator.state, "tally": self.tally}

    def load_state_dict(self, state):
        self.rng.bit_generator.state = state["rng"]
        self.tally = state["tally"]

    def play(self, run, env, stop_after=None):
        run.begin(self, env)
        while not run.finished:
            env.reset()
            self.tally += self.rng.random() + env.unwrapped.np_random.random()
            run.end_episode(self.tally, 5, **{"train/tally": self.tally})
            if stop_after is not None and run.episode == stop_after:
                raise KeyboardInterrupt
        run.checkpoint()


def test_run_directory_layout_and_scalars(runs_dir):
    config = make_config(runs_dir)
    with Run.create(config, progress=False) as run:
        Counter().play(run, gym.make("FrozenLake-v1"))
    assert run.dir.parent == runs_dir / "FrozenLake-v1" / "unit"  # <env>/<config name>/<stamp>
    assert (run.dir / "config.yaml").read_text() == config.to_yaml()
    steps, values = read_scalars(run.dir, "episode/length")
    assert list(steps) == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50] and set(values) == {5.0}
    read_scalars(run.dir, "train/tally")
    read_scalars(run.dir, "perf/steps_per_second")


def test_only_the_newest_checkpoints_are_kept_and_latest_points_to_the_last(runs_dir):
    with Run.create(make_config(runs_dir), progress=False) as run:
        Counter().play(run, gym.make("FrozenLake-v1"))
    kept = sorted(p.name for p in (run.dir / "checkpoints").glob("step_*.pt"))
    assert kept == ["step_0000000030.pt", "step_0000000040.pt", "step_0000000050.pt"]
    assert latest_checkpoint(run.dir).name == "step_0000000050.pt"
    assert load_state(latest_checkpoint(run.dir))["step"] == 50


def test_a_crash_while_writing_leaves_the_previous_checkpoint_intact(runs_dir, monkeypatch):
    run = Run.create(make_config(runs_dir), progress=False)
    learner, env = Counter(), gym.make("FrozenLake-v1")
    run.begin(learner, env)
    good = run.checkpoint()
    real_replace = os.replace

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    learner.tally = 99.0
    with pytest.raises(FileError, match=r"step_0000000000\.pt: disk full"):
        run.checkpoint()
    monkeypatch.setattr(os, "replace", real_replace)
    assert latest_checkpoint(run.dir) == good
    assert load_state(good)["learner"]["tally"] == 0.0
    assert sorted(p.name for p in good.parent.iterdir()) == ["latest", good.name]  # no temp file
    run.close()


def test_a_named_run_is_filed_under_its_name_and_never_overwritten(runs_dir):
    config = make_config(runs_dir, name="baseline")
    with Run.create(config, progress=False) as run:
        Counter().play(run, gym.make("FrozenLake-v1"))
    assert run.dir == runs_dir / "FrozenLake-v1" / "unit" / "baseline"
    with pytest.raises(ConfigError, match=r"train.name: .*baseline exists: resume it with"):
        Run.create(config, progress=False)
    assert (run.dir / "checkpoints" / "latest").is_file()  # the first run is untouched


def test_config_yaml_is_written_atomically(runs_dir, monkeypatch):
    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(FileError, match=r"config\.yaml: No space left on device"):
        Run.create(make_config(runs_dir), progress=False)
    (run_dir,) = (runs_dir / "FrozenLake-v1" / "unit").iterdir()
    assert list(run_dir.rglob("*.tmp-*")) == [] and not (run_dir / "config.yaml").exists()


def test_resume_continues_exactly(runs_dir):
    config = make_config(runs_dir)
    with Run.create(config, progress=False) as straight:
        whole = Counter()
        whole.play(straight, gym.make("FrozenLake-v1"))

    with Run.create(config, progress=False) as first, pytest.raises(KeyboardInterrupt):
        Counter().play(first, gym.make("FrozenLake-v1"), stop_after=5)  # checkpoint at 20
    with Run.open(first.dir, config, progress=False) as second:
        resumed = Counter()
        resumed.play(second, gym.make("FrozenLake-v1"))
    assert second.resumed_from.name == "step_0000000020.pt"
    assert resumed.tally == whole.tally
    assert second.history == straight.history
    # The interrupted process logged episode 5 (step 25) before dying; resume purged it.
    steps, _ = read_scalars(second.dir, "episode/return")
    assert list(steps) == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]


def test_resume_needs_a_checkpoint(tmp_path, runs_dir):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        Run.open(tmp_path, make_config(runs_dir))


def test_episode_budget(runs_dir):
    config = make_config(runs_dir, steps=None, episodes=3)
    with Run.create(config, progress=True) as run:
        Counter().play(run, gym.make("FrozenLake-v1"))
    assert run.episode == 3 and run.step == 15


def test_steps_per_second_is_never_zero_for_episodes_ending_inside_one_rollout(runs_dir):
    config = make_config(runs_dir)
    with Run.create(config, progress=False) as run:
        run.begin(Counter(), gym.make("FrozenLake-v1"), env_snapshot="none")
        for _ in range(5):  # a vector learner: count a rollout, then log the episodes it ended
            run.advance(8)
            for _ in range(3):
                run.record_episode(1.0, 3)
    _, rates = read_scalars(run.dir, "perf/steps_per_second")
    assert len(rates) >= 4 and min(rates) > 0
