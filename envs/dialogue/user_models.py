"""The simulated drivers by name, and :func:`make_user`, which builds one from a ``user:``
setting: a model name, a params object, or a mapping of a model name and its params' fields."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

from envs.dialogue.goals import GoalParams
from envs.dialogue.ontology import Ontology
from envs.dialogue.stochastic_user import StochasticUserParams, StochasticUserSimulator
from envs.dialogue.user_simulator import UserParams, UserSimulator


class UserModel(NamedTuple):
    simulator: type[UserSimulator]
    params: type[UserParams]


USER_MODELS: dict[str, UserModel] = {
    "agenda": UserModel(UserSimulator, UserParams),
    "stochastic": UserModel(StochasticUserSimulator, StochasticUserParams),
}
DEFAULT_USER_MODEL = "agenda"

UserSpec = str | UserParams | Mapping[str, Any] | None


def make_user(ontology: Ontology, spec: UserSpec = None) -> UserSimulator:
    """The driver ``spec`` names: None (the agenda driver with its defaults), a name of
    :data:`USER_MODELS`, a params object of one of them, or a mapping with an optional
    ``model`` (default ``"agenda"``) and any of that model's params fields (``goal`` may be a
    mapping of :class:`GoalParams` fields). Bad names, fields and values raise ValueError."""
    if spec is None or isinstance(spec, str):
        model = _model(spec or DEFAULT_USER_MODEL)
        return model.simulator(ontology, model.params())
    if isinstance(spec, UserParams):
        for model in USER_MODELS.values():
            if type(spec) is model.params:
                return model.simulator(ontology, spec)
        raise ValueError(f"no user model takes {type(spec).__name__}; known: {_known_params()}")
    if isinstance(spec, Mapping):
        fields = dict(spec)
        model = _model(fields.pop("model", DEFAULT_USER_MODEL))
        goal = fields.get("goal")
        if isinstance(goal, Mapping):
            fields["goal"] = _build(GoalParams, goal, "user.goal")
        elif goal is not None and not isinstance(goal, GoalParams):
            raise ValueError(f"user.goal must be a mapping of GoalParams fields, got {goal!r}")
        return model.simulator(ontology, _build(model.params, fields, "user"))
    raise ValueError(
        f"user must be a model name {sorted(USER_MODELS)}, a params object or a mapping, "
        f"got {spec!r}"
    )


def _model(name: object) -> UserModel:
    if not isinstance(name, str) or name not in USER_MODELS:
        raise ValueError(f"unknown user model {name!r}; known: {sorted(USER_MODELS)}")
    return USER_MODELS[name]


def _known_params() -> list[str]:
    return [model.params.__name__ for model in USER_MODELS.values()]


def _build(cls: type[Any], fields: Mapping[str, Any], where: str) -> Any:
    """``cls(**fields)``, refusing unknown fields by name and wrong types as ValueError."""
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise ValueError(f"unknown {where} field(s) {unknown} for {cls.__name__}; known: {known}")
    try:
        return cls(**fields)
    except TypeError as exc:  # e.g. a string where a probability belongs
        raise ValueError(f"bad {where} fields {dict(fields)}: {exc}") from None
