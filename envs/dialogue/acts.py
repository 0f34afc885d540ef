"""Dialogue acts: what the system can do (the action space) and what the driver can say."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from envs.dialogue.ontology import Ontology


class SystemActType(IntEnum):
    GREET = 0  # "How can I help?": asks for the intent
    REQUEST = 1  # asks for one slot's value
    CONFIRM = 2  # checks the believed value of one slot
    OFFER = 3  # offers the two best hypotheses of one slot to choose from
    EXECUTE = 4  # carries out one intent with the believed slot values
    REPEAT = 5  # asks the driver to say the last thing again
    BYE = 6  # ends the dialogue


class UserActType(IntEnum):
    HELLO = 0  # wakes the assistant without saying what for
    INFORM_INTENT = 1  # names what the driver wants done
    INFORM = 2  # gives a slot's value
    DONT_CARE = 3  # leaves a slot to the car
    AFFIRM = 4  # yes to a confirmation
    NEGATE = 5  # no to a confirmation or an offer
    THANKS = 6  # an intent was carried out as wanted
    REPORT_FAILURE = 7  # an intent was carried out wrongly; the driver gives up
    DONE = 8  # everything wanted is done
    HANG_UP = 9  # patience ran out


@dataclass(frozen=True)
class SystemAct:
    type: SystemActType
    slot: str | None = None
    intent: str | None = None

    def __str__(self) -> str:
        arg = self.slot or self.intent
        return f"{self.type.name.lower()}({arg})" if arg else self.type.name.lower()


@dataclass(frozen=True)
class UserAct:
    type: UserActType
    intent: str | None = None
    slot: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        name = self.type.name.lower()
        if self.type == UserActType.INFORM_INTENT:
            return f"{name}({self.intent})"
        if self.type == UserActType.INFORM:
            return f"{name}({self.slot}={self.value})"
        if self.slot is not None:
            return f"{name}({self.slot})"
        return name


class ActionTable:
    """The numbering of system acts: greet, request(slot) per slot, confirm(slot) per slot,
    offer(slot) per slot, execute(intent) per intent, repeat, bye."""

    def __init__(self, ontology: Ontology) -> None:
        slots = [s.name for s in ontology.slots]
        acts = [SystemAct(SystemActType.GREET)]
        for kind in (SystemActType.REQUEST, SystemActType.CONFIRM, SystemActType.OFFER):
            acts += [SystemAct(kind, slot=s) for s in slots]
        acts += [SystemAct(SystemActType.EXECUTE, intent=t.name) for t in ontology.intents]
        acts += [SystemAct(SystemActType.REPEAT), SystemAct(SystemActType.BYE)]
        self.acts: tuple[SystemAct, ...] = tuple(acts)
        self._index = {act: i for i, act in enumerate(self.acts)}

    def __len__(self) -> int:
        return len(self.acts)

    def __getitem__(self, action: int) -> SystemAct:
        if not 0 <= action < len(self.acts):
            raise ValueError(f"action {action} is not in Discrete({len(self.acts)})")
        return self.acts[action]

    def index(self, act: SystemAct) -> int:
        """The action number of ``act``."""
        try:
            return self._index[act]
        except KeyError:
            raise ValueError(f"{act} is not a system act of this ontology") from None
