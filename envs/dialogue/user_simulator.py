"""An agenda-based simulated driver with a patience that needless acts wear down.

The driver samples a :class:`~envs.dialogue.goals.Goal` and keeps an agenda: a stack of the acts
it still means to say, one chunk per goal intent (the intent, then the slots it volunteers),
with ``DONE`` at the bottom. It pops the next chunk when it first speaks (with probability
``p_initiative``; otherwise it only says hello), when greeted and when an intent has been
carried out. System questions are answered from the goal: a request, offer or confirmation
about a slot the goal lacks gets ``DONT_CARE``, and so do a request or offer about a slot the
goal leaves open; a confirmation is affirmed when the value is right (or the slot is left open)
and negated with the right value otherwise; an offer that holds the wanted value is answered
with it, else negated with the right value; a repeat gets the last answer again. Each turn it
changes its mind about one slot it has already given with probability ``p_change_mind``.

Patience [patience units]: each dialogue draws ``patience`` uniformly from the whole numbers
in ``UserParams.patience`` (a number: always that one) at ``start``. Every system turn costs
1, and a needless act ``needless_cost`` more. Needless, as the driver sees it, is:

- a request about a slot the driver has already told (its value, or "don't care") and that it
  would still answer the same way;
- a confirm or offer about a slot whose confirm or offer the driver has already answered while
  wanting the value it wants now;
- a repeat;
- a greet while the driver has already named the intent it is after (and not all is done).

When ``patience_left`` (``patience`` - turns - ``needless_cost`` * needless acts) is 0 or
less after a system turn that did not end the dialogue otherwise, the driver hangs up instead
of answering.

The dialogue fails when an intent is carried out with a wrong value, an intent is carried out
that the goal lacks or that was done already, or the driver hangs up before everything is done;
it succeeds when every goal intent has been carried out with the wanted values by the time it
ends (the system says bye or the driver hangs up). ``satisfaction`` scores the dialogue in
[0, 1]: 0 unless it succeeds (as judged so far), else 0.5 + 0.5 * max(patience_left, 0) /
patience, so a success that used up all the driver's patience scores 0.5 and fewer turns and
fewer needless acts score higher.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from numbers import Integral, Real

import numpy as np

from envs.dialogue.acts import SystemAct, SystemActType, UserAct, UserActType
from envs.dialogue.goals import Goal, GoalParams, IntentGoal, sample_goal
from envs.dialogue.ontology import DONT_CARE, Ontology


@dataclass(frozen=True)
class UserParams:
    """How the driver behaves; every field named ``p_*`` is a probability."""

    p_initiative: float = 0.8  # the first utterance names the intent (else: hello)
    p_change_mind: float = 0.03  # per turn, one slot already given gets another value
    # [patience units, 1 per system turn]: fixed, or (low, high) drawn per dialogue
    patience: int | tuple[int, int] = (12, 20)
    needless_cost: int = 1  # [patience units] a needless act costs on top of its turn
    goal: GoalParams = field(default_factory=GoalParams)

    def __post_init__(self) -> None:
        name = type(self).__name__
        for f in fields(self):
            p = getattr(self, f.name)
            if f.name.startswith("p_") and not (isinstance(p, Real) and 0.0 <= float(p) <= 1.0):
                raise ValueError(f"{name}.{f.name} must be in [0, 1], got {p}")
        object.__setattr__(self, "patience", _patience(self.patience, name))
        if not _whole(self.needless_cost) or self.needless_cost < 0:
            raise ValueError(
                f"{name}.needless_cost must be a whole number >= 0, got {self.needless_cost!r}"
            )

    @property
    def patience_range(self) -> tuple[int, int]:
        """(low, high): the least and the most patience a driver can have."""
        if isinstance(self.patience, tuple):
            return self.patience
        return self.patience, self.patience


def _whole(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _patience(value: object, owner: str) -> int | tuple[int, int]:
    """``value`` as a whole number >= 1 or a pair (low, high) with 1 <= low <= high."""
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        low, high = value
        if _whole(low) and _whole(high) and 1 <= low <= high:
            return int(low), int(high)
    elif isinstance(value, Integral) and not isinstance(value, bool) and int(value) >= 1:
        return int(value)
    raise ValueError(
        f"{owner}.patience must be a whole number >= 1 or [low, high] with 1 <= low <= high, "
        f"got {value!r}"
    )


@dataclass(frozen=True)
class Execution:
    """One execute act as carried out: the intent and the value used for each of its slots."""

    intent: str
    values: Mapping[str, str]


def _hello() -> list[UserAct]:
    return [UserAct(UserActType.HELLO)]


class UserSimulator:
    """The driver; ``start`` begins a dialogue, ``respond`` answers one system act."""

    def __init__(self, ontology: Ontology, params: UserParams | None = None) -> None:
        self.ontology = ontology
        self.params = params or UserParams()
        self.goal = Goal()
        self.agenda: list[UserAct] = []
        self.done: list[str] = []  # goal intents carried out correctly, in order
        self.executions: list[Execution] = []
        self.told: dict[str, str] = {}  # slot -> the value (or DONT_CARE) the driver last said
        self.settled: dict[str, str] = {}  # slot -> value wanted when it last answered a check
        self.announced: set[str] = set()  # intents the driver has named
        self.last_acts: list[UserAct] = []
        self.turns = 0
        self.patience = self.patience_left = self.params.patience_range[1]
        self.needless = 0  # needless system acts so far
        self.ended = False
        self.failed = False

    # --------------------------------------------------------------------------- state

    @property
    def current(self) -> IntentGoal | None:
        """The first goal intent not carried out yet (None when all are done)."""
        return next((g for g in self.goal.intents if g.intent not in self.done), None)

    @property
    def all_done(self) -> bool:
        return self.current is None

    @property
    def success(self) -> bool:
        return self.all_done and not self.failed

    @property
    def satisfaction(self) -> float:
        """0 unless a success (so far), else 0.5 + 0.5 * max(patience_left, 0) / patience."""
        if not self.success:
            return 0.0
        return 0.5 + 0.5 * max(self.patience_left, 0) / self.patience

    def stated(self, slot: str) -> str:
        """What the driver says ``slot`` should be now: its wanted value, or DONT_CARE."""
        wanted = self.goal.constraint(slot)
        return DONT_CARE if wanted is None else wanted

    def is_needless(self, act: SystemAct) -> bool:
        """Whether ``act``, said now, is needless in the driver's eyes (module docstring)."""
        kind = act.type
        if kind == SystemActType.REPEAT:
            return True
        if kind == SystemActType.GREET:
            current = self.current
            return current is not None and current.intent in self.announced
        if act.slot is None:
            return False
        if kind == SystemActType.REQUEST:
            return self.told.get(act.slot) == self.stated(act.slot)
        if kind in (SystemActType.CONFIRM, SystemActType.OFFER):
            return self.settled.get(act.slot) == self.stated(act.slot)
        return False

    # ------------------------------------------------------------------------ dialogue

    def start(self, rng: np.random.Generator, goal: Goal | None = None) -> list[UserAct]:
        """Begin a dialogue with ``goal`` (sampled when None); returns the opening acts."""
        self.goal = (
            copy.deepcopy(goal)  # the driver may change its mind: keep the caller's goal intact
            if goal is not None
            else sample_goal(self.ontology, rng, self.params.goal)
        )
        self.agenda = [UserAct(UserActType.DONE)]
        for g in reversed(self.goal.intents):
            chunk = [UserAct(UserActType.INFORM_INTENT, intent=g.intent)]
            chunk += [
                UserAct(UserActType.INFORM, slot=s, value=g.constraints[s]) for s in g.volunteered
            ]
            self.agenda += reversed(chunk)
        self.done, self.executions = [], []
        self.told, self.settled, self.announced = {}, {}, set()
        self.turns, self.needless, self.ended, self.failed = 0, 0, False, False
        acts = self._pop_chunk() if rng.random() < self.params.p_initiative else _hello()
        low, high = self.params.patience_range
        # drawn last, so goals and openings stay those of a fixed patience; a fixed one draws none
        self.patience = low if low == high else int(rng.integers(low, high + 1))
        self.patience_left = self.patience
        self._spoken(acts)
        return acts

    def respond(
        self,
        act: SystemAct,
        rng: np.random.Generator,
        values: Mapping[str, str] | None = None,
        offered: tuple[str, ...] = (),
    ) -> list[UserAct]:
        """The driver's answer to ``act``. ``values`` are the slot values the act shows: all
        of an execute act's (slots left out count as DONT_CARE), the one a confirm act checks;
        ``offered`` are the values an offer act proposes. A bye ends the dialogue and gets []."""
        if self.ended:
            raise RuntimeError("the dialogue has ended; call start() for a new one")
        self.turns += 1
        needless = self.is_needless(act)
        self.needless += needless
        self.patience_left -= 1 + self.params.needless_cost * needless
        if act.type == SystemActType.BYE:
            self.ended = True
            self.last_acts = []
            return []
        acts = self._answer(act, dict(values or {}), offered, rng)
        if act.type in (SystemActType.CONFIRM, SystemActType.OFFER) and act.slot is not None:
            self.settled[act.slot] = self.stated(act.slot)
        if not self.ended:
            acts += self._maybe_change_mind(rng)
        if not self.ended and self.patience_left <= 0:
            acts = [UserAct(UserActType.HANG_UP)]
            self.ended = True
        self._spoken(acts)
        return acts

    # ------------------------------------------------------------------------- answers

    def _answer(
        self,
        act: SystemAct,
        values: dict[str, str],
        offered: tuple[str, ...],
        rng: np.random.Generator,
    ) -> list[UserAct]:
        """The answer to ``act`` from the goal (``rng``: for simulators that draw here)."""
        kind = act.type
        if kind == SystemActType.GREET:
            return self._greeted()
        if kind == SystemActType.REPEAT:
            return list(self.last_acts) or _hello()
        if kind == SystemActType.EXECUTE:
            assert act.intent is not None
            return self._judge(act.intent, values)
        assert act.slot is not None
        wanted = self.goal.constraint(act.slot)
        if kind == SystemActType.REQUEST:
            return [self._inform_or_dont_care(act.slot, wanted)]
        if kind == SystemActType.CONFIRM:
            shown = values.get(act.slot)
            if wanted is None:
                return [UserAct(UserActType.DONT_CARE, slot=act.slot)]
            if wanted in (DONT_CARE, shown):
                return [UserAct(UserActType.AFFIRM, slot=act.slot)]
            return [
                UserAct(UserActType.NEGATE, slot=act.slot),
                UserAct(UserActType.INFORM, slot=act.slot, value=wanted),
            ]
        if kind == SystemActType.OFFER:
            if wanted is None or wanted == DONT_CARE:
                return [UserAct(UserActType.DONT_CARE, slot=act.slot)]
            if wanted in offered:
                return [UserAct(UserActType.INFORM, slot=act.slot, value=wanted)]
            return [
                UserAct(UserActType.NEGATE, slot=act.slot),
                UserAct(UserActType.INFORM, slot=act.slot, value=wanted),
            ]
        raise ValueError(f"unknown system act {act}")

    def _inform_or_dont_care(self, slot: str, wanted: str | None) -> UserAct:
        if wanted is None or wanted == DONT_CARE:
            return UserAct(UserActType.DONT_CARE, slot=slot)
        return UserAct(UserActType.INFORM, slot=slot, value=wanted)

    def _greeted(self) -> list[UserAct]:
        current = self.current
        if current is None:
            return [UserAct(UserActType.DONE)]
        if current.intent in self.announced:
            return [UserAct(UserActType.INFORM_INTENT, intent=current.intent)]
        return self._pop_chunk()

    def _judge(self, intent: str, values: dict[str, str]) -> list[UserAct]:
        slots = self.ontology.intent(intent).slots
        used = {s: values.get(s, DONT_CARE) for s in slots}
        self.executions.append(Execution(intent, used))
        g = self.goal.for_intent(intent)
        right = (
            g is not None
            and intent not in self.done
            and all(want in (DONT_CARE, used[s]) for s, want in g.constraints.items())
        )
        if not right:
            self.failed = self.ended = True
            return [UserAct(UserActType.REPORT_FAILURE, intent=intent)]
        self.done.append(intent)
        return [UserAct(UserActType.THANKS, intent=intent), *self._pop_chunk()]

    def _pop_chunk(self) -> list[UserAct]:
        """The next chunk of the agenda: a pending intent and the slots it volunteers (chunks of
        intents already done are dropped), or DONE."""
        while self.agenda:
            top = self.agenda.pop()
            if top.type == UserActType.DONE:
                self.agenda.append(top)  # DONE stays: the driver says it whenever asked again
                current = self.current
                if current is None:
                    return [top]
                return [UserAct(UserActType.INFORM_INTENT, intent=current.intent)]
            chunk = [top]
            while self.agenda and self.agenda[-1].type == UserActType.INFORM:
                chunk.append(self.agenda.pop())
            if top.intent in self.done:
                continue
            assert top.intent is not None
            self.announced.add(top.intent)
            g = self.goal.for_intent(top.intent)
            assert g is not None
            # volunteered values as the goal now has them (the driver may have changed its mind)
            return [chunk[0]] + [
                UserAct(UserActType.INFORM, slot=a.slot, value=g.constraints[a.slot])
                for a in chunk[1:]
                if a.slot is not None and a.slot not in self.told
            ]
        return [UserAct(UserActType.DONE)]

    def _spoken(self, acts: list[UserAct]) -> None:
        """Remember ``acts`` as said: their slots are told, and given values leave the agenda."""
        for act in acts:
            if act.type == UserActType.DONT_CARE and act.slot is not None:
                self.told[act.slot] = DONT_CARE
            if act.type == UserActType.INFORM and act.slot is not None and act.value is not None:
                self.told[act.slot] = act.value
                self.agenda = [
                    a
                    for a in self.agenda
                    if not (a.type == UserActType.INFORM and a.slot == act.slot)
                ]
        self.last_acts = acts

    def _maybe_change_mind(self, rng: np.random.Generator) -> list[UserAct]:
        current = self.current
        if current is None or rng.random() >= self.params.p_change_mind:
            return []
        candidates = [
            s for s, v in current.constraints.items() if v != DONT_CARE and self.told.get(s) == v
        ]
        if not candidates:
            return []
        slot = candidates[int(rng.integers(len(candidates)))]
        others = [v for v in self.ontology.slot(slot).values if v != current.constraints[slot]]
        current.constraints[slot] = others[int(rng.integers(len(others)))]
        return [UserAct(UserActType.INFORM, slot=slot, value=current.constraints[slot])]


def inform_precision_recall(goal: Goal, executions: list[Execution]) -> tuple[float, float]:
    """(precision, recall) of the slot values carried out against the goal.

    Precision: of the non-DONT_CARE values used in executions, the fraction the goal accepts
    (its constraint, or any value where the goal says DONT_CARE; every value of an intent the
    goal lacks is wrong). Recall: of the goal's non-DONT_CARE constraints, the fraction carried
    out with exactly that value. 0/0 counts as 0.
    """
    used = right = 0
    matched: set[tuple[str, str]] = set()
    for ex in executions:
        g = goal.for_intent(ex.intent)
        for slot, value in ex.values.items():
            if value == DONT_CARE:
                continue
            used += 1
            want = None if g is None else g.constraints.get(slot)
            if want in (DONT_CARE, value):
                right += 1
                if want == value:
                    matched.add((ex.intent, slot))
    wanted = sum(len(g.wanted()) for g in goal.intents)
    return (right / used if used else 0.0), (len(matched) / wanted if wanted else 0.0)
