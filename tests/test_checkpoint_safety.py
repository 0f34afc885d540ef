"""Run checkpoints are data: loading one never runs code, `latest` stays in its folder, a broken
newest checkpoint falls back to the newest good one, writes are atomic, envs are saved as data,
and DQN resumes exactly by default."""

import errno
import importlib.util
import logging
import pathlib
import pickle
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the rlcourse/* env ids)
import rlcourse.files
from agents import agent_schemas
from agents.training import build_agent, env_factory, load_agent, load_experiment, train
from rlcourse import env_state
from rlcourse.config import parse_config
from rlcourse.files import FileError, UnsafeFileError, load_data, save_data
from rlcourse.runs import Run, load_latest_checkpoint
from rlcourse.vector import make_vector_env
from tests.run_dirs import crashed_run, only_run

ROOT = Path(__file__).resolve().parent.parent
CLIFF = ROOT / "configs" / "cliff" / "q_learning.yaml"
CLIFF_SHORT = ["train.episodes=6", "train.checkpoint_every=20", "train.eval_episodes=1"]


def script(name):
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


class Boom:
    """Unpickling this runs `Path.touch(marker)`: what a crafted checkpoint could run."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def craft(path, marker):
    torch.save({"learner": Boom(marker), "step": 10**9, "episode": 1, "history": []}, path)
    return path


def warnings_of(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "rlcourse"]


@pytest.fixture
def cliff_run(runs_dir):
    """A finished small run: config.yaml, checkpoints/step_*.pt and latest, agent.ckpt."""
    config = load_experiment(CLIFF, [*CLIFF_SHORT, f"train.runs_dir={runs_dir}"])
    result = train(config, progress=False)
    steps = sorted((result.run_dir / "checkpoints").glob("step_*.pt"))
    assert len(steps) >= 2
    return result.run_dir


def resume(run_dir, episodes=8):
    from agents.training import resume_config

    return train(resume_config(run_dir, [f"train.episodes={episodes}"]), run_dir, progress=False)


def newest(run_dir):
    return max((run_dir / "checkpoints").glob("step_*.pt"))


# ---------------------------------------------------------------------- crafted checkpoints


def test_a_crafted_newest_checkpoint_is_refused_on_resume_and_load(cliff_run, tmp_path, caplog):
    marker = tmp_path / "pwned"
    good = newest(cliff_run)
    crafted = craft(cliff_run / "checkpoints" / "step_9999999999.pt", marker)
    (cliff_run / "checkpoints" / "latest").write_text(crafted.name)
    (cliff_run / "agent.ckpt").unlink()  # evaluate.py RUN_DIR then reads the checkpoints

    with caplog.at_level(logging.WARNING, "rlcourse"):
        load_agent(cliff_run)
        result = resume(cliff_run)
    assert not marker.exists()
    refused = [m for m in warnings_of(caplog) if str(crafted) in m]
    assert len(refused) == 2 and all("refused (holds Python objects" in m for m in refused)
    assert result.run_dir == cliff_run
    path, state = load_latest_checkpoint(cliff_run)  # the resumed run's own newest
    assert path.name == (cliff_run / "checkpoints" / "latest").read_text()
    assert state["episode"] == 8 and state["step"] > int(good.stem.split("_")[1])


def test_a_crafted_checkpoint_named_explicitly_is_an_error_naming_it(cliff_run, tmp_path):
    marker = tmp_path / "pwned"
    crafted = craft(cliff_run / "checkpoints" / "step_0000000001.pt", marker)
    with pytest.raises(UnsafeFileError, match=str(crafted)):
        load_agent(crafted)
    assert not marker.exists()


def test_a_crafted_pickle_of_another_protocol_is_refused_too(cliff_run, tmp_path, caplog):
    marker = tmp_path / "pwned"
    crafted = cliff_run / "checkpoints" / "step_9999999999.pt"
    crafted.write_bytes(pickle.dumps({"learner": Boom(marker), "step": 1, "episode": 1}))
    (cliff_run / "checkpoints" / "latest").unlink()  # as if the crash came before the pointer
    with caplog.at_level(logging.WARNING, "rlcourse"):
        path, _ = load_latest_checkpoint(cliff_run)
    assert path != crafted and not marker.exists()
    (line,) = warnings_of(caplog)
    assert str(crafted) in line and "refused (holds Python objects" in line


def test_latest_naming_a_file_outside_its_folder_is_ignored(cliff_run, tmp_path, caplog):
    marker = tmp_path / "pwned"
    craft(cliff_run.parent / "outside.pt", marker)  # checkpoints/../../outside.pt
    pointer = cliff_run / "checkpoints" / "latest"
    pointer.write_text("../../outside.pt")
    with caplog.at_level(logging.WARNING, "rlcourse"):
        path, _ = load_latest_checkpoint(cliff_run)
        resume(cliff_run)
    assert path == newest(cliff_run) or path.parent == cliff_run / "checkpoints"
    assert not marker.exists()
    about_pointer = [m for m in warnings_of(caplog) if str(pointer) in m]
    assert len(about_pointer) == 2 and "../../outside.pt" in about_pointer[0]  # one per load


def test_a_symlinked_step_file_is_ignored(cliff_run, tmp_path, caplog):
    outside = tmp_path / "elsewhere.pt"
    save_data(outside, {"learner": {}, "step": 10**9, "episode": 1})
    link = cliff_run / "checkpoints" / "step_9999999999.pt"
    link.symlink_to(outside)
    with caplog.at_level(logging.WARNING, "rlcourse"):
        path, _ = load_latest_checkpoint(cliff_run)
    assert path != link and any(str(link) in m for m in warnings_of(caplog))


# ---------------------------------------------------------------------- broken checkpoints


def test_a_truncated_newest_checkpoint_falls_back_with_a_warning_naming_it(cliff_run, caplog):
    files = sorted((cliff_run / "checkpoints").glob("step_*.pt"))
    broken, previous = files[-1], files[-2]
    broken.write_bytes(broken.read_bytes()[: broken.stat().st_size // 2])
    (cliff_run / "agent.ckpt").unlink()
    with caplog.at_level(logging.WARNING, "rlcourse"):
        path, state = load_latest_checkpoint(cliff_run)
        load_agent(cliff_run)
    assert path == previous and state["step"] == int(previous.stem.split("_")[1])
    broken_lines = [m for m in warnings_of(caplog) if str(broken) in m]
    assert len(broken_lines) == 2 and "truncated" in broken_lines[0]
    with pytest.raises(FileError, match=str(broken)):
        load_agent(broken)  # named explicitly: an error, not a fallback


def test_resume_with_no_good_checkpoint_ends_with_one_line(cliff_run, capsys):
    for path in (cliff_run / "checkpoints").glob("step_*.pt"):
        path.write_bytes(b"not a checkpoint")
    assert script("train")(["--resume", str(cliff_run), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "no usable checkpoint" in err[-1]
    assert "Traceback" not in "\n".join(err)


def test_a_full_disk_mid_checkpoint_ends_train_with_one_line(runs_dir, monkeypatch, capsys):
    """The second checkpoint's write fails after half its bytes: no temp file is left, the
    first checkpoint stays the newest and loads, and train.py says so in one line."""
    real_open = open
    writes = []

    class FullDisk:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def filling_open(path, mode="r", *args, **kwargs):
        fh = real_open(path, mode, *args, **kwargs)
        if Path(path).name.startswith(".step_"):
            writes.append(path)
            if len(writes) == 2:
                return FullDisk(fh)
        return fh

    monkeypatch.setattr(rlcourse.files, "open", filling_open, raising=False)
    code = script("train")(
        [str(CLIFF), *CLIFF_SHORT, f"train.runs_dir={runs_dir}", "--no-progress"]
    )
    assert code == 1 and len(writes) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: could not write ")
    assert "step_" in err[0] and "No space left on device" in err[0]
    run_dir = only_run(runs_dir)
    checkpoints = run_dir / "checkpoints"
    first = Path(writes[0]).name[1:].split(".tmp")[0]  # .step_<N>.pt.tmp-<pid> -> step_<N>.pt
    assert sorted(p.name for p in checkpoints.iterdir()) == ["latest", first]
    path, state = load_latest_checkpoint(run_dir)
    assert path.name == (checkpoints / "latest").read_text() and state["step"] > 0


# ---------------------------------------------------------------------- learner states as data


LEARNERS = {
    "q_learning": (CLIFF, ["train.episodes=3"]),
    "n_step_sarsa": (ROOT / "configs/cliff/n_step_sarsa.yaml", ["train.episodes=3"]),
    "double_q": (ROOT / "configs/cliff/double_q_learning.yaml", ["train.episodes=3"]),
    "mc_on_policy": (ROOT / "configs/gridworld/mc_on_policy.yaml", ["train.episodes=3"]),
    "mc_off_policy": (ROOT / "configs/gridworld/mc_off_policy.yaml", ["train.episodes=3"]),
    "value_iteration": (ROOT / "configs/rn4x3/value_iteration.yaml", []),
    "policy_iteration": (ROOT / "configs/rn4x3/policy_iteration.yaml", []),
    "dqn": (ROOT / "configs/cartpole/dqn.yaml", ["train.steps=300", "agent.learning_starts=100"]),
    "rainbow": (
        ROOT / "configs/cartpole/rainbow.yaml",
        ["train.steps=300", "agent.learning_starts=100"],
    ),
    "reinforce": (
        ROOT / "configs/cartpole/reinforce.yaml",
        ["train.steps=150", "agent.episodes_per_update=4"],
    ),
    "a2c": (ROOT / "configs/pendulum/a2c.yaml", ["train.steps=200"]),
    "ppo_lstm": (ROOT / "configs/tmaze/ppo_lstm.yaml", ["train.steps=512"]),
    "behaviour_cloning": (
        ROOT / "configs/rn4x3/behaviour_cloning.yaml",
        ["train.episodes=5", "agent.fit.epochs=2"],
    ),
    "sb3_ppo": (
        ROOT / "configs/gridworld/sb3_ppo.yaml",
        ["train.steps=256", "backend.hyperparameters.n_steps=128"],
    ),
}


def same_tree(a, b, where="state"):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            same_tree(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same_tree(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.mark.parametrize("name", list(LEARNERS))
def test_every_learner_state_survives_loading_as_data(name, runs_dir, tmp_path):
    path, overrides = LEARNERS[name]
    overrides = [*overrides, f"train.runs_dir={runs_dir}", "train.eval_episodes=1"]
    config = load_experiment(path, overrides)
    trained = train(config, progress=False).agent
    file = tmp_path / "state.pt"
    save_data(file, trained.state_dict())
    loaded = load_data(file)  # weights_only: refuses anything but tensors and plain data
    env = env_factory(config)()
    fresh = build_agent(config, env)
    env.close()
    fresh.load_state_dict(loaded)
    if name == "sb3_ppo":  # a zip of SB3's own: compare what it restores
        for key, value in trained.model.policy.state_dict().items():
            assert torch.equal(value, fresh.model.policy.state_dict()[key]), key
        return
    again = tmp_path / "again.pt"
    save_data(again, fresh.state_dict())
    same_tree(load_data(file), load_data(again))


# ---------------------------------------------------------------------- envs as data


def legal_actions(vector_env, obs, info, rng):
    mask = info.get("action_mask")
    if mask is None and isinstance(obs, dict):
        mask = obs.get("action_mask")
    if mask is None:
        return vector_env.action_space.sample()
    return np.array([rng.choice(np.flatnonzero(row)) for row in mask])


ENV_IDS = [
    "CartPole-v1",
    "Acrobot-v1",
    "Pendulum-v1",
    "rlcourse/TMaze-v0",
    "rlcourse/Highway-v0",
    "rlcourse/InCarDialogue-v0",
    "rlcourse/Go-v0",
    "rlcourse/CliffWalking-v0",
]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_an_env_saved_as_data_continues_exactly(env_id, tmp_path):
    def make():
        return gym.make(env_id)

    rng = np.random.default_rng(0)
    original = make_vector_env(make, 2)
    original.action_space.seed(0)
    obs, info = original.reset(seed=3)
    for _ in range(6):
        obs, *_, info = original.step(legal_actions(original, obs, info, rng))
    snapshot = env_state.capture(original)
    assert snapshot["unsaved"] is None, snapshot["unsaved"]
    save_data(tmp_path / "env.pt", snapshot)
    restored = make_vector_env(make, 2)
    env_state.restore(restored, load_data(tmp_path / "env.pt"))
    for _ in range(60):  # across episode ends (autoreset draws from the restored generators)
        actions = legal_actions(original, obs, info, rng)
        a, b = original.step(actions), restored.step(actions)
        for x, y in zip(a[:4], b[:4], strict=True):
            same_tree(x, y)
        obs, info = a[0], a[4]


def test_subprocess_envs_are_not_saved_and_say_why():
    subprocesses = make_vector_env(lambda: gym.make("CartPole-v1"), 1, asynchronous=True)
    try:
        snapshot = env_state.capture(subprocesses)
    finally:
        subprocesses.close()
    assert snapshot["tree"] is None and "subprocesses" in snapshot["unsaved"]


def test_restore_makes_objects_only_of_the_fresh_env_s_classes(tmp_path):
    cartpole = make_vector_env(lambda: gym.make("CartPole-v1"), 1)
    cartpole.reset(seed=0)
    snapshot = env_state.capture(cartpole)
    snapshot["tree"]["attrs"]["intruder"] = {
        "$": "obj", "id": 10**6, "class": ["subprocess", "Popen"], "attrs": {"args": "touch x"},
    }  # fmt: skip
    with pytest.raises(env_state.EnvStateError, match=r"subprocess\.Popen is not a class"):
        env_state.restore(make_vector_env(lambda: gym.make("CartPole-v1"), 1), snapshot)


def test_an_env_that_cannot_be_saved_says_why_and_a_resume_warns(runs_dir, caplog):
    pytest.importorskip("Box2D")
    config = parse_config(
        {
            "env": {"id": "LunarLander-v3"},
            "agent": {"name": "dqn"},
            "train": {"steps": 10, "runs_dir": str(runs_dir)},
        },
        agent_schemas(),
        name="lander",
    )

    class Nothing:
        def state_dict(self):
            return {}

        def load_state_dict(self, state):
            pass

    def lander():
        return make_vector_env(lambda: gym.make("LunarLander-v3"), 1)

    with Run.create(config, progress=False) as run:
        envs = run.begin(Nothing(), lander(), env_snapshot="full")
        envs.reset(seed=0)
        state = load_data(run.checkpoint())
    assert "Box2D" in state["env"]["unsaved"] and state["env"]["tree"] is None
    with caplog.at_level(logging.WARNING, "rlcourse"), Run.open(run.dir, config) as again:
        again.begin(Nothing(), lander(), env_snapshot="full")
    assert not again.env_restored
    (line,) = warnings_of(caplog)
    assert "LunarLander-v3" in line and "Box2D" in line and "will differ" in line


def test_nothing_in_rlcourse_uses_cloudpickle():
    sources = (ROOT / "rlcourse").rglob("*.py")
    assert [p.name for p in sources if "cloudpickle" in p.read_text()] == []


# ---------------------------------------------------------------------- DQN resumes exactly


def dqn_config(runs_dir, env="CartPole-v1", **agent):
    return parse_config(
        {
            "env": {"id": env},
            "agent": {
                "name": "dqn",
                "network": {"mlp": {"hidden": [16]}},
                "batch_size": 16,
                "buffer_size": 1000,
                "learning_starts": 64,
                "train_freq": 4,
                "target_update_interval": 50,
                **agent,
            },
            "train": {
                "steps": 400,
                "checkpoint_every": 200,
                "eval_episodes": 1,
                "runs_dir": str(runs_dir),
            },
        },
        agent_schemas(),
        name="dqn_resume",
    )


def interrupted_then_resumed(config, monkeypatch):
    """Train `config` stopping right after its first checkpoint, then resume it."""
    run_dir, _ = crashed_run(config, monkeypatch)
    return train(config, resume_dir=run_dir, progress=False)


@pytest.mark.parametrize("env", ["CartPole-v1", "rlcourse/InCarDialogue-v0", "rlcourse/Highway-v0"])
def test_dqn_resumes_exactly_by_default(runs_dir, monkeypatch, caplog, env):
    """Mid-episode, with the replay: the envs come back from data, the replay from the file."""
    config = dqn_config(runs_dir, env)
    assert config.agent.save_replay
    whole = train(config, progress=False)
    with caplog.at_level(logging.WARNING, "rlcourse"):
        resumed = interrupted_then_resumed(config, monkeypatch)
    assert warnings_of(caplog) == []
    assert resumed.agent.updates == whole.agent.updates
    for key, value in whole.agent.online.state_dict().items():
        assert torch.equal(value, resumed.agent.online.state_dict()[key]), key


def test_dqn_without_the_replay_in_checkpoints_warns_at_resume(runs_dir, monkeypatch, caplog):
    config = dqn_config(runs_dir, save_replay=False)
    with caplog.at_level(logging.WARNING, "rlcourse"):
        interrupted_then_resumed(config, monkeypatch)
    (line,) = warnings_of(caplog)
    assert "save_replay: false" in line and "differ from an uninterrupted" in line


def test_empty_and_odd_arrays_round_trip_as_data(tmp_path):
    from rlcourse.files import load_data, save_data

    tree = {
        "empty": np.empty(0, np.float32),
        "empty_2d": np.zeros((0, 3), np.int64),
        "bools": np.array([True, False]),
        "scalar": np.float32(2.5),
        "big": np.arange(300_000, dtype=np.float64),  # compressed (>= 1 MiB)
    }
    save_data(tmp_path / "x.pt", tree)
    back = load_data(tmp_path / "x.pt")
    for key in ("empty", "empty_2d", "bools", "big"):
        assert back[key].dtype == tree[key].dtype and back[key].shape == tree[key].shape
        np.testing.assert_array_equal(back[key], tree[key])
    assert back["scalar"] == 2.5
