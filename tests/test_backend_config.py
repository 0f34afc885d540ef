"""The backend section of configs, the library-level checks and the version check: all refused
before anything runs, naming the file and the dotted key."""

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml

import envs  # noqa: F401  (registers the rlcourse/* env ids)
from agents import agent_schemas
from agents.backends import versions
from agents.backends.versions import BackendVersionError, require
from agents.training import load_experiment
from rlcourse.config import (
    ConfigError,
    RlcourseBackend,
    RLlibBackend,
    SB3Backend,
    load_config,
    parse_config,
)

ROOT = Path(__file__).resolve().parent.parent
ENV = {"id": "rlcourse/SuttonBarto4x4-v0", "kwargs": {}}
TRAIN = {"steps": 1000, "seed": 0}
AGENT = {"name": "q_learning", "alpha": 0.5}


def write(tmp_path, data):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def problems(tmp_path, data, overrides=(), load=load_config):
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        if load is load_config:
            load_config(path, overrides, agent_schemas())
        else:
            load(path, overrides)
    assert str(path) in str(info.value)
    return info.value.problems


def test_the_plain_name_is_the_mapping_with_every_default(tmp_path):
    for name, model in [
        ("rlcourse", RlcourseBackend),
        ("sb3", SB3Backend),
        ("rllib", RLlibBackend),
    ]:
        data = {"env": ENV, "agent": AGENT, "train": TRAIN, "backend": name}
        config = load_config(write(tmp_path, data), (), agent_schemas())
        assert config.backend == model()
    # no backend at all: today's configs keep meaning what they meant
    config = load_config(
        write(tmp_path, {"env": ENV, "agent": AGENT, "train": TRAIN}), (), agent_schemas()
    )
    assert config.backend == RlcourseBackend()


def test_a_backend_mapping_is_validated_and_round_trips(tmp_path):
    data = {
        "env": ENV,
        "train": TRAIN,
        "backend": {"name": "rllib", "algo": "DQN", "num_env_runners": 3, "address": "auto"},
    }
    config = load_config(write(tmp_path, data), (), agent_schemas())
    assert config.backend.algo == "DQN" and config.backend.num_env_runners == 3
    assert config.agent is None  # a library backend needs no agent section
    again = parse_config(yaml.safe_load(config.to_yaml()), agent_schemas())
    assert again == config


def test_overrides_reach_into_a_backend_given_by_name(tmp_path):
    data = {"env": ENV, "agent": AGENT, "train": TRAIN, "backend": "sb3"}
    config = load_config(
        write(tmp_path, data), ["backend.algo=DQN", "backend.n_envs=2"], agent_schemas()
    )
    assert config.backend == SB3Backend(algo="DQN", n_envs=2)
    # and one file switches backends: its agent section stays valid (and unused) under sb3
    switched = load_config(
        write(tmp_path, {**data, "backend": "rlcourse"}), ["backend=sb3"], agent_schemas()
    )
    assert switched.backend.name == "sb3" and switched.agent.name == "q_learning"


def test_unknown_backends_keys_and_values_name_the_dotted_key(tmp_path):
    base = {"env": ENV, "train": TRAIN}
    (msg,) = problems(tmp_path, {**base, "backend": "sb4"})
    assert msg.startswith("backend: unknown backend 'sb4'; did you mean 'sb3'?")
    (msg,) = problems(tmp_path, {**base, "backend": {"name": "rlib"}})
    assert msg.startswith("backend.name: unknown backend 'rlib'; did you mean 'rllib'?")
    found = problems(
        tmp_path, {**base, "backend": {"name": "rllib", "num_env_runner": 2, "num_cpus": 0}}
    )
    assert sorted(found) == [
        "backend.num_cpus: input should be greater than 0, got 0",
        "backend.num_env_runner: unknown key; did you mean 'num_env_runners'? (valid keys: "
        "address, algo, hyperparameters, model, num_cpus, num_env_runners, "
        "num_envs_per_env_runner)",
    ]
    (msg,) = problems(tmp_path, {**base, "backend": {"name": "sb3", "algo": "TRPO"}})
    assert msg == ("backend.algo: input should be 'PPO', 'DQN', 'A2C', 'SAC', 'TD3', 'DDPG' or "
                   "'MaskablePPO', got 'TRPO'")  # fmt: skip
    (msg,) = problems(tmp_path, {**base, "backend": "sb3"}, ["backend.n_envs=0"])
    assert msg.startswith("backend.n_envs: input should be greater than 0") and (
        "(set on the command line)" in msg
    )


def test_our_backend_needs_an_agent_section(tmp_path):
    (msg,) = problems(tmp_path, {"env": ENV, "train": TRAIN})
    assert msg.startswith("agent: missing; the rlcourse backend trains the agent section")


def test_sb3_settings_are_checked_against_the_installed_library(tmp_path):
    backend = {
        "name": "sb3",
        "algo": "PPO",
        "policy_kwargs": {"net_arch": [8], "activation": "tanh"},
        "hyperparameters": {"learning_rat": 1e-3, "n_steps": 64, "seed": 3},
    }
    found = problems(
        tmp_path, {"env": ENV, "train": TRAIN, "backend": backend}, load=load_experiment
    )
    assert sorted(found) == [
        "backend.hyperparameters.learning_rat: PPO takes no argument 'learning_rat'; "
        "did you mean 'learning_rate'?",
        "backend.hyperparameters.seed: set by train.seed, not here",
        "backend.policy_kwargs.activation: PPO's MlpPolicy takes no argument 'activation'; "
        "did you mean 'activation_fn'?",
    ]
    bad = {"name": "sb3", "algo": "DQN", "policy_kwargs": {"activation_fn": "sigmoid"},
           "hyperparameters": {"n_epochs": 8}}  # fmt: skip
    found = problems(tmp_path, {"env": ENV, "train": TRAIN, "backend": bad}, load=load_experiment)
    assert sorted(found) == [
        "backend.hyperparameters.n_epochs: DQN takes no argument 'n_epochs'; "
        "did you mean 'n_steps'?",
        "backend.policy_kwargs.activation_fn: unknown activation 'sigmoid'; expected one of "
        "['tanh', 'relu', 'elu', 'leaky_relu', 'gelu', 'silu']",
    ]


def test_maskable_ppo_needs_an_env_with_action_masks(tmp_path):
    data = {"env": ENV, "train": TRAIN, "backend": {"name": "sb3", "algo": "MaskablePPO"}}
    (msg,) = problems(tmp_path, data, load=load_experiment)
    assert msg == (
        "backend.algo: MaskablePPO needs an env whose info holds 'action_mask'; "
        "rlcourse/SuttonBarto4x4-v0 has none (choose PPO)"
    )


def test_rllib_settings_are_checked_against_the_installed_library(tmp_path):
    backend = {
        "name": "rllib",
        "model": {"fcnet_hidden": [8]},
        "hyperparameters": {"lr": 1e-3, "clip_param": 0.2, "train_batch_size_per_learner": 64,
                            "num_epoch": 3},
    }  # fmt: skip
    found = problems(
        tmp_path, {"env": ENV, "train": TRAIN, "backend": backend}, load=load_experiment
    )
    assert sorted(found) == [
        "backend.hyperparameters.num_epoch: PPOConfig.training takes no argument "
        "'num_epoch'; did you mean 'num_epochs'?",
        "backend.model.fcnet_hidden: DefaultModelConfig takes no argument 'fcnet_hidden'; "
        "did you mean 'fcnet_hiddens'?",
    ]


# ----------------------------------------------------------------------------- versions


def fake_versions(monkeypatch, installed):
    real = metadata.version

    def version(name):
        if name not in installed:
            return real(name)
        if installed[name] is None:
            raise metadata.PackageNotFoundError(name)
        return installed[name]

    monkeypatch.setattr(versions.metadata, "version", version)


def test_a_version_outside_the_tested_range_is_one_clear_line(monkeypatch):
    fake_versions(monkeypatch, {"ray": "2.70.0", "stable-baselines3": None})
    with pytest.raises(BackendVersionError) as info:
        require("ray")
    assert str(info.value) == (
        "ray 2.70.0 is installed, but rlcourse supports ray>=2.50,<2.61 "
        "(pip install 'ray>=2.50,<2.61')"
    )
    with pytest.raises(BackendVersionError, match=r"^stable-baselines3 is not installed; "):
        require("stable-baselines3")
    fake_versions(monkeypatch, {"ray": "2.50.0rc1"})
    with pytest.raises(BackendVersionError, match=r"2\.50\.0rc1 is installed"):
        require("ray")  # a pre-release of the lowest version is older than it
    fake_versions(monkeypatch, {"ray": "2.60.9"})
    assert require("ray") == "2.60.9"


def train_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("script_train", ROOT / "scripts" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_address_is_for_the_rllib_backend(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        train_script()([str(ROOT / "configs/gridworld/sb3_ppo.yaml"), "--address", "auto"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert (
        "--address joins a Ray cluster for the rllib backend; this config's backend is sb3" in err
    )


def test_train_script_refuses_an_unsupported_library_before_training(monkeypatch, tmp_path, capsys):
    fake_versions(monkeypatch, {"stable-baselines3": "3.0.0"})
    runs = tmp_path / "runs"
    code = train_script()([str(ROOT / "configs/gridworld/sb3_ppo.yaml"), f"train.runs_dir={runs}"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: stable-baselines3 3.0.0 is installed, but rlcourse supports "
        "stable-baselines3>=2.6,<2.10 (pip install 'stable-baselines3>=2.6,<2.10')"
    )
    assert not runs.exists()


def test_the_supported_ranges_are_the_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = project["dependencies"] + [
        d for ds in project["optional-dependencies"].values() for d in ds
    ]
    from packaging.requirements import Requirement

    ranges = {Requirement(p).name: Requirement(p).specifier for p in pins}
    for name, supported in versions.SUPPORTED.items():
        assert ranges[name] == versions.SpecifierSet(supported), name
