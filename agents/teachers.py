"""Teachers: whoever shows an agent what to do (behaviour cloning, DQN's teacher start).

A `Teacher` answers ``act(obs, info) -> action``. A config names one with a typed spec, one of

- ``{planner: value_iteration}`` (or ``policy_iteration``; ``gamma``, ``theta`` as fields):
  plans on the env's own model (`rlcourse.mdp.TabularMDP.from_env`) and acts greedily on the
  true state ``env.unwrapped.s``, whatever the observation type;
- ``{run: RUN_DIR}``: the agent trained in a run directory, agent file or checkpoint
  (`agents.training.load_agent`, which reads data only), acting with ``deterministic=True`` on
  the observation, or on ``env.unwrapped.s`` when it was trained on state indices and the env
  shows another observation type;
- ``{policy: "module:Class"}``: an importable policy class (e.g. ``envs.dialogue:RulePolicy``)
  built from the env (`build_policy`) and asked ``act(obs, info)``.

``run`` and ``policy`` teachers take ``input: KEY``: they are shown ``info[KEY]`` instead of the
observation, so a teacher can teach a student that sees something else (the dialogue's text env
puts the belief vector in ``info["belief"]`` for the rule policy, while the student reads words).

`make_teacher(spec, env)` builds the teacher for an env. The string forms of earlier releases
(``value_iteration``, ``module:Class``, a path) are still read, with a `FutureWarning` naming the
typed form; they will be refused in the next release.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import gymnasium as gym
import numpy as np
from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator

from agents.tabular.planning import Solution, policy_iteration, value_iteration
from agents.training import env_factory, load_agent
from rlcourse.mdp import TabularMDP
from rlcourse.schedules import FrozenModel

PLANNERS: dict[str, Callable[[TabularMDP, float, float], Solution]] = {
    "value_iteration": value_iteration, "policy_iteration": policy_iteration,
}  # fmt: skip
POLICY_CLASS = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")  # module:Class
INPUT_DESCRIPTION = "an info key whose value the teacher acts on instead of the observation"
# Each spec's `kind` is its key (planner, run, policy), never written: it is how
# `rlcourse.config` tells which alternative of the union an error belongs to.


class Teacher(Protocol):
    """The action to show for one observation (and the env's ``info`` at that step)."""

    def act(self, obs: Any, info: Mapping[str, Any]) -> int: ...


# ----------------------------------------------------------------------------- specs


class PlannerTeacherSpec(FrozenModel):
    """Value or policy iteration on the env's model, acting on the true state."""

    kind: Literal["planner"] = Field("planner", exclude=True, repr=False)
    planner: Literal["value_iteration", "policy_iteration"]
    gamma: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    theta: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        1e-10, description="stop when no value changes by more than this"
    )


class RunTeacherSpec(FrozenModel):
    """A trained agent; the path is only checked when the teacher is built, so that a trained
    student stays loadable after its teacher's run directory is gone."""

    kind: Literal["run"] = Field("run", exclude=True, repr=False)
    run: str = Field(description="a trained run directory, agent file or checkpoint")
    input: str | None = Field(None, description=INPUT_DESCRIPTION)


class PolicyTeacherSpec(FrozenModel):
    """An importable policy class, checked to import when the config is read."""

    kind: Literal["policy"] = Field("policy", exclude=True, repr=False)
    policy: str = Field(description="module:Class, e.g. envs.dialogue:RulePolicy")
    input: str | None = Field(None, description=INPUT_DESCRIPTION)

    @field_validator("policy")
    @classmethod
    def _imports(cls, value: str) -> str:
        if not POLICY_CLASS.fullmatch(value):
            raise ValueError(f"expected an importable policy class module:Class, got {value!r}")
        import_policy_class(value)
        return value


EXPECTED = (
    "expected {planner: 'value_iteration' or 'policy_iteration'}, {run: RUN_DIR} or "
    "{policy: 'module:Class'}"
)


def _kind(value: Any) -> str | None:
    """The spec's tag: which of the keys planner / run / policy it has."""
    if isinstance(value, Mapping):
        return next((key for key in ("planner", "run", "policy") if key in value), None)
    return getattr(value, "kind", None)


def spec_of_string(value: str) -> dict[str, str]:
    """The typed spec an old string form stands for; ValueError when it stands for none."""
    if value in PLANNERS:
        return {"planner": value}
    if "/" in value or Path(value).exists():
        return {"run": value}
    if POLICY_CLASS.fullmatch(value):
        import_policy_class(value)  # refused here, where the config names the string
        return {"policy": value}
    raise ValueError(EXPECTED)


def warn_deprecated(old: str, new: Mapping[str, Any]) -> None:
    """One FutureWarning: `old` is read as the typed spec `new` for one more release."""
    fields = ", ".join(f"{key}: {json.dumps(value)}" for key, value in new.items())
    warnings.warn(
        f"teacher: {old} is deprecated and will be refused in the next release; "
        f"write teacher: {{{fields}}}",
        FutureWarning,
        stacklevel=2,
    )


def _from_string(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    spec = spec_of_string(value)
    warn_deprecated(repr(value), spec)
    return spec


#: A teacher as a config names it; old string forms are converted with a warning.
TeacherSpec = Annotated[
    Annotated[PlannerTeacherSpec, Tag("planner")]
    | Annotated[RunTeacherSpec, Tag("run")]
    | Annotated[PolicyTeacherSpec, Tag("policy")],
    Discriminator(_kind, custom_error_type="teacher_spec", custom_error_message=EXPECTED),
    BeforeValidator(_from_string),
]


# ----------------------------------------------------------------------------- teachers


class PlanningTeacher:
    """The greedy action of a value/policy-iteration solution at ``env.unwrapped.s``."""

    reads_state = True

    def __init__(self, env: gym.Env, method: str, gamma: float, theta: float):
        if not hasattr(env.unwrapped, "s"):
            raise TypeError(
                f"teacher {method!r} reads the true state from env.unwrapped.s; "
                f"{type(env.unwrapped).__name__} has no such attribute"
            )
        self.env = env
        solution = PLANNERS[method](TabularMDP.from_env(env), gamma, theta)
        self.actions = np.argmax(solution.policy, axis=1)  # [S]

    def act(self, obs: Any, info: Mapping[str, Any]) -> int:
        return int(self.actions[int(self.env.unwrapped.s)])  # type: ignore[attr-defined]


class AgentTeacher:
    """A trained agent's deterministic action on the observation, or, given `env`, on the
    true state ``env.unwrapped.s``."""

    def __init__(self, agent: Any, env: gym.Env | None = None):
        self.agent, self.env = agent, env

    @property
    def reads_state(self) -> bool:
        return self.env is not None

    def act(self, obs: Any, info: Mapping[str, Any]) -> int:
        seen = obs if self.env is None else int(self.env.unwrapped.s)  # type: ignore[attr-defined]
        return int(self.agent.act(seen, info, deterministic=True))

    def reset_state(self) -> None:
        """A new episode: a recurrent agent forgets the last one."""
        reset_state(self.agent)


class PolicyTeacher:
    """A policy object's ``act(obs, info)`` on the observation."""

    reads_state = False

    def __init__(self, policy: Any):
        self.policy = policy

    def act(self, obs: Any, info: Mapping[str, Any]) -> int:
        return int(self.policy.act(obs, info))


class InfoInputTeacher:
    """Another teacher, shown ``info[key]`` in place of the observation."""

    def __init__(self, teacher: Teacher, key: str):
        self.teacher, self.key = teacher, key

    @property
    def reads_state(self) -> bool:
        return reads_true_state(self.teacher)

    def reset_state(self) -> None:
        reset_state(self.teacher)

    def act(self, obs: Any, info: Mapping[str, Any]) -> int:
        if self.key not in info:
            raise ValueError(
                f"teacher input {self.key!r}: the env's info has no such key "
                f"(it has {sorted(info)})"
            )
        return self.teacher.act(info[self.key], info)


def reset_state(policy: Any) -> None:
    """Call ``policy.reset_state()`` if it has one (a recurrent policy, before an episode)."""
    reset = getattr(policy, "reset_state", None)
    if reset is not None:
        reset()


def reads_true_state(teacher: Teacher) -> bool:
    """Whether `teacher` acts on ``env.unwrapped.s`` rather than on the observation."""
    return bool(getattr(teacher, "reads_state", False))


# ----------------------------------------------------------------------------- building


def make_teacher(spec: TeacherSpec, env: gym.Env) -> Teacher:
    """The teacher `spec` names, built for `env`."""
    if isinstance(spec, PlannerTeacherSpec):
        return PlanningTeacher(env, spec.planner, spec.gamma, spec.theta)
    teacher: Teacher
    if isinstance(spec, RunTeacherSpec):
        teacher = load_teacher(spec.run, env)
    else:
        teacher = PolicyTeacher(build_policy(spec.policy, env))
    return teacher if spec.input is None else InfoInputTeacher(teacher, spec.input)


def load_teacher(path: str | Path, env: gym.Env) -> AgentTeacher:
    """The agent trained in `path` (run directory, agent file or checkpoint) as a teacher."""
    if not Path(path).exists():
        raise FileNotFoundError(f"teacher {str(path)!r}: no such run directory or agent file")
    agent, config = load_agent(path)
    if env.spec is not None and config.env.id != env.spec.id:
        raise ValueError(f"teacher {str(path)!r} was trained on {config.env.id}, not {env.spec.id}")
    probe = env_factory(config)()
    teacher_space = probe.observation_space
    probe.close()
    if teacher_space == env.observation_space:
        return AgentTeacher(agent)
    if isinstance(teacher_space, gym.spaces.Discrete) and hasattr(env.unwrapped, "s"):
        return AgentTeacher(agent, env)
    raise ValueError(
        f"teacher {str(path)!r} observes {teacher_space}, the student {env.observation_space}; "
        "only a teacher trained on state indices can read another observation type"
    )


def import_policy_class(spec: str) -> type:
    """The class ``module:Class`` names; ValueError naming what failed to import."""
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"teacher {spec!r}: cannot import module {module_name!r}: {exc}") from None
    found = getattr(module, class_name, None)
    if not inspect.isclass(found):
        what = "no attribute" if found is None else "no class"
        raise ValueError(f"teacher {spec!r}: module {module_name!r} has {what} {class_name!r}")
    if not callable(getattr(found, "act", None)):
        raise ValueError(f"teacher {spec!r}: {class_name} has no act(obs, info) method")
    return found


def build_policy(spec: str, env: gym.Env) -> Any:
    """An instance of the class ``module:Class`` built for `env`: each constructor parameter
    named like an attribute of ``env.unwrapped`` (e.g. ``ontology``) receives that attribute,
    the others keep their defaults."""
    cls = import_policy_class(spec)
    base = env.unwrapped
    shared = [name for name in inspect.signature(cls).parameters if hasattr(base, name)]
    return cls(**{name: getattr(base, name) for name in shared})
