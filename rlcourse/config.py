"""Experiment configs: YAML file + `key=value` overrides -> one validated, frozen object.

A config has four sections::

    env:     {id: rlcourse/CliffWalking-v0, kwargs: {}}
    agent:   {name: q_learning, alpha: 0.5, ...}     # keys depend on the agent
    train:   {steps: 50000, seed: 0, ...}
    backend: rlcourse

`backend` is who trains: ``rlcourse`` (the default) trains the `agent` section with our
algorithms; ``sb3`` and ``rllib`` train a Stable-Baselines3 or RLlib algorithm, whose choice and
hyper-parameters live in the backend section itself (a mapping such as
``{name: sb3, algo: DQN, hyperparameters: {learning_rate: 1e-3}}``; the plain name takes every
default). With a library backend the `agent` section is optional, and unused when present (it is
still validated, so one file can switch backends with a ``backend=...`` override). The `env` and
`train` sections mean the same for every backend.

Every problem (unknown key, wrong type, value out of range, unknown env or agent) is collected
and raised together as one `ConfigError` before anything runs, each line naming the file, the
dotted key and what was expected, with the closest valid key suggested for typos.

Files and override values are YAML (with exponents such as ``1e-3`` read as numbers, as in
YAML 1.2). Scalars are held to their types: ``true`` is no integer, ``1`` no boolean, ``2.5``
no integer and a quoted ``"5"`` no number; an integer fills a float, and a list a tuple.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from rlcourse.schedules import FrozenModel

__all__ = [
    "BACKENDS",
    "AgentConfig",
    "BackendConfig",
    "ConfigError",
    "EnvConfig",
    "ExperimentConfig",
    "RLlibBackend",
    "RlcourseBackend",
    "SB3Backend",
    "TrainConfig",
    "apply_overrides",
    "load_config",
    "parse_config",
    "read_yaml",
]


class ConfigError(ValueError):
    """A config that cannot run; `problems` lists one message per bad key."""

    def __init__(self, source: str, problems: Sequence[str]):
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid config {source}:\n{lines}")


class EnvConfig(FrozenModel):
    id: str = Field(description="a registered Gymnasium id, e.g. rlcourse/CliffWalking-v0")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="passed to gymnasium.make")


class AgentConfig(FrozenModel):
    """Base of every agent's hyper-parameter section; subclasses fix `name` to a Literal."""

    name: str


class TrainConfig(FrozenModel):
    steps: PositiveInt | None = Field(None, description="budget in environment steps")
    episodes: PositiveInt | None = Field(None, description="budget in episodes")
    seed: NonNegativeInt = 0
    eval_every: PositiveInt | None = Field(None, description="evaluate every N env steps")
    eval_episodes: PositiveInt = 20
    eval_max_steps: PositiveInt = Field(
        10_000, description="cut evaluation episodes (a greedy policy may circle forever)"
    )
    checkpoint_every: PositiveInt = Field(10_000, description="checkpoint every N env steps")
    log_every: PositiveInt = Field(1, description="write episode scalars every N episodes")
    runs_dir: str = "runs"
    name: str | None = Field(
        None,
        description="the run's folder under runs_dir/<env>/<config name>/ (default: a time stamp)",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    )

    @model_validator(mode="after")
    def _needs_a_budget(self) -> TrainConfig:
        if self.steps is None and self.episodes is None:
            raise ValueError("give a budget: train.steps, train.episodes or both")
        return self


class RlcourseBackend(FrozenModel):
    """Our own agents: the `agent` section names the algorithm and its hyper-parameters."""

    name: Literal["rlcourse"] = "rlcourse"


class SB3Backend(FrozenModel):
    """A Stable-Baselines3 algorithm (MaskablePPO comes from sb3-contrib).

    `hyperparameters` are the algorithm's constructor keywords (``learning_rate``, ``n_steps``,
    ``buffer_size``...) and `policy_kwargs` its policy's (``net_arch``, ``activation_fn`` as a
    name such as ``tanh``); both are checked against the installed SB3 before anything runs.
    """

    name: Literal["sb3"] = "sb3"
    algo: Literal["PPO", "DQN", "A2C", "SAC", "TD3", "DDPG", "MaskablePPO"] = "PPO"
    policy: Literal["MlpPolicy", "CnnPolicy", "MultiInputPolicy"] = "MlpPolicy"
    n_envs: PositiveInt = Field(1, description="environments stepped together (DummyVecEnv)")
    policy_kwargs: dict[str, Any] = Field(default_factory=dict)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    device: Literal["cpu", "cuda", "auto"] = "cpu"


class RLlibBackend(FrozenModel):
    """RLlib's PPO or DQN on the new API stack (RLModule, Learner, EnvRunner).

    `hyperparameters` go to ``AlgorithmConfig.training`` (``lr``, ``gamma``,
    ``train_batch_size_per_learner``, ``minibatch_size``, ``num_epochs``...) and `model` to the
    default RLModule's ``DefaultModelConfig`` (``fcnet_hiddens``, ``fcnet_activation``...); both
    are checked against the installed RLlib before anything runs. With `address` null a local
    cluster of `num_cpus` CPUs is started (all cores when null); ``auto`` or ``host:port`` joins
    an existing cluster.
    """

    name: Literal["rllib"] = "rllib"
    algo: Literal["PPO", "DQN"] = "PPO"
    num_env_runners: NonNegativeInt = Field(
        2, description="remote sampling actors (0: sample in the driver)"
    )
    num_envs_per_env_runner: PositiveInt = 1
    num_cpus: PositiveInt | None = Field(None, description="CPUs of a local cluster")
    address: str | None = Field(None, description="an existing cluster: auto or host:port")
    model: dict[str, Any] = Field(default_factory=dict)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)


BackendConfig = Annotated[RlcourseBackend | SB3Backend | RLlibBackend, Field(discriminator="name")]
BACKENDS = ("rlcourse", "sb3", "rllib")


class ExperimentConfig(FrozenModel):
    """A whole experiment. `name` defaults to the config file's stem.

    `agent` is required with the rlcourse backend and optional with the others.
    """

    name: str = "experiment"
    env: EnvConfig
    agent: AgentConfig | None = None
    train: TrainConfig
    backend: BackendConfig = Field(default_factory=RlcourseBackend)

    @field_validator("backend", mode="before")
    @classmethod
    def _backend_by_name(cls, value: Any) -> Any:
        """The plain string form (``backend: sb3``) is the mapping with every default."""
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _agent_for_our_backend(self) -> ExperimentConfig:
        if self.backend.name == "rlcourse" and self.agent is None:
            raise ValueError(_NO_AGENT)
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


# ----------------------------------------------------------------------------- overrides


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A deep copy of `data` with each `dotted.key=value` set (value parsed as YAML).

    Raises one ConfigError listing every malformed override."""
    result = _deep_copy(data)
    problems = []
    for item in overrides:
        problem = _apply_override(result, item)
        if problem:
            problems.append(f"{item!r}: {problem}")
    if problems:
        raise ConfigError("(command line)", problems)
    return result


def _apply_override(data: dict[str, Any], item: str) -> str | None:
    """Set one `dotted.key=value` in `data`; what is wrong with it, or None."""
    key, sep, raw = item.partition("=")
    if not sep or not key or not re.fullmatch(r"[A-Za-z_][\w.]*", key):
        return "an override must look like section.key=value"
    try:
        value = read_yaml(raw) if raw != "" else ""
    except yaml.YAMLError as exc:
        return f"the value is not valid YAML ({_yaml_problem(exc)})"
    parts = key.split(".")
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if depth == 0 and part == "backend" and isinstance(child, str):
            child = node[part] = {"name": child}  # `backend: sb3` is `backend: {name: sb3}`
        if not isinstance(child, dict):
            return f"{'.'.join(parts[: depth + 1])} is a value, not a section"
        node = child
    node[parts[-1]] = value
    return None


def _deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in data.items()}


# ----------------------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, but numbers with an exponent and no dot (``1e-3``, ``5E4``) are
    floats as in YAML 1.2, not strings."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_yaml(text: str) -> Any:
    """Plain data from YAML text as configs read it (safe loading; ``1e-3`` is a float).
    Raises yaml.YAMLError."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader: plain data, never objects


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error on one line: where (1-based) and what."""
    mark = getattr(exc, "problem_mark", None)
    what = getattr(exc, "problem", None) or getattr(exc, "context", None)
    if mark is None or what is None:
        return " ".join(str(exc).split())
    return f"line {mark.line + 1}, column {mark.column + 1}: {what}"


# ----------------------------------------------------------------------------- validation


def _experiment_model(agent_schemas: Mapping[str, type[AgentConfig]]) -> type[ExperimentConfig]:
    return _experiment_model_of(tuple(agent_schemas.values()))


@functools.cache
def _experiment_model_of(schemas: tuple[type[AgentConfig], ...]) -> type[ExperimentConfig]:
    """ExperimentConfig whose `agent` is the union of the registered agents' sections."""
    if not schemas:
        return ExperimentConfig
    agent_type: Any = schemas[0]
    if len(schemas) > 1:
        agent_type = Annotated[Union[schemas], Field(discriminator="name")]  # noqa: UP007
    return create_model(
        "ExperimentConfig", __base__=ExperimentConfig, agent=(agent_type | None, None)
    )


def parse_config(
    data: Mapping[str, Any],
    agent_schemas: Mapping[str, type[AgentConfig]],
    source: str = "<config>",
    name: str | None = None,
    overridden: Iterable[str] = (),
) -> ExperimentConfig:
    """Validate a config mapping; raise ConfigError listing every problem."""
    data = dict(data)
    if name is not None:
        data.setdefault("name", name)
    problems = _precheck_backend(data) or _precheck_agent(data, agent_schemas)
    if problems:
        raise ConfigError(source, problems)
    model = _experiment_model(agent_schemas)
    config, errors = _validate(model, data)
    if config is None:
        raise ConfigError(source, _describe(errors, model, data, set(overridden)))
    env_problems = _check_env(config.env)
    if env_problems:
        raise ConfigError(source, env_problems)
    return config


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The sections of a YAML config file, unvalidated; `ConfigError` naming the file if it is
    missing, unreadable, not UTF-8, not YAML or not a mapping."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(str(path), ["no such file"])
    try:
        text = path.read_bytes().decode("utf-8")
        data = read_yaml(text) or {}
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot be read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [f"not UTF-8 text (byte {exc.start})"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [f"not valid YAML: {_yaml_problem(exc)}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["the top level must be a mapping of sections"])
    return data


def load_config(
    path: str | Path,
    overrides: Sequence[str] = (),
    agent_schemas: Mapping[str, type[AgentConfig]] | None = None,
) -> ExperimentConfig:
    """Read a YAML config, apply `key=value` overrides, validate, return the frozen config."""
    path = Path(path)
    data = apply_overrides(read_config_file(path), overrides)
    overridden = [o.partition("=")[0] for o in overrides]
    return parse_config(data, agent_schemas or {}, str(path), path.stem, overridden)


# Strict validation's verdicts on scalars: a boolean, float or string where an integer belongs
# (int_type), a number where a boolean does (bool_type), a boolean or string for a float.
_STRICT_SCALARS = frozenset({"int_type", "bool_type", "float_type"})


def _validate(model: type[ExperimentConfig], data: Mapping[str, Any]) -> tuple[Any, list[Any]]:
    """(the config or None, pydantic's error details) for plain config data.

    Scalars are held to their types as in JSON: YAML ``true`` is no integer (lax validation
    makes it 1), ``1`` no boolean, ``2.5`` no integer, ``"5"`` no number. A second, strict pass
    over the data as JSON finds those, and its verdict on such a key replaces the lax pass's;
    its other verdicts (a list for a tuple...) are left to the lax pass, which gives the config.
    """
    try:
        config, errors = model.model_validate(data), []
    except ValidationError as exc:
        config, errors = None, exc.errors()
    try:
        model.model_validate_json(json.dumps(data, default=str), strict=True)
    except ValidationError as exc:
        scalars = [error for error in exc.errors() if error["type"] in _STRICT_SCALARS]
        wrong = {error["loc"] for error in scalars}
        errors = [error for error in errors if error["loc"] not in wrong] + scalars
    return (config if not errors else None), errors


def _precheck_agent(data: Mapping[str, Any], schemas: Mapping[str, type[AgentConfig]]) -> list[str]:
    """Friendlier messages than pydantic's for a missing or unknown agent name."""
    agent = data.get("agent")
    if not schemas or not isinstance(agent, Mapping):
        return []
    name = agent.get("name")
    if name is None:
        return [f"agent.name: missing; expected one of {sorted(schemas)}"]
    if name not in schemas:
        return [
            f"agent.name: unknown agent {name!r}{_suggest(str(name), schemas)}; "
            f"expected one of {sorted(schemas)}"
        ]
    return []


_NO_AGENT = (
    "the rlcourse backend trains the agent section: add one "
    "(or choose backend: sb3 or backend: rllib)"
)


def _precheck_backend(data: Mapping[str, Any]) -> list[str]:
    """An unknown backend name, and the agent section the rlcourse backend needs."""
    backend = data.get("backend", "rlcourse")
    name = backend.get("name") if isinstance(backend, Mapping) else backend
    where = "backend.name" if isinstance(backend, Mapping) else "backend"
    if isinstance(backend, Mapping) and name is None:
        return [f"{where}: missing; expected one of {list(BACKENDS)}"]
    if not isinstance(name, str) or name not in BACKENDS:
        return [
            f"{where}: unknown backend {name!r}{_suggest(str(name), BACKENDS)}; "
            f"expected one of {list(BACKENDS)}"
        ]
    if name == "rlcourse" and data.get("agent") is None:
        return [f"agent: missing; {_NO_AGENT}"]
    return []


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and Optional wrappers down to the type that matters."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _branches(annotation: Any) -> list[Any]:
    """The alternatives of a union, flattened and without None (an optional section's None
    alternative locates nothing); [annotation] for anything else."""
    annotation = _unwrap(annotation)
    if get_origin(annotation) in (Union, UnionType):
        return [b for arg in get_args(annotation) if arg is not type(None) for b in _branches(arg)]
    return [annotation]


def _tag_of(model: Any) -> tuple[Any, ...]:
    """The Literal values a model's discriminator fields accept (name or kind)."""
    for field_name in ("name", "kind"):
        field = model.model_fields.get(field_name)
        if field is not None and get_origin(field.annotation) is Literal:
            return get_args(field.annotation)
    return ()


def _locate(model: Any, loc: Sequence[Any], data: Any) -> list[str] | None:
    """Map pydantic's error location onto config keys.

    Returns None for an error raised inside a union alternative that does not fit the shape
    of the given value (a mapping checked against the plain-number alternative, or a number
    against the mapping alternatives): those errors only restate the other branch's.
    """
    keys: list[str] = []
    annotation, value = model, data
    for part in loc:
        branches = _branches(annotation)
        if len(branches) > 1:
            models = [b for b in branches if _is_model(b)]
            tagged = [m for m in models if part in _tag_of(m)]
            if tagged:  # the alternative a tagged union picked
                annotation = tagged[0]
            elif isinstance(part, str) and part.startswith("tagged-union"):
                annotation = Union[tuple(models)]  # noqa: UP007
            else:  # the plain-value alternative
                if isinstance(value, Mapping):
                    return None
                annotation = Any
                continue
            if not isinstance(value, Mapping):
                return None
            continue
        annotation = branches[0]
        keys.append(str(part))
        if _is_model(annotation):
            field = annotation.model_fields.get(part)
            annotation = field.annotation if field is not None else Any
        else:
            annotation = Any
        value = value.get(part) if isinstance(value, Mapping) else None
    return keys


def _section_keys(model: Any, keys: Sequence[str], data: Any) -> list[str]:
    """The valid keys of the section that holds `keys[-1]` (for typo suggestions)."""
    annotation, value = model, data
    for part in keys[:-1]:
        annotation = _pick_branch(annotation, value)
        field = annotation.model_fields.get(part) if _is_model(annotation) else None
        if field is None:
            return []
        annotation, value = (
            field.annotation,
            value.get(part) if isinstance(value, Mapping) else None,
        )
    annotation = _pick_branch(annotation, value)
    return list(annotation.model_fields) if _is_model(annotation) else []


def _pick_branch(annotation: Any, value: Any) -> Any:
    """The union alternative a mapping value selects by its name/kind tag."""
    models = [b for b in _branches(annotation) if _is_model(b)]
    if not models:
        return _unwrap(annotation)
    if isinstance(value, Mapping):
        for m in models:
            if value.get("name") in _tag_of(m) or value.get("kind") in _tag_of(m):
                return m
        for m in models:  # tagged by which key is present: {planner: ...}, {run: ...}
            if any(isinstance(tag, str) and tag in value for tag in _tag_of(m)):
                return m
    return models[0]


def _describe(
    errors: Sequence[Any], model: Any, data: Mapping[str, Any], overridden: set[str]
) -> list[str]:
    problems: list[str] = []
    for err in errors:
        keys = _locate(model, err["loc"], data)
        if keys is None:
            continue
        key = ".".join(keys) or "(top level)"
        kind = err["type"]
        if kind == "extra_forbidden":
            valid = [k for k in _section_keys(model, keys, data) if k not in ("name", "kind")]
            msg = f"unknown key{_suggest(keys[-1], valid)}"
            if valid:
                msg += f" (valid keys: {', '.join(sorted(valid))})"
        elif kind == "missing":
            msg = "missing required key"
        else:
            text = err["msg"]
            msg = (
                f"{text[:1].lower()}{text[1:]}, got {err.get('input')!r}"  # choices keep their case
            )
        by_hand = any(key == o or key.startswith(f"{o}.") for o in overridden)
        origin = " (set on the command line)" if by_hand else ""
        line = f"{key}: {msg}{origin}"
        if line not in problems:
            problems.append(line)
    return problems


def _check_env(env: EnvConfig) -> list[str]:
    """Unknown env ids and constructor keywords, found without building the env."""
    import gymnasium

    registry = gymnasium.envs.registration.registry
    if env.id not in registry:
        return [f"env.id: unknown environment {env.id!r}{_suggest(env.id, registry)}"]
    spec = registry[env.id]
    entry = spec.entry_point
    try:
        creator = (
            gymnasium.envs.registration.load_env_creator(entry) if isinstance(entry, str) else entry
        )
        if creator is None:
            return []
        params = inspect.signature(creator).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return []
    allowed = set(params) | {"render_mode", "max_episode_steps", "disable_env_checker"}
    return [
        f"env.kwargs.{key}: {env.id} takes no argument {key!r}{_suggest(key, allowed)} "
        f"(it takes: {', '.join(sorted(p for p in params if p not in ('self',)))})"
        for key in env.kwargs
        if key not in allowed
    ]
