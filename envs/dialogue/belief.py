"""The system's belief about the driver's goal, its flat feature vector and the action mask.

Each slot keeps a score per hypothesised value (``DONT_CARE`` included). Hearing a value with
confidence ``c`` raises its score ``s`` to ``1 - (1 - s)(1 - c)`` and scales every other value of
the slot by ``1 - c``; an affirm raises the confirmed value the same way, a negate scales the
denied values by ``1 - c``. Intent scores follow the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from envs.dialogue.acts import ActionTable, SystemAct, SystemActType, UserActType
from envs.dialogue.error_model import HeardAct
from envs.dialogue.ontology import DONT_CARE, Ontology

SLOT_FEATURES = ("top", "second", "dont_care", "confirmed", "asked", "last_subject")
INTENT_FEATURES = ("score", "executed")
MAX_ASKED = 3  # the `asked` feature is (times asked) / MAX_ASKED, clipped to 1
BELIEVED = 0.5  # an intent scored at least this is taken as what the driver wants


class BeliefView(NamedTuple):
    """A belief vector split into named parts (views, not copies)."""

    slots: np.ndarray  # [S, len(SLOT_FEATURES)]
    intents: np.ndarray  # [I, len(INTENT_FEATURES)]
    turn: float  # turns taken / patience
    user_acts: np.ndarray  # [len(UserActType)] multi-hot of the acts last heard
    system_act: np.ndarray  # [len(SystemActType)] one-hot of the last system act type


def belief_size(ontology: Ontology) -> int:
    return (
        ontology.n_slots * len(SLOT_FEATURES)
        + ontology.n_intents * len(INTENT_FEATURES)
        + 1
        + len(UserActType)
        + len(SystemActType)
    )


def split_belief(vector: np.ndarray, ontology: Ontology) -> BeliefView:
    """Name the parts of a vector made by :meth:`BeliefState.vector`."""
    vector = np.asarray(vector)
    if vector.shape != (belief_size(ontology),):
        raise ValueError(
            f"a belief vector for this ontology has shape ({belief_size(ontology)},), "
            f"got {vector.shape}"
        )
    s = ontology.n_slots * len(SLOT_FEATURES)
    i = s + ontology.n_intents * len(INTENT_FEATURES)
    u = i + 1 + len(UserActType)
    return BeliefView(
        slots=vector[:s].reshape(ontology.n_slots, len(SLOT_FEATURES)),
        intents=vector[s:i].reshape(ontology.n_intents, len(INTENT_FEATURES)),
        turn=float(vector[i]),
        user_acts=vector[i + 1 : u],
        system_act=vector[u:],
    )


def _raise(score: float, confidence: float) -> float:
    return 1.0 - (1.0 - score) * (1.0 - confidence)


@dataclass
class BeliefState:
    ontology: Ontology
    patience: int
    slot_scores: list[dict[str, float]] = field(default_factory=list)
    intent_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    confirmed: set[str] = field(default_factory=set)
    executed: set[str] = field(default_factory=set)
    asked: dict[str, int] = field(default_factory=dict)
    turn: int = 0
    last_system: SystemAct | None = None
    last_heard: list[HeardAct] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.slot_scores:
            self.slot_scores = [{} for _ in self.ontology.slots]
        if self.intent_scores.shape != (self.ontology.n_intents,):
            self.intent_scores = np.zeros(self.ontology.n_intents)

    # -------------------------------------------------------------------------- queries

    def ranked(self, slot: str) -> list[tuple[str, float]]:
        """The slot's hypotheses, best first (ties broken by value name), scores > 0."""
        scores = self.slot_scores[self.ontology.slot_index[slot]]
        return sorted(((v, s) for v, s in scores.items() if s > 0), key=lambda vs: (-vs[1], vs[0]))

    def top(self, slot: str) -> str | None:
        ranked = self.ranked(slot)
        return ranked[0][0] if ranked else None

    def offer_values(self, slot: str) -> tuple[str, ...]:
        """The two best values (DONT_CARE excluded) an offer act proposes."""
        return tuple(v for v, _ in self.ranked(slot) if v != DONT_CARE)[:2]

    def execution_values(self, intent: str) -> dict[str, str]:
        """The believed value of each slot of ``intent`` (DONT_CARE where none is held)."""
        return {s: self.top(s) or DONT_CARE for s in self.ontology.intent(intent).slots}

    def shown(self, act: SystemAct) -> tuple[dict[str, str], tuple[str, ...]]:
        """(values, offered) that ``act`` puts before the driver: every slot value of an
        execute, the value a confirm checks, the two values an offer proposes."""
        if act.type == SystemActType.EXECUTE and act.intent is not None:
            return self.execution_values(act.intent), ()
        if act.type == SystemActType.CONFIRM and act.slot is not None:
            top = self.top(act.slot)
            return ({} if top is None else {act.slot: top}), ()
        if act.type == SystemActType.OFFER and act.slot is not None:
            return {}, self.offer_values(act.slot)
        return {}, ()

    def active_intent(self) -> str | None:
        """The best-scored intent not executed yet, if scored at least BELIEVED."""
        order = np.argsort(-self.intent_scores, kind="stable")
        for i in order.tolist():
            name = self.ontology.intents[i].name
            if name not in self.executed and self.intent_scores[i] >= BELIEVED:
                return name
        return None

    # -------------------------------------------------------------------------- updates

    def system_turn(self, act: SystemAct) -> None:
        """Record the system's act (before the driver answers)."""
        self.turn += 1
        self.last_system = act
        if act.slot is not None:  # request, confirm and offer all ask about the slot
            self.asked[act.slot] = self.asked.get(act.slot, 0) + 1
        if act.type == SystemActType.EXECUTE and act.intent is not None:
            self.executed.add(act.intent)

    def hear(self, heard: list[HeardAct]) -> None:
        """Fold in what was heard of the driver's answer to the last system act."""
        self.last_heard = list(heard)
        subject = self.last_system.slot if self.last_system is not None else None
        for h in heard:
            act, c = h.act, h.confidence
            if act.type == UserActType.INFORM_INTENT and act.intent is not None:
                k = self.ontology.intent_index[act.intent]
                for j, name in enumerate(t.name for t in self.ontology.intents):
                    if j != k and name not in self.executed:
                        self.intent_scores[j] *= 1.0 - c
                self.intent_scores[k] = _raise(self.intent_scores[k], c)
            elif act.type in (UserActType.INFORM, UserActType.DONT_CARE) and act.slot is not None:
                value = act.value if act.type == UserActType.INFORM else DONT_CARE
                assert value is not None
                self._inform(act.slot, value, c)
            elif act.type == UserActType.AFFIRM and subject is not None:
                value = self.top(subject)
                if value is not None:
                    scores = self.slot_scores[self.ontology.slot_index[subject]]
                    scores[value] = _raise(scores[value], c)
                    self.confirmed.add(subject)
            elif act.type == UserActType.NEGATE and subject is not None:
                assert self.last_system is not None
                denied = (
                    self.offer_values(subject)
                    if self.last_system.type == SystemActType.OFFER
                    else tuple(v for v in [self.top(subject)] if v is not None)
                )
                scores = self.slot_scores[self.ontology.slot_index[subject]]
                for v in denied:
                    scores[v] *= 1.0 - c
                self.confirmed.discard(subject)

    def _inform(self, slot: str, value: str, c: float) -> None:
        scores = self.slot_scores[self.ontology.slot_index[slot]]
        before = self.top(slot)
        for v in scores:
            if v != value:
                scores[v] *= 1.0 - c
        scores[value] = _raise(scores.get(value, 0.0), c)
        if self.top(slot) != before:
            self.confirmed.discard(slot)

    # ------------------------------------------------------------------------- features

    def vector(self) -> np.ndarray:
        """The flat float32 observation; :func:`split_belief` names its parts."""
        o = self.ontology
        subject = self.last_system.slot if self.last_system is not None else None
        features: list[float] = []
        for slot in o.slots:
            ranked = self.ranked(slot.name)
            features += [
                ranked[0][1] if ranked else 0.0,
                ranked[1][1] if len(ranked) > 1 else 0.0,
                float(bool(ranked) and ranked[0][0] == DONT_CARE),
                float(slot.name in self.confirmed),
                min(self.asked.get(slot.name, 0) / MAX_ASKED, 1.0),
                float(slot.name == subject),
            ]
        for i, intent in enumerate(o.intents):
            features += [float(self.intent_scores[i]), float(intent.name in self.executed)]
        features.append(min(self.turn / self.patience, 1.0))
        user = [0.0] * len(UserActType)
        for h in self.last_heard:
            user[h.act.type] = 1.0
        system = [0.0] * len(SystemActType)
        if self.last_system is not None:
            system[self.last_system.type] = 1.0
        return np.array(features + user + system, dtype=np.float32)

    def action_mask(self, table: ActionTable) -> np.ndarray:
        """Boolean [A]: False for acts that make no sense now.

        greet, repeat and bye always pass (greeting asks for the intent again, which also
        mends a misheard one); request/confirm/offer(slot): only for slots of an unexecuted
        intent with a score > 0, and not for a confirmed slot; confirm needs a believed value
        (not "don't care"), offer two; execute(intent): an unexecuted intent with a score > 0
        whose required slots all hold a value (not "don't care").
        """
        o = self.ontology
        open_intents = {
            t.name
            for i, t in enumerate(o.intents)
            if t.name not in self.executed and self.intent_scores[i] > 0
        }
        values = {  # slot -> its hypotheses other than DONT_CARE, best first
            slot.name: [v for v, _ in self.ranked(slot.name) if v != DONT_CARE]
            for slot in o.slots
            if o.slot_owner[slot.name] in open_intents
        }
        mask = np.zeros(len(table), dtype=bool)
        for a, act in enumerate(table.acts):
            kind = act.type
            if kind in (SystemActType.GREET, SystemActType.REPEAT, SystemActType.BYE):
                mask[a] = True
            elif kind == SystemActType.EXECUTE:
                assert act.intent is not None
                mask[a] = act.intent in open_intents and all(
                    values[s] and self.top(s) != DONT_CARE for s in o.intent(act.intent).required
                )
            elif act.slot in values and act.slot not in self.confirmed:
                held = values[act.slot]
                if kind == SystemActType.REQUEST:
                    mask[a] = True
                elif kind == SystemActType.CONFIRM:
                    mask[a] = bool(held) and self.top(act.slot) != DONT_CARE
                else:
                    mask[a] = len(held) >= 2
        return mask
