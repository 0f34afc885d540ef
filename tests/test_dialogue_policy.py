"""The rule-based policy: one decision rule per test, on beliefs built by hand."""

import numpy as np
import pytest

from envs.dialogue import (
    ActionTable,
    BeliefState,
    HeardAct,
    RulePolicy,
    SystemAct,
    SystemActType,
    UserAct,
    UserActType,
    load_ontology,
)

ONTOLOGY = load_ontology()
TABLE = ActionTable(ONTOLOGY)
POLICY = RulePolicy(ONTOLOGY)


def hear(belief, *acts):
    belief.hear([HeardAct(UserAct(t, **fields), c, UserAct(t, **fields)) for t, c, fields in acts])


def decide(belief, masked=True):
    info = {"action_mask": belief.action_mask(TABLE)} if masked else None
    return str(TABLE[POLICY.act(belief.vector(), info)])


def calling():
    b = BeliefState(ONTOLOGY, patience=20)
    hear(b, (UserActType.INFORM_INTENT, 0.9, {"intent": "call_contact"}))
    return b


def test_greets_until_an_intent_is_believed():
    b = BeliefState(ONTOLOGY, patience=20)
    hear(b, (UserActType.HELLO, 0.9, {}))
    assert decide(b) == "greet"
    hear(b, (UserActType.INFORM_INTENT, 0.4, {"intent": "navigate"}))
    assert decide(b) == "greet"  # 0.4 < 0.5: not believed yet


def test_requests_required_then_optional_slots():
    b = calling()
    assert decide(b) == "request(contact)"
    hear(b, (UserActType.INFORM, 0.95, {"slot": "contact", "value": "anna"}))
    assert decide(b) == "request(number_type)"


def test_offers_when_two_values_compete_and_confirms_a_lone_doubt():
    b = calling()
    hear(
        b,
        (UserActType.INFORM, 0.5, {"slot": "contact", "value": "anna"}),
        (UserActType.INFORM, 0.6, {"slot": "contact", "value": "ben"}),
        (UserActType.DONT_CARE, 0.9, {"slot": "number_type"}),
    )  # ben 0.6, anna 0.5 * 0.4 = 0.2: second not above 0.2 -> confirm
    assert decide(b) == "confirm(contact)"
    hear(b, (UserActType.INFORM, 0.3, {"slot": "contact", "value": "anna"}))
    # anna 1 - 0.8 * 0.7 = 0.44, ben 0.6 * 0.7 = 0.42: both doubtful -> offer
    assert decide(b) == "offer(contact)"


def test_executes_once_every_slot_is_sure_and_says_bye_when_the_driver_is_done():
    b = calling()
    hear(
        b,
        (UserActType.INFORM, 0.95, {"slot": "contact", "value": "anna"}),
        (UserActType.INFORM, 0.9, {"slot": "number_type", "value": "work"}),
    )
    assert decide(b) == "execute(call_contact)"
    b.system_turn(SystemAct(SystemActType.EXECUTE, intent="call_contact"))
    hear(b, (UserActType.THANKS, 0.9, {}), (UserActType.DONE, 0.9, {}))
    assert decide(b) == "bye"


def test_gives_up_on_an_optional_slot_after_two_requests():
    b = calling()
    hear(b, (UserActType.INFORM, 0.95, {"slot": "contact", "value": "anna"}))
    for _ in range(2):
        b.system_turn(SystemAct(SystemActType.REQUEST, slot="number_type"))
        hear(b)  # nothing heard
    assert decide(b) == "execute(call_contact)"


def test_masked_acts_are_skipped():
    b = calling()
    mask = np.ones(len(TABLE), dtype=bool)
    mask[TABLE.index(SystemAct(SystemActType.REQUEST, slot="contact"))] = False
    assert str(TABLE[POLICY.act(b.vector(), {"action_mask": mask})]) == "request(number_type)"
    assert decide(b, masked=False) == "request(contact)"


def test_bad_thresholds_are_refused():
    with pytest.raises(ValueError, match="offer_above <= confirm_below"):
        RulePolicy(ONTOLOGY, confirm_below=0.3, offer_above=0.5)


def test_greets_again_when_a_required_slot_is_left_open_max_requests_times():
    """The driver does not care about a required slot: the intent was surely misheard."""
    b = calling()
    assert POLICY.max_requests == 1  # the tuned default (scripts/tune_dialogue_rules.py)
    for _ in range(POLICY.max_requests):
        assert decide(b) == "request(contact)"
        b.system_turn(SystemAct(SystemActType.REQUEST, slot="contact"))
        hear(b, (UserActType.DONT_CARE, 0.9, {"slot": "contact"}))
    assert decide(b) == "greet"
