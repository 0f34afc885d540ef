"""The hand-written baseline: a fixed dialogue strategy over the belief vector.

In order: say bye once the driver is done (or gave up); greet when no intent is believed;
for the believed intent, request a required slot the driver left open ("don't care") until it
has been asked ``max_requests`` times, then greet (the intent must have been misheard);
request each slot that holds no value (an optional slot at most ``max_requests`` times, after
which it is left to the car); offer the two best values of a doubtful slot (best score below
``confirm_below``, second above ``offer_above``), else confirm it, and ask again about a
doubtful "don't care"; then execute. Acts the mask forbids are skipped; repeat is the
fallback.

The rules see what the learned policies see: the belief, which folds in every hypothesis of the
n-best lists. Their default thresholds are the best mean return of a grid search at 15% slot
error on the agenda driver (``scripts/tune_dialogue_rules.py``, 1,000 dialogues per
combination; BENCHMARKS.md has the table): ``confirm_below`` 0.85, ``offer_above`` 0.4,
``max_requests`` 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from envs.dialogue.acts import ActionTable, SystemAct, SystemActType, UserActType
from envs.dialogue.belief import MAX_ASKED, SLOT_FEATURES, split_belief
from envs.dialogue.ontology import Ontology, load_ontology

TOP, SECOND, DONT_CARE_FLAG, CONFIRMED, ASKED = (
    SLOT_FEATURES.index(name) for name in ("top", "second", "dont_care", "confirmed", "asked")
)
ENDING = (UserActType.DONE, UserActType.REPORT_FAILURE, UserActType.HANG_UP)


class RulePolicy:
    """``act(obs, info)`` -> action for a belief observation of ``InCarDialogueEnv``."""

    def __init__(
        self,
        ontology: Ontology | None = None,
        confirm_below: float = 0.85,
        offer_above: float = 0.4,
        max_requests: int = 1,
    ) -> None:
        if not 0.0 <= offer_above <= confirm_below <= 1.0:
            raise ValueError(
                f"need 0 <= offer_above <= confirm_below <= 1, got {offer_above}, {confirm_below}"
            )
        if max_requests < 1:
            raise ValueError(f"max_requests must be at least 1, got {max_requests}")
        self.ontology = ontology or load_ontology()
        self.table = ActionTable(self.ontology)
        self.confirm_below = confirm_below
        self.offer_above = offer_above
        self.max_requests = max_requests

    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = True
    ) -> int:
        view = split_belief(np.asarray(obs), self.ontology)
        mask = None if info is None or "action_mask" not in info else info["action_mask"]
        for act in self._preferences(view):
            a = self.table.index(act)
            if mask is None or mask[a]:
                return a
        return self.table.index(SystemAct(SystemActType.REPEAT))

    def __call__(self, obs: Any, info: Mapping[str, Any]) -> int:
        return self.act(obs, info)

    def _preferences(self, view: Any) -> list[SystemAct]:
        """The acts wanted now, best first."""
        bye = SystemAct(SystemActType.BYE)
        if any(view.user_acts[t] for t in ENDING):
            return [bye]
        open_scores = np.where(view.intents[:, 1] > 0, -1.0, view.intents[:, 0])
        best = int(np.argmax(open_scores))
        if open_scores[best] < 0.5:
            return [SystemAct(SystemActType.GREET)]
        intent = self.ontology.intents[best]
        slots = view.slots
        wanted: list[SystemAct] = []
        for name in intent.required:
            row = slots[self.ontology.slot_index[name]]
            if row[TOP] > 0 and row[DONT_CARE_FLAG]:  # a required slot the driver leaves open
                asked = round(float(row[ASKED]) * MAX_ASKED)
                if asked >= self.max_requests:  # asked enough: the intent must be wrong
                    return [SystemAct(SystemActType.GREET)]
                wanted.append(SystemAct(SystemActType.REQUEST, slot=name))
        for name in intent.slots:
            row = slots[self.ontology.slot_index[name]]
            asked = round(float(row[ASKED]) * MAX_ASKED)
            if row[TOP] == 0 and (name in intent.required or asked < self.max_requests):
                wanted.append(SystemAct(SystemActType.REQUEST, slot=name))
        for name in intent.slots:
            row = slots[self.ontology.slot_index[name]]
            doubtful = 0 < row[TOP] < self.confirm_below and not row[CONFIRMED]
            if doubtful and not row[DONT_CARE_FLAG]:
                if row[SECOND] > self.offer_above:
                    wanted.append(SystemAct(SystemActType.OFFER, slot=name))
                wanted.append(SystemAct(SystemActType.CONFIRM, slot=name))
            elif doubtful and name in intent.optional:  # a doubtful "don't care": ask again
                wanted.append(SystemAct(SystemActType.REQUEST, slot=name))
        wanted.append(SystemAct(SystemActType.EXECUTE, intent=intent.name))
        return wanted
