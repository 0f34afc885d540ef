"""A second simulated driver, less orderly than the agenda one, to test policies on a driver
they were not trained with.

It keeps the agenda driver's goals, patience, needless acts and judgement
(:mod:`envs.dialogue.user_simulator`) and answers differently, each habit with its own
probability. "Untold slots" are the slots of the intent the driver is after (its first goal
intent not yet carried out) that hold a wanted value it has not said yet.

- ``p_out_of_order``: asked for a slot, it gives instead the value of an untold slot other
  than the one asked (drawn uniformly), and nothing about the one asked;
- ``p_over_inform``: otherwise, after answering the request it also gives the value of such a
  slot;
- ``p_terse``: a "no" to a confirm or an offer comes without the right value;
- ``p_switch_intent``: per turn, once it has named the intent it is after (and before that is
  carried out), it wants another intent of the domain instead (one not in its goal, drawn
  uniformly, with constraints and volunteered slots drawn as ``goal`` says) and says so: the
  new intent and the values it volunteers. A turn with no switch may still change one slot's
  value (``p_change_mind``), as the agenda driver does.

A request draws for ``p_out_of_order`` and then ``p_over_inform`` only while an untold slot
other than the one asked exists; a confirm or offer draws for ``p_terse`` only when negated; a
turn draws for ``p_switch_intent`` only while the pending intent has been named. Every draw is
on the generator passed to ``start``/``respond``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from envs.dialogue.acts import SystemAct, SystemActType, UserAct, UserActType
from envs.dialogue.goals import IntentGoal, sample_intent_goal
from envs.dialogue.ontology import DONT_CARE, Ontology
from envs.dialogue.user_simulator import UserParams, UserSimulator


@dataclass(frozen=True)
class StochasticUserParams(UserParams):
    """:class:`UserParams` and the rates of the stochastic driver's habits."""

    p_change_mind: float = 0.05  # per turn, one slot already given gets another value
    p_out_of_order: float = 0.3  # a request is answered with another untold slot instead
    p_over_inform: float = 0.3  # a request's answer also gives another untold slot
    p_terse: float = 0.7  # a "no" to a confirm or offer comes without the right value
    p_switch_intent: float = 0.05  # per turn, the named pending intent is swapped for another


class StochasticUserSimulator(UserSimulator):
    """The driver of this module's docstring; ``start`` and ``respond`` as the agenda one."""

    params: StochasticUserParams

    def __init__(self, ontology: Ontology, params: StochasticUserParams | None = None) -> None:
        if params is not None and not isinstance(params, StochasticUserParams):
            raise ValueError(
                f"StochasticUserSimulator needs StochasticUserParams, got {type(params).__name__}"
            )
        super().__init__(ontology, params or StochasticUserParams())

    def _answer(
        self,
        act: SystemAct,
        values: dict[str, str],
        offered: tuple[str, ...],
        rng: np.random.Generator,
    ) -> list[UserAct]:
        if act.type == SystemActType.REQUEST:
            untold = self._untold_slots(besides=act.slot)
            if untold and rng.random() < self.params.p_out_of_order:
                return [self._inform(untold, rng)]
            acts = super()._answer(act, values, offered, rng)
            if untold and rng.random() < self.params.p_over_inform:
                acts.append(self._inform(untold, rng))
            return acts
        acts = super()._answer(act, values, offered, rng)
        negated = act.type in (SystemActType.CONFIRM, SystemActType.OFFER) and (
            acts[0].type == UserActType.NEGATE
        )
        if negated and rng.random() < self.params.p_terse:
            return acts[:1]
        return acts

    def _maybe_change_mind(self, rng: np.random.Generator) -> list[UserAct]:
        current = self.current
        if (
            current is not None
            and current.intent in self.announced
            and rng.random() < self.params.p_switch_intent
        ):
            others = [t.name for t in self.ontology.intents if self.goal.for_intent(t.name) is None]
            if others:
                return self._switch(current, others[int(rng.integers(len(others)))], rng)
        return super()._maybe_change_mind(rng)

    def _untold_slots(self, besides: str | None) -> list[str]:
        """Slots of the current intent with a wanted value the driver has not told yet."""
        current = self.current
        if current is None:
            return []
        return [
            s
            for s, v in current.constraints.items()
            if v != DONT_CARE and s != besides and self.told.get(s) != v
        ]

    def _inform(self, slots: list[str], rng: np.random.Generator) -> UserAct:
        """The wanted value of one of ``slots``, drawn uniformly."""
        slot = slots[int(rng.integers(len(slots)))]
        return UserAct(UserActType.INFORM, slot=slot, value=self.stated(slot))

    def _switch(self, old: IntentGoal, intent: str, rng: np.random.Generator) -> list[UserAct]:
        """Want ``intent`` instead of ``old``; returns what the driver says about it."""
        new = sample_intent_goal(self.ontology, intent, rng, self.params.goal)
        self.goal.intents[self.goal.intents.index(old)] = new
        self.announced.add(intent)
        return [UserAct(UserActType.INFORM_INTENT, intent=intent)] + [
            UserAct(UserActType.INFORM, slot=s, value=new.constraints[s]) for s in new.volunteered
        ]
