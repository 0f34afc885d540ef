"""The speech and language-understanding front end between the driver and the system.

Every act the driver says is heard with a confidence score, and some are heard wrongly:

- a slot act (``INFORM``, ``DONT_CARE``) is corrupted with probability ``slot_error``; the kind
  of corruption is drawn from ``mix``: ``VALUE`` (another value of the same slot; a don't-care
  heard as a value), ``SLOT`` (another slot of the same intent, with a value of that slot) or
  ``DELETION`` (not heard at all);
- an ``INFORM_INTENT`` is heard as another intent with probability ``intent_error``, and an
  ``AFFIRM``/``NEGATE`` as its opposite with the same probability (``POLARITY``);
- other acts are always heard right.

Confidence scores are drawn from ``Beta(*right_confidence)`` for acts heard right and from
``Beta(*wrong_confidence)`` for acts heard wrongly, so that a low score hints at an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from envs.dialogue.acts import UserAct, UserActType
from envs.dialogue.ontology import Ontology


class ErrorKind(IntEnum):
    VALUE = 0
    SLOT = 1
    DELETION = 2
    INTENT = 3
    POLARITY = 4


SLOT_ERROR_KINDS = (ErrorKind.VALUE, ErrorKind.SLOT, ErrorKind.DELETION)
SLOT_ACTS = (UserActType.INFORM, UserActType.DONT_CARE)
FLIPPED = {UserActType.AFFIRM: UserActType.NEGATE, UserActType.NEGATE: UserActType.AFFIRM}


@dataclass(frozen=True)
class HeardAct:
    """An act as the system heard it, its confidence score, and (for analysis and transcripts
    only; never shown to a policy) what was said and the error made, if any."""

    act: UserAct
    confidence: float
    said: UserAct
    error: ErrorKind | None = None


@dataclass(frozen=True)
class ErrorModel:
    slot_error: float = 0.05  # P(a slot act is corrupted)
    intent_error: float = 0.05  # P(an intent or yes/no is heard wrongly)
    mix: tuple[float, float, float] = (0.6, 0.2, 0.2)  # P(VALUE), P(SLOT), P(DELETION)
    right_confidence: tuple[float, float] = (9.0, 1.0)  # Beta(a, b): mean 0.9
    wrong_confidence: tuple[float, float] = (2.0, 2.0)  # Beta(a, b): mean 0.5

    def __post_init__(self) -> None:
        for name in ("slot_error", "intent_error"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"ErrorModel.{name} must be in [0, 1], got {p}")
        if len(self.mix) != 3 or min(self.mix) < 0 or not np.isclose(sum(self.mix), 1.0):
            raise ValueError(
                f"ErrorModel.mix must be three probabilities (value, slot, deletion) summing to "
                f"1, got {self.mix}"
            )
        for name in ("right_confidence", "wrong_confidence"):
            a, b = getattr(self, name)
            if a <= 0 or b <= 0:
                raise ValueError(f"ErrorModel.{name} must be two positive Beta parameters")

    def hear(
        self, acts: list[UserAct], ontology: Ontology, rng: np.random.Generator
    ) -> list[HeardAct]:
        """What the system hears of ``acts`` (deleted acts are left out), in order."""
        heard = []
        for said in acts:
            act, error = self._corrupt(said, ontology, rng)
            if act is None:
                continue
            a, b = self.wrong_confidence if error is not None else self.right_confidence
            heard.append(HeardAct(act, float(rng.beta(a, b)), said, error))
        return heard

    def _corrupt(
        self, act: UserAct, ontology: Ontology, rng: np.random.Generator
    ) -> tuple[UserAct | None, ErrorKind | None]:
        if act.type in SLOT_ACTS and act.slot is not None:
            if rng.random() >= self.slot_error:
                return act, None
            kind = SLOT_ERROR_KINDS[int(rng.choice(3, p=self.mix))]
            return self._corrupt_slot(act, kind, ontology, rng)
        if act.type == UserActType.INFORM_INTENT and act.intent is not None:
            if rng.random() >= self.intent_error:
                return act, None
            other = _other(tuple(t.name for t in ontology.intents), act.intent, rng)
            return UserAct(UserActType.INFORM_INTENT, intent=other), ErrorKind.INTENT
        if act.type in FLIPPED:
            if rng.random() >= self.intent_error:
                return act, None
            return UserAct(FLIPPED[act.type], slot=act.slot), ErrorKind.POLARITY
        return act, None

    def _corrupt_slot(
        self, act: UserAct, kind: ErrorKind, ontology: Ontology, rng: np.random.Generator
    ) -> tuple[UserAct | None, ErrorKind]:
        assert act.slot is not None
        if kind == ErrorKind.DELETION:
            return None, kind
        slot = act.slot
        siblings = ontology.intent(ontology.slot_owner[slot]).slots
        if kind == ErrorKind.SLOT and len(siblings) > 1:
            slot = _other(siblings, slot, rng)
            if act.type == UserActType.DONT_CARE:
                return UserAct(UserActType.DONT_CARE, slot=slot), kind
            values = ontology.slot(slot).values
            return UserAct(UserActType.INFORM, slot=slot, value=_pick(values, rng)), kind
        values = ontology.slot(slot).values
        value = _pick(values, rng) if act.value is None else _other(values, act.value, rng)
        return UserAct(UserActType.INFORM, slot=slot, value=value), ErrorKind.VALUE


def _pick(options: tuple[str, ...], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def _other(options: tuple[str, ...], current: str, rng: np.random.Generator) -> str:
    """A uniformly drawn option other than ``current``."""
    rest = tuple(o for o in options if o != current)
    return _pick(rest, rng)
