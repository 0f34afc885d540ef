"""Hyper-parameters that change with the step count: epsilon, step sizes, temperatures.

In a config a schedule is either a plain number (constant) or a mapping::

    epsilon: {kind: linear, start: 1.0, end: 0.05, steps: 10000}
    alpha:   {kind: exponential, start: 0.5, end: 0.01, decay: 0.999}

`linear` moves from `start` to `end` over `steps` steps and then stays at `end`;
`exponential` multiplies by `decay` every step and never falls below `end`.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

T = TypeVar("T")

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
StepSize = Annotated[float, Field(gt=0.0, le=1.0)]


class FrozenModel(BaseModel):
    """Base of every config section: immutable, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Linear(FrozenModel, Generic[T]):
    kind: Literal["linear"]
    start: T
    end: T
    steps: PositiveInt


class Exponential(FrozenModel, Generic[T]):
    kind: Literal["exponential"]
    start: T
    end: T
    decay: Annotated[float, Field(gt=0.0, lt=1.0)]


def schedule_of(value_type: Any) -> Any:
    """The config type for a schedule whose values are of `value_type` (with its bounds)."""
    decays = Annotated[Linear[value_type] | Exponential[value_type], Field(discriminator="kind")]
    return value_type | decays


def schedule_value(spec: float | Linear[Any] | Exponential[Any], step: int) -> float:
    """The value of a schedule at `step` (0-based)."""
    if isinstance(spec, Linear):
        frac = min(step / spec.steps, 1.0)
        return float(spec.start + frac * (spec.end - spec.start))
    if isinstance(spec, Exponential):
        return float(max(spec.start * spec.decay**step, spec.end))
    return float(spec)
