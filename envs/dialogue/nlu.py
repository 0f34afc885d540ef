"""Keyword understanding of typed driver text, for a person talking to a policy.

Slot values are found by whole-word match (longest first; a leading "the" may be left out);
a value that several slots share goes to the slot the system just asked about, else to a slot
of the intent in focus, else to the first such slot. Intents are found by their ontology
keywords; yes/no, don't-care, thanks and goodbye by fixed phrases. Everything found is heard
with the same confidence.
"""

from __future__ import annotations

import re

from envs.dialogue.acts import SystemAct, SystemActType, UserAct, UserActType
from envs.dialogue.error_model import HeardAct
from envs.dialogue.nlg import tokenize
from envs.dialogue.ontology import Ontology

YES = ("yes", "yeah", "yep", "right", "correct", "sure", "exactly")
NO = ("no", "nope", "wrong", "not that")
DONT_CARE_PHRASES = ("don't care", "dont care", "don't mind", "any", "whatever", "default")
DONE = ("that's all", "thats all", "nothing else", "bye", "goodbye", "done")
THANKS = ("thanks", "thank you")
HELLO = ("hi", "hello", "hey")


def _has(text: str, phrases: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{re.escape(p)}\b", text) for p in phrases)


class KeywordNLU:
    def __init__(self, ontology: Ontology, confidence: float = 0.9) -> None:
        self.ontology = ontology
        self.confidence = confidence
        surface: dict[str, list[str]] = {}  # words as typed -> slots holding that value
        self._value_of: dict[tuple[str, str], str] = {}
        for slot in ontology.slots:
            for value in slot.values:
                forms = {value, value.removeprefix("the ")}
                for form in forms:
                    key = " ".join(tokenize(form))
                    surface.setdefault(key, []).append(slot.name)
                    self._value_of[(key, slot.name)] = value
        self._surface = sorted(surface.items(), key=lambda kv: -len(kv[0]))

    def parse(
        self, text: str, last_system: SystemAct | None = None, focus: str | None = None
    ) -> list[HeardAct]:
        """The acts heard in ``text``; ``last_system`` is the act it answers, ``focus`` the
        intent the system believes in."""
        text = " " + " ".join(tokenize(text)) + " "
        subject = last_system.slot if last_system is not None else None
        acts: list[UserAct] = []
        for intent in self.ontology.intents:
            if _has(text, intent.keywords):
                acts.append(UserAct(UserActType.INFORM_INTENT, intent=intent.name))
        rest = text
        for key, slots in self._surface:
            pattern = rf"\b{re.escape(key)}\b"
            if not re.search(pattern, rest):
                continue
            rest = re.sub(pattern, " ", rest)
            slot = self._choose_slot(slots, subject, focus)
            acts.append(UserAct(UserActType.INFORM, slot=slot, value=self._value_of[(key, slot)]))
        asked = last_system.type if last_system is not None else None
        if subject is not None and asked in (SystemActType.CONFIRM, SystemActType.OFFER):
            if _has(rest, NO):
                acts.insert(0, UserAct(UserActType.NEGATE, slot=subject))
            elif _has(rest, YES):
                acts.insert(0, UserAct(UserActType.AFFIRM, slot=subject))
        if subject is not None and _has(rest, DONT_CARE_PHRASES):
            acts.append(UserAct(UserActType.DONT_CARE, slot=subject))
        if _has(rest, THANKS):
            acts.append(UserAct(UserActType.THANKS))
        if _has(rest, DONE):
            acts.append(UserAct(UserActType.DONE))
        if not acts and _has(rest, HELLO):
            acts.append(UserAct(UserActType.HELLO))
        return [HeardAct(a, self.confidence, a) for a in acts]

    def _choose_slot(self, slots: list[str], subject: str | None, focus: str | None) -> str:
        if subject is not None and subject in slots:
            return subject
        for slot in slots:
            if self.ontology.slot_owner[slot] == focus:
                return slot
        return slots[0]
