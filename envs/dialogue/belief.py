"""The system's belief about the driver's goal, its flat feature vector and the action mask.

Each slot keeps a score per hypothesised value (``DONT_CARE`` included). An n-best list that
gives the slot's values confidences ``c_v`` summing to ``C`` sets every score ``s_v`` of the slot
to ``s_v (1 - C) + c_v`` (``c_v = 0`` for values not in the list): with one hypothesis, its
score rises to ``1 - (1 - s)(1 - c)`` and the others are scaled by ``1 - c``. Intent scores
follow the same rule. An answer to a confirmation heard as yes with confidence ``y`` and no with
``n`` is an n-best list about the confirmed value: its score becomes ``s (1 - y - n) + y``. A no
to an offer scales both offered values by ``1 - n``. The best hypothesis decides whether the
slot counts as confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from envs.dialogue.acts import ActionTable, SystemAct, SystemActType, UserActType
from envs.dialogue.error_model import HeardAct, Hypothesis
from envs.dialogue.ontology import DONT_CARE, Ontology

SLOT_FEATURES = (
    "top", "second", "dont_care", "confirmed", "asked", "last_subject", "heard_top", "heard_alt"
)  # fmt: skip
INTENT_FEATURES = ("score", "executed")
MAX_ASKED = 3  # the `asked` feature is (times asked) / MAX_ASKED, clipped to 1
BELIEVED = 0.5  # an intent scored at least this is taken as what the driver wants
# the acts the front end can get wrong: their best hypotheses' confidences tell how noisy it is
MISHEARD_ACTS = frozenset((UserActType.INFORM, UserActType.DONT_CARE, UserActType.INFORM_INTENT,
                           UserActType.AFFIRM, UserActType.NEGATE))  # fmt: skip


class BeliefView(NamedTuple):
    """A belief vector split into named parts (views, not copies)."""

    slots: np.ndarray  # [S, len(SLOT_FEATURES)]
    intents: np.ndarray  # [I, len(INTENT_FEATURES)]
    turn: float  # turns taken / patience
    quality: float  # mean confidence of the best hypotheses heard so far (1 before any)
    user_acts: np.ndarray  # [len(UserActType)] confidence of each act type last heard (or 0)
    system_act: np.ndarray  # [len(SystemActType)] one-hot of the last system act type


def belief_size(ontology: Ontology) -> int:
    return (
        ontology.n_slots * len(SLOT_FEATURES)
        + ontology.n_intents * len(INTENT_FEATURES)
        + 2
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
    u = i + 2 + len(UserActType)
    return BeliefView(
        slots=vector[:s].reshape(ontology.n_slots, len(SLOT_FEATURES)),
        intents=vector[s:i].reshape(ontology.n_intents, len(INTENT_FEATURES)),
        turn=float(vector[i]),
        quality=float(vector[i + 1]),
        user_acts=vector[i + 2 : u],
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
    heard_confidences: list[float] = field(default_factory=list)  # best, of misheard-able acts
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
        """Fold in what was heard of the driver's answer to the last system act: each said
        act's n-best list at once."""
        self.last_heard = list(heard)
        for h in heard:
            if h.said.type in MISHEARD_ACTS:
                self.heard_confidences.append(h.confidence)
            n_best = h.n_best
            intents = {a.intent: c for a, c in n_best if a.type == UserActType.INFORM_INTENT}
            if intents:
                self._inform_intents(intents)
            slots: dict[str, dict[str, float]] = {}
            for a, c in n_best:
                if a.type in (UserActType.INFORM, UserActType.DONT_CARE) and a.slot is not None:
                    value = a.value if a.type == UserActType.INFORM else DONT_CARE
                    assert value is not None
                    slots.setdefault(a.slot, {})[value] = c
            for slot, values in slots.items():
                self._inform(slot, values)
            self._answer(n_best)

    def _inform_intents(self, heard: dict[str | None, float]) -> None:
        total = sum(heard.values())
        for j, intent in enumerate(self.ontology.intents):
            c = heard.get(intent.name, 0.0)
            if c or intent.name not in self.executed:
                self.intent_scores[j] = self.intent_scores[j] * (1.0 - total) + c

    def _inform(self, slot: str, heard: dict[str, float]) -> None:
        scores = self.slot_scores[self.ontology.slot_index[slot]]
        before = self.top(slot)
        total = sum(heard.values())
        for v in set(scores) | set(heard):
            scores[v] = scores.get(v, 0.0) * (1.0 - total) + heard.get(v, 0.0)
        if self.top(slot) != before:
            self.confirmed.discard(slot)

    def _answer(self, n_best: tuple[Hypothesis, ...]) -> None:
        """Affirm and negate hypotheses about the slot the last system act asked about."""
        subject = self.last_system.slot if self.last_system is not None else None
        answers = {
            a.type: c for a, c in n_best if a.type in (UserActType.AFFIRM, UserActType.NEGATE)
        }
        if subject is None or not answers:
            return
        assert self.last_system is not None
        scores = self.slot_scores[self.ontology.slot_index[subject]]
        top = self.top(subject)
        yes, no = answers.get(UserActType.AFFIRM, 0.0), answers.get(UserActType.NEGATE, 0.0)
        if self.last_system.type == SystemActType.OFFER:  # no: neither offered value
            for v in self.offer_values(subject):
                scores[v] *= 1.0 - no
            if top is not None:
                scores[top] = scores[top] * (1.0 - yes) + yes
        elif top is not None:  # yes or no about the top value, as n-best lists of values are
            scores[top] = scores[top] * (1.0 - yes - no) + yes
        if n_best[0][0].type == UserActType.AFFIRM and top is not None:
            self.confirmed.add(subject)
        elif n_best[0][0].type == UserActType.NEGATE:
            self.confirmed.discard(subject)

    # ------------------------------------------------------------------------- features

    def vector(self) -> np.ndarray:
        """The flat float32 observation; :func:`split_belief` names its parts."""
        o = self.ontology
        subject = self.last_system.slot if self.last_system is not None else None
        heard = self._heard_slots()
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
                *heard.get(slot.name, (0.0, 0.0)),
            ]
        for i, intent in enumerate(o.intents):
            features += [float(self.intent_scores[i]), float(intent.name in self.executed)]
        features.append(min(self.turn / self.patience, 1.0))
        so_far = self.heard_confidences
        features.append(sum(so_far) / len(so_far) if so_far else 1.0)
        user = [0.0] * len(UserActType)
        for h in self.last_heard:
            for act, c in h.n_best:
                user[act.type] = max(user[act.type], c)
        system = [0.0] * len(SystemActType)
        if self.last_system is not None:
            system[self.last_system.type] = 1.0
        return np.array(features + user + system, dtype=np.float32)

    def _heard_slots(self) -> dict[str, tuple[float, float]]:
        """Slot -> (confidence of its best hypothesis last heard, of all its others)."""
        heard: dict[str, list[float]] = {}
        for h in self.last_heard:
            for act, c in h.n_best:
                if act.type in (UserActType.INFORM, UserActType.DONT_CARE) and act.slot:
                    heard.setdefault(act.slot, []).append(c)
        return {s: (max(cs), sum(cs) - max(cs)) for s, cs in heard.items()}

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
