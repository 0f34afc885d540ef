"""The driver's goal: the intents wanted, in order, with a constraint on every slot of each.

A constraint is a value of the slot or ``DONT_CARE``. Required slots always hold a value;
optional ones hold a value with probability ``p_optional`` and ``DONT_CARE`` otherwise. The
slots with values the driver volunteers when first naming the intent are ``volunteered``; the
rest come only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from envs.dialogue.ontology import DONT_CARE, Ontology


@dataclass(frozen=True)
class GoalParams:
    """How goals are drawn [probabilities]."""

    p_second_intent: float = 0.3  # a second, different intent follows the first
    p_optional: float = 0.5  # an optional slot gets a value rather than DONT_CARE
    p_volunteer: float = 0.5  # a slot with a value is said before being asked

    def __post_init__(self) -> None:
        for name in ("p_second_intent", "p_optional", "p_volunteer"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"GoalParams.{name} must be in [0, 1], got {p}")


@dataclass
class IntentGoal:
    intent: str
    constraints: dict[str, str]  # every slot of the intent -> value or DONT_CARE
    volunteered: tuple[str, ...] = ()

    def wanted(self) -> dict[str, str]:
        """The slots with a value (the constraints that are not DONT_CARE)."""
        return {s: v for s, v in self.constraints.items() if v != DONT_CARE}


@dataclass
class Goal:
    intents: list[IntentGoal] = field(default_factory=list)

    def for_intent(self, intent: str) -> IntentGoal | None:
        return next((g for g in self.intents if g.intent == intent), None)

    def constraint(self, slot: str) -> str | None:
        """The goal's constraint on ``slot``, or None when no goal intent has that slot."""
        for g in self.intents:
            if slot in g.constraints:
                return g.constraints[slot]
        return None

    def __str__(self) -> str:
        """``intent(slot=value, ...); ...`` with ``*`` after each volunteered value."""
        parts = []
        for g in self.intents:
            slots = ", ".join(
                f"{s}={v}{'*' if s in g.volunteered else ''}" for s, v in g.constraints.items()
            )
            parts.append(f"{g.intent}({slots})")
        return "; ".join(parts)


def sample_goal(ontology: Ontology, rng: np.random.Generator, params: GoalParams) -> Goal:
    """One or two distinct intents with constraints drawn as :class:`GoalParams` says."""
    n = 2 if rng.random() < params.p_second_intent else 1
    chosen = rng.choice(ontology.n_intents, size=n, replace=False)
    return Goal([
        sample_intent_goal(ontology, ontology.intents[i].name, rng, params)
        for i in chosen.tolist()
    ])  # fmt: skip


def sample_intent_goal(
    ontology: Ontology, intent: str, rng: np.random.Generator, params: GoalParams
) -> IntentGoal:
    """The constraints and volunteered slots of one wanted ``intent``, drawn as
    :class:`GoalParams` says."""
    spec = ontology.intent(intent)
    constraints = {}
    for slot in spec.slots:
        if slot in spec.required or rng.random() < params.p_optional:
            values = ontology.slot(slot).values
            constraints[slot] = values[int(rng.integers(len(values)))]
        else:
            constraints[slot] = DONT_CARE
    wanted = [s for s, v in constraints.items() if v != DONT_CARE]
    volunteered = tuple(s for s in wanted if rng.random() < params.p_volunteer)
    return IntentGoal(spec.name, constraints, volunteered)
