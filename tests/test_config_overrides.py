"""Bad input to the config layer is refused with one clear line each: malformed override
values, booleans and floats where integers belong (and the reverse), files that are not
UTF-8 text (configs and gridworld maps)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import envs  # noqa: F401  (registers the rlcourse/* ids)
from agents import agent_schemas
from agents.training import load_experiment
from envs.gridworld import MapError, load_map
from rlcourse.config import ConfigError, apply_overrides, load_config

ROOT = Path(__file__).resolve().parent.parent
CLIFF = ROOT / "configs" / "cliff" / "q_learning.yaml"  # agent.alpha, train.episodes
DQN = ROOT / "configs" / "cartpole" / "dqn.yaml"


def problems_of(path, overrides):
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides, agent_schemas())
    for problem in info.value.problems:
        assert "\n" not in problem  # one line each
    return info.value


@pytest.mark.parametrize("override", ["agent.alpha=[0.5", "agent.alpha={a: 1", "agent.alpha='0.5"])
def test_a_malformed_override_value_is_named(override):
    error = problems_of(CLIFF, [override])
    (problem,) = error.problems
    assert error.source == "(command line)"
    assert problem.startswith(f"{override!r}: the value is not valid YAML (line 1, column ")


def test_every_malformed_override_is_reported_at_once():
    with pytest.raises(ConfigError) as info:
        apply_overrides({"train": {"seed": 1}}, ["agent.alpha=[0.5", "gamma", "train.seed.x=2"])
    assert [p.split(": ")[0] for p in info.value.problems] == [
        "'agent.alpha=[0.5'",
        "'gamma'",
        "'train.seed.x=2'",
    ]


def test_a_bad_yaml_file_is_one_line_with_its_place(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("env: {id: FrozenLake-v1\ntrain: {steps: 1}\n")
    (problem,) = problems_of(path, []).problems
    assert problem.startswith("not valid YAML: line 2, column ")


def test_a_config_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    error = problems_of(path, [])
    assert str(path) in str(error)
    assert error.problems == ["not UTF-8 text (byte 9)"]


@pytest.mark.parametrize(
    ("path", "override", "key"),
    [
        (CLIFF, "train.episodes=true", "train.episodes"),  # not 1 episode
        (CLIFF, "train.seed=2.5", "train.seed"),  # not seed 2
        (CLIFF, "train.steps=false", "train.steps"),
        (CLIFF, "agent.alpha=true", "agent.alpha"),  # not a step size of 1.0
        (CLIFF, 'agent.alpha="0.5"', "agent.alpha"),  # a string, not a number
        (DQN, "agent.double=1", "agent.double"),  # not True
        (DQN, "agent.network.mlp.hidden=[64, true]", "agent.network.mlp.hidden.1"),
        (DQN, "agent.epsilon.steps=true", "agent.epsilon.steps"),  # a nested schedule
    ],
)
def test_booleans_integers_and_floats_do_not_pass_for_each_other(path, override, key):
    (problem,) = problems_of(path, [override]).problems
    assert problem.startswith(f"{key}: input should be a valid ")
    assert problem.endswith("(set on the command line)")


def test_numbers_still_fill_float_fields_and_lists_fill_tuples():
    config = load_config(
        DQN,
        ["agent.gamma=1", "agent.lr=1e-4", "agent.network.mlp.hidden=[32]", "train.steps=5000"],
        agent_schemas(),
    )
    assert config.agent.gamma == 1.0 and isinstance(config.agent.gamma, float)
    assert config.agent.lr == 1e-4  # an exponent without a dot is a number (YAML 1.2)
    assert config.agent.network.mlp.hidden == (32,)
    with pytest.raises(ConfigError, match=r"train\.steps: input should be a valid integer"):
        load_config(CLIFF, ["train.steps=5E3"], agent_schemas())  # a float is no integer


def test_a_malformed_override_makes_train_exit_2_with_one_line():
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train.py"), str(CLIFF), "agent.alpha=[0.5"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    named = [line for line in done.stderr.splitlines() if "agent.alpha=[0.5" in line]
    assert len(named) == 1 and "not valid YAML" in named[0]


def test_a_map_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin1_map.txt"
    path.write_bytes("name: caf\u00e9\nterminals: G=0\ngrid:\nS.G\n".encode("latin-1"))
    with pytest.raises(MapError, match=r"latin1_map\.txt, line 1, column 10: not UTF-8 text"):
        load_map(path)
    config = tmp_path / "exp.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "env": {"id": "rlcourse/GridWorld-v0", "kwargs": {"map": str(path)}},
                "agent": {"name": "value_iteration"},
                "train": {"steps": 1},
            }
        )
    )
    with pytest.raises(ConfigError, match="not UTF-8 text") as info:
        load_experiment(config)
    assert str(path) in str(info.value)
