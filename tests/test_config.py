"""Configs: validated before anything runs, errors that name the file, key and expectation."""

import pytest
import yaml
from pydantic import ValidationError

from agents import agent_schemas
from rlcourse.config import ConfigError, apply_overrides, load_config, parse_config
from rlcourse.schedules import Exponential, Linear, schedule_value

GOOD = {
    "env": {"id": "FrozenLake-v1", "kwargs": {"is_slippery": False}},
    "agent": {"name": "value_iteration", "gamma": 0.9},
    "train": {"steps": 100, "seed": 3},
}


def write(tmp_path, data, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def problems(tmp_path, data, overrides=()):
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides, agent_schemas())
    assert str(path) in str(info.value)
    return info.value.problems


def test_a_good_config_loads_frozen_with_defaults(tmp_path):
    config = load_config(write(tmp_path, GOOD), (), agent_schemas())
    assert config.name == "exp"
    assert config.agent.gamma == 0.9 and config.agent.theta == 1e-8
    assert config.train.seed == 3 and config.train.checkpoint_every == 10_000
    with pytest.raises(ValidationError, match="frozen"):
        config.train.seed = 4  # type: ignore[misc]


def test_overrides_apply_and_parse_values_as_yaml(tmp_path):
    config = load_config(
        write(tmp_path, GOOD), ["agent.gamma=0.5", "train.seed=7"], agent_schemas()
    )
    assert config.agent.gamma == 0.5 and config.train.seed == 7


def test_typo_gets_the_closest_valid_key(tmp_path):
    bad = {**GOOD, "agent": {"name": "value_iteration", "gama": 0.9}}
    (msg,) = problems(tmp_path, bad)
    assert msg.startswith("agent.gama: unknown key; did you mean 'gamma'?")


def test_every_problem_is_reported_at_once(tmp_path):
    bad = {
        "env": GOOD["env"],
        "agent": {"name": "value_iteration", "gamma": 1.5, "theta": "small"},
        "train": {"stepz": 10, "seed": -1},
    }
    found = problems(tmp_path, bad)
    keys = sorted(p.split(":")[0] for p in found)
    assert keys == ["agent.gamma", "agent.theta", "train.seed", "train.stepz"]
    assert any("less than or equal to 1" in p and "1.5" in p for p in found)
    assert any(p.startswith("train.stepz: unknown key; did you mean 'steps'?") for p in found)


def test_override_problems_say_they_came_from_the_command_line(tmp_path):
    (msg,) = problems(tmp_path, GOOD, ["agent.gamma=2"])
    assert msg.startswith("agent.gamma:") and "(set on the command line)" in msg


def test_unknown_agent_and_env_are_named_with_suggestions(tmp_path):
    (msg,) = problems(tmp_path, {**GOOD, "agent": {"name": "value_iteraton"}})
    assert "did you mean 'value_iteration'" in msg
    (msg,) = problems(tmp_path, {**GOOD, "env": {"id": "FrozenLak-v1"}})
    assert msg.startswith("env.id:") and "did you mean 'FrozenLake-v1'" in msg


def test_env_keyword_typos_are_caught_before_the_env_is_built(tmp_path):
    (msg,) = problems(
        tmp_path, {**GOOD, "env": {"id": "FrozenLake-v1", "kwargs": {"is_slipery": 1}}}
    )
    assert msg.startswith("env.kwargs.is_slipery:") and "did you mean 'is_slippery'" in msg


def test_schedules_are_validated_with_the_value_bounds():
    from typing import Literal

    from rlcourse.config import AgentConfig
    from rlcourse.schedules import Probability, schedule_of

    class Eps(AgentConfig):
        name: Literal["eps"] = "eps"
        epsilon: schedule_of(Probability) = 0.1  # type: ignore[valid-type]

    base = {"env": GOOD["env"], "train": {"steps": 1}}
    ok = parse_config(
        {
            **base,
            "agent": {
                "name": "eps",
                "epsilon": {"kind": "linear", "start": 1, "end": 0.1, "steps": 10},
            },
        },
        {"eps": Eps},
    )
    assert isinstance(ok.agent.epsilon, Linear)
    with pytest.raises(ConfigError) as info:
        parse_config(
            {
                **base,
                "agent": {
                    "name": "eps",
                    "epsilon": {"kind": "linear", "start": 1.5, "end": 0.1, "step": 10},
                },
            },
            {"eps": Eps},
            "x.yaml",
        )
    assert sorted(info.value.problems) == [
        "agent.epsilon.start: input should be less than or equal to 1, got 1.5",
        "agent.epsilon.step: unknown key; did you mean 'steps'? (valid keys: end, start, steps)",
        "agent.epsilon.steps: missing required key",
    ]


def test_schedule_values_by_hand():
    linear = Linear[float](kind="linear", start=1.0, end=0.1, steps=10)
    assert [schedule_value(linear, t) for t in (0, 5, 10, 20)] == pytest.approx(
        [1.0, 0.55, 0.1, 0.1]
    )
    expo = Exponential[float](kind="exponential", start=1.0, end=0.2, decay=0.5)
    assert [schedule_value(expo, t) for t in (0, 1, 2, 3)] == pytest.approx([1.0, 0.5, 0.25, 0.2])
    assert schedule_value(0.3, 1000) == 0.3


def test_a_budget_is_required(tmp_path):
    (msg,) = problems(tmp_path, {**GOOD, "train": {"seed": 1}})
    assert msg.startswith("train: ") and "train.steps, train.episodes or both" in msg


def test_bad_override_syntax_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"section\.key=value"):
        apply_overrides({}, ["gamma"])
    with pytest.raises(ConfigError, match=r"train\.seed is a value, not a section"):
        apply_overrides({"train": {"seed": 1}}, ["train.seed.x=2"])
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.yaml", (), agent_schemas())


def test_the_resolved_config_round_trips(tmp_path):
    config = load_config(write(tmp_path, GOOD), (), agent_schemas())
    again = parse_config(yaml.safe_load(config.to_yaml()), agent_schemas())
    assert again == config
