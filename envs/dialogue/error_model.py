"""The speech and language-understanding front end between the driver and the system.

Each act the driver says reaches the system as an **n-best list**: up to ``n_best``
hypotheses, best first, each with a confidence. The confidences are *calibrated*: a hypothesis
shown with confidence ``c`` is what the driver said with probability ``c``. They are drawn first
and the truth is placed among them afterwards, which makes the calibration exact:

1. a slot act (``INFORM``, ``DONT_CARE``) is lost entirely (``DELETION``) with probability
   ``slot_error * mix[DELETION]``; nothing is heard of it;
2. the best hypothesis gets ``c_1 = 1/2 + Beta(k m, k (1 - m)) / 2`` with ``k = sharpness`` and
   ``m = 1 - 2 e``, where ``e`` is the act's chance of being outranked (for a slot act ``e`` is
   set so that lost plus outranked acts come to ``slot_error``; ``intent_error`` for an intent
   or a yes/no). So the mean of ``c_1`` is ``1 - e`` and its spread grows with the error rate;
3. the rest, ``1 - c_1``, is split ``Dirichlet(1, 1, 1)``-wise into the next two hypotheses
   (sorted) and "not in the list";
4. the truth takes rank ``k`` with probability ``c_k`` (or is left out with the remaining mass),
   and the other ranks hold distinct wrong hypotheses: another value of the slot (``VALUE``) or a
   sibling slot of the same intent with one of its values (``SLOT``), in proportion to ``mix``;
   another intent (``INTENT``); the opposite answer to a confirmation (``POLARITY``). A rank with
   no wrong hypothesis left to fill it is dropped, and so is one below ``min_confidence`` (as a
   recogniser prunes its list; dropping a hypothesis leaves the others calibrated).

So the best hypothesis is wrong (or the act is lost) with probability ``slot_error`` for slot
acts and ``intent_error`` for intents and yes/no; both must be at most 1/2. Other acts (hello,
thanks, done, hang-up, failure reports) are always heard right, with confidence 1. At error 0
every act is heard right with confidence 1 and nothing is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from envs.dialogue.acts import UserAct, UserActType
from envs.dialogue.ontology import Ontology

MAX_ERROR = 0.5  # the best hypothesis is right at least half the time
THREE_ONES = np.ones(3)  # Dirichlet parameters: the second, third and "not listed" ranks


class ErrorKind(IntEnum):
    VALUE = 0
    SLOT = 1
    DELETION = 2
    INTENT = 3
    POLARITY = 4


SLOT_ERROR_KINDS = (ErrorKind.VALUE, ErrorKind.SLOT, ErrorKind.DELETION)
SLOT_ACTS = (UserActType.INFORM, UserActType.DONT_CARE)
FLIPPED = {UserActType.AFFIRM: UserActType.NEGATE, UserActType.NEGATE: UserActType.AFFIRM}

Hypothesis = tuple[UserAct, float]  # an act and its confidence


@dataclass(frozen=True)
class HeardAct:
    """What the system heard of one act the driver said: its best hypothesis ``act`` with
    ``confidence``, the ``alternatives`` below it (best first), and, for analysis and
    transcripts only (never shown to a policy), what was ``said`` and the error of the best
    hypothesis, if any."""

    act: UserAct
    confidence: float
    said: UserAct
    error: ErrorKind | None = None
    alternatives: tuple[Hypothesis, ...] = ()

    @property
    def n_best(self) -> tuple[Hypothesis, ...]:
        """Every hypothesis with its confidence, best first."""
        return ((self.act, self.confidence), *self.alternatives)


@dataclass(frozen=True)
class ErrorModel:
    slot_error: float = 0.05  # P(a slot act is lost or its best hypothesis is wrong)
    intent_error: float = 0.05  # P(the best hypothesis of an intent or yes/no is wrong)
    mix: tuple[float, float, float] = (0.6, 0.2, 0.2)  # shares of VALUE, SLOT, DELETION errors
    n_best: int = 3  # hypotheses per act, at most
    sharpness: float = 4.0  # k of the Beta the best hypothesis's confidence is drawn from
    min_confidence: float = 0.01  # alternatives below this are not shown

    def __post_init__(self) -> None:
        for name in ("slot_error", "intent_error"):
            p = getattr(self, name)
            if not 0.0 <= p <= MAX_ERROR:
                raise ValueError(f"ErrorModel.{name} must be in [0, {MAX_ERROR}], got {p}")
        if len(self.mix) != 3 or min(self.mix) < 0 or not np.isclose(sum(self.mix), 1.0):
            raise ValueError(
                f"ErrorModel.mix must be three probabilities (value, slot, deletion) summing to "
                f"1, got {self.mix}"
            )
        if self.mix[ErrorKind.DELETION] == 1.0 and self.slot_error > 0:
            raise ValueError("ErrorModel.mix: slot errors cannot all be deletions")
        if not 1 <= self.n_best <= 3:
            raise ValueError(f"ErrorModel.n_best must be 1, 2 or 3, got {self.n_best}")
        if self.sharpness <= 0:
            raise ValueError(f"ErrorModel.sharpness must be positive, got {self.sharpness}")
        if not 0.0 <= self.min_confidence < 0.5:
            raise ValueError(
                f"ErrorModel.min_confidence must be in [0, 0.5), got {self.min_confidence}"
            )

    @property
    def deletion_rate(self) -> float:
        """P(a slot act is lost entirely)."""
        return self.slot_error * self.mix[ErrorKind.DELETION]

    @property
    def slot_outranked_rate(self) -> float:
        """P(a slot act that is not lost has a wrong best hypothesis): lost or outranked acts
        come to ``slot_error``."""
        return (self.slot_error - self.deletion_rate) / (1.0 - self.deletion_rate)

    def hear(
        self, acts: list[UserAct], ontology: Ontology, rng: np.random.Generator
    ) -> list[HeardAct]:
        """What the system hears of ``acts`` (lost acts are left out), in order."""
        heard = []
        for said in acts:
            h = self._hear_one(said, ontology, rng)
            if h is not None:
                heard.append(h)
        return heard

    def confidences(self, error: float, rng: np.random.Generator) -> list[float]:
        """[n_best + 1] confidences of the ranks, best first, then the mass of "not listed";
        the first has mean ``1 - error``."""
        m = 1.0 - 2.0 * error
        if m >= 1.0 or m <= 0.0:
            top = 1.0 if m >= 1.0 else 0.5
        else:
            top = 0.5 + 0.5 * float(rng.beta(self.sharpness * m, self.sharpness * (1.0 - m)))
        rest = (1.0 - top) * rng.dirichlet(THREE_ONES)
        shown = [top, *sorted(rest[:2].tolist(), reverse=True)][: self.n_best]
        return [*shown, 1.0 - sum(shown)]

    def _hear_one(
        self, said: UserAct, ontology: Ontology, rng: np.random.Generator
    ) -> HeardAct | None:
        if said.type in SLOT_ACTS and said.slot is not None:
            if self.slot_error == 0.0:
                return HeardAct(said, 1.0, said)
            if rng.random() < self.deletion_rate:
                return None
            error = self.slot_outranked_rate
        elif said.type == UserActType.INFORM_INTENT or said.type in FLIPPED:
            error = self.intent_error
            if error == 0.0:
                return HeardAct(said, 1.0, said)
        else:
            return HeardAct(said, 1.0, said)
        conf = self.confidences(error, rng)
        truth = int(rng.choice(len(conf), p=conf))  # == len(conf) - 1: not in the list
        distractors = self._distractors(said, ontology, rng)
        ranks: list[tuple[UserAct, float, ErrorKind | None]] = []
        for k, c in enumerate(conf[:-1]):
            if k > 0 and c < self.min_confidence:
                break  # ranks are sorted: the rest are lower still
            if k == truth:
                ranks.append((said, float(c), None))
            elif distractors:
                wrong, kind = distractors.pop(0)
                ranks.append((wrong, float(c), kind))
        if not ranks:
            return None
        (best, top, mistake), *rest = ranks
        return HeardAct(best, top, said, mistake, tuple((a, c) for a, c, _ in rest))

    def _distractors(
        self, said: UserAct, ontology: Ontology, rng: np.random.Generator
    ) -> list[tuple[UserAct, ErrorKind]]:
        """Up to ``n_best`` distinct wrong hypotheses for ``said``, in the order they fill ranks."""
        if said.type in FLIPPED:
            return [(UserAct(FLIPPED[said.type], slot=said.slot), ErrorKind.POLARITY)]
        if said.type == UserActType.INFORM_INTENT:
            others = [t.name for t in ontology.intents if t.name != said.intent]
            picked = rng.permutation(len(others))[: self.n_best].tolist()
            return [
                (UserAct(UserActType.INFORM_INTENT, intent=others[i]), ErrorKind.INTENT)
                for i in picked
            ]
        pools = {ErrorKind.VALUE: _value_errors(said, ontology),
                 ErrorKind.SLOT: _slot_errors(said, ontology)}  # fmt: skip
        value_share = self.mix[ErrorKind.VALUE] / (self.mix[0] + self.mix[1] or 1.0)
        out: list[tuple[UserAct, ErrorKind]] = []
        while len(out) < self.n_best and (pools[ErrorKind.VALUE] or pools[ErrorKind.SLOT]):
            kind = ErrorKind.VALUE if rng.random() < value_share else ErrorKind.SLOT
            if not pools[kind]:
                kind = ErrorKind.SLOT if kind == ErrorKind.VALUE else ErrorKind.VALUE
            pool = pools[kind]
            act_type, slot, value = pool.pop(int(rng.integers(len(pool))))
            out.append((UserAct(act_type, slot=slot, value=value), kind))
        return out


Candidate = tuple[UserActType, str, str | None]  # an act's type, slot and value, not built yet


def _value_errors(said: UserAct, ontology: Ontology) -> list[Candidate]:
    """Another value of the same slot (any value, for a don't-care)."""
    assert said.slot is not None
    values = ontology.slot(said.slot).values
    return [(UserActType.INFORM, said.slot, v) for v in values if v != said.value]


def _slot_errors(said: UserAct, ontology: Ontology) -> list[Candidate]:
    """A sibling slot of the same intent: its don't-care for a don't-care, else its values."""
    assert said.slot is not None
    siblings = [s for s in ontology.intent(ontology.slot_owner[said.slot]).slots if s != said.slot]
    if said.type == UserActType.DONT_CARE:
        return [(UserActType.DONT_CARE, s, None) for s in siblings]
    return [(UserActType.INFORM, s, v) for s in siblings for v in ontology.slot(s).values]
