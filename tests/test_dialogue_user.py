"""The simulated driver: goals, agenda, answers, success judgement and inform scores."""

import numpy as np
import pytest

from envs.dialogue import (
    DONT_CARE,
    Execution,
    Goal,
    GoalParams,
    IntentGoal,
    SystemAct,
    SystemActType,
    UserActType,
    UserParams,
    UserSimulator,
    inform_precision_recall,
    load_ontology,
    sample_goal,
)
from envs.dialogue.ontology import OntologyError, parse_ontology

ONTOLOGY = load_ontology()
NO_NOISE = UserParams(p_initiative=1.0, p_change_mind=0.0)


def nav_then_call() -> Goal:
    return Goal([
        IntentGoal("navigate", {"destination": "the airport", "route_preference": DONT_CARE},
                   volunteered=("destination",)),
        IntentGoal("call_contact", {"contact": "anna", "number_type": "mobile"}),
    ])  # fmt: skip


def started(goal=None, params=NO_NOISE):
    user = UserSimulator(ONTOLOGY, params)
    opening = user.start(np.random.default_rng(0), goal or nav_then_call())
    return user, opening


def request(slot):
    return SystemAct(SystemActType.REQUEST, slot=slot)


def types(acts):
    return [a.type for a in acts]


def test_ontology_has_the_in_car_domain_with_realistic_value_lists():
    names = {t.name for t in ONTOLOGY.intents}
    assert {"navigate", "play_music", "set_climate", "call_contact"} < names
    assert len(names) >= 5
    assert len(ONTOLOGY.slot("destination").values) >= 20
    assert ONTOLOGY.slot_owner["number_type"] == "call_contact"


def test_ontology_errors_name_the_entry():
    data = {"intents": {"go": {"required": ["where"]}}, "slots": {}}
    with pytest.raises(OntologyError, match="intent 'go' names unknown slot 'where'"):
        parse_ontology(data, "bad.yaml")
    data["slots"] = {"where": {"values": ["here"]}}
    with pytest.raises(OntologyError, match=r"bad\.yaml: slot 'where' needs at least two"):
        parse_ontology(data, "bad.yaml")


def test_sampled_goals_keep_required_values_and_volunteer_only_values():
    rng = np.random.default_rng(1)
    counts = {"two": 0, "optional_set": 0, "optional": 0}
    for _ in range(2000):
        goal = sample_goal(ONTOLOGY, rng, GoalParams())
        counts["two"] += len(goal.intents) == 2
        for g in goal.intents:
            intent = ONTOLOGY.intent(g.intent)
            assert set(g.constraints) == set(intent.slots)
            assert all(g.constraints[s] in ONTOLOGY.slot(s).values for s in intent.required)
            assert all(g.constraints[s] != DONT_CARE for s in g.volunteered)
            for s in intent.optional:
                counts["optional"] += 1
                counts["optional_set"] += g.constraints[s] != DONT_CARE
        assert len({g.intent for g in goal.intents}) == len(goal.intents)
    assert abs(counts["two"] / 2000 - 0.3) < 0.04
    assert abs(counts["optional_set"] / counts["optional"] - 0.5) < 0.04


def test_opening_names_the_first_intent_and_its_volunteered_slots():
    _, opening = started()
    assert [str(a) for a in opening] == [
        "inform_intent(navigate)",
        "inform(destination=the airport)",
    ]
    _, opening = started(params=UserParams(p_initiative=0.0, p_change_mind=0.0))
    assert types(opening) == [UserActType.HELLO]


def test_request_for_a_slot_the_goal_lacks_or_leaves_open_gets_dont_care():
    user, _ = started()
    rng = np.random.default_rng(0)
    for slot in ("artist", "temperature", "route_preference"):  # lacks, lacks, leaves open
        (answer,) = user.respond(request(slot), rng)
        assert answer.type == UserActType.DONT_CARE and answer.slot == slot
    (answer,) = user.respond(request("contact"), rng)  # a later goal intent's slot
    assert str(answer) == "inform(contact=anna)"


def test_confirm_and_offer_answers():
    user, _ = started()
    rng = np.random.default_rng(0)
    confirm = SystemAct(SystemActType.CONFIRM, slot="destination")
    assert types(user.respond(confirm, rng, {"destination": "the airport"})) == [UserActType.AFFIRM]
    answer = user.respond(confirm, rng, {"destination": "the zoo"})
    assert [str(a) for a in answer] == ["negate(destination)", "inform(destination=the airport)"]
    confirm_open = SystemAct(SystemActType.CONFIRM, slot="route_preference")
    assert types(user.respond(confirm_open, rng, {"route_preference": "scenic"})) == [
        UserActType.AFFIRM
    ]
    offer = SystemAct(SystemActType.OFFER, slot="destination")
    answer = user.respond(offer, rng, offered=("the zoo", "the airport"))
    assert [str(a) for a in answer] == ["inform(destination=the airport)"]
    answer = user.respond(offer, rng, offered=("the zoo", "home"))
    assert types(answer) == [UserActType.NEGATE, UserActType.INFORM]


def test_greet_repeat_and_the_agenda_after_each_execution():
    user, opening = started()
    rng = np.random.default_rng(0)
    assert user.respond(SystemAct(SystemActType.REPEAT), rng) == opening
    assert [str(a) for a in user.respond(SystemAct(SystemActType.GREET), rng)] == [
        "inform_intent(navigate)"  # named already: only restated
    ]
    values = {"destination": "the airport", "route_preference": "fastest"}
    answer = user.respond(SystemAct(SystemActType.EXECUTE, intent="navigate"), rng, values)
    assert [str(a) for a in answer] == ["thanks", "inform_intent(call_contact)"]
    assert user.done == ["navigate"] and not user.ended
    values = {"contact": "anna", "number_type": "mobile"}
    answer = user.respond(SystemAct(SystemActType.EXECUTE, intent="call_contact"), rng, values)
    assert types(answer) == [UserActType.THANKS, UserActType.DONE]
    assert user.success and not user.ended
    assert user.respond(SystemAct(SystemActType.BYE), rng) == []
    assert user.ended and user.success


@pytest.mark.parametrize(
    ("intent", "values"),
    [
        ("navigate", {"destination": "the zoo"}),  # wrong value
        ("call_contact", {"contact": "anna"}),  # number_type missing: DONT_CARE, goal: mobile
        ("set_climate", {"temperature": "21"}),  # not in the goal
    ],
)
def test_a_wrong_execution_is_reported_and_fails(intent, values):
    user, _ = started()
    act = SystemAct(SystemActType.EXECUTE, intent=intent)
    answer = user.respond(act, np.random.default_rng(0), values)
    assert [str(a) for a in answer] == ["report_failure"]
    assert user.ended and user.failed and not user.success


def test_executing_a_done_intent_again_fails():
    user, _ = started()
    act = SystemAct(SystemActType.EXECUTE, intent="navigate")
    rng = np.random.default_rng(0)
    user.respond(act, rng, {"destination": "the airport"})
    assert types(user.respond(act, rng, {"destination": "the airport"})) == [
        UserActType.REPORT_FAILURE
    ]


def test_bye_before_everything_is_done_fails_and_patience_runs_out():
    user, _ = started()
    user.respond(SystemAct(SystemActType.BYE), np.random.default_rng(0))
    assert user.ended and not user.success
    # needless_cost=0: the repeats cost one turn each (tests/test_dialogue_patience.py: more)
    params = UserParams(p_initiative=1.0, p_change_mind=0.0, patience=3, needless_cost=0)
    user, opening = started(params=params)
    rng = np.random.default_rng(0)
    repeat = SystemAct(SystemActType.REPEAT)
    assert user.respond(repeat, rng) == opening
    assert user.respond(repeat, rng) == opening
    assert types(user.respond(repeat, rng)) == [UserActType.HANG_UP]
    assert user.ended and not user.success
    with pytest.raises(RuntimeError, match="ended"):
        user.respond(repeat, rng)


def test_changing_its_mind_updates_the_goal_and_says_so():
    user, _ = started(params=UserParams(p_initiative=1.0, p_change_mind=1.0))
    answer = user.respond(request("route_preference"), np.random.default_rng(0))
    assert types(answer) == [UserActType.DONT_CARE, UserActType.INFORM]
    changed = answer[1]
    assert changed.slot == "destination" and changed.value != "the airport"
    assert user.goal.constraint("destination") == changed.value
    assert nav_then_call().intents[0].constraints["destination"] == "the airport"  # a copy


def test_inform_precision_and_recall_by_hand():
    goal = nav_then_call()
    executions = [
        Execution("navigate", {"destination": "the airport", "route_preference": "scenic"}),
        Execution("call_contact", {"contact": "ben", "number_type": "mobile"}),
    ]
    # used 4 values: airport (right), scenic (goal leaves it open: right), ben (wrong),
    # mobile (right) -> 3/4; wanted airport, anna, mobile; matched airport, mobile -> 2/3
    assert inform_precision_recall(goal, executions) == pytest.approx((0.75, 2 / 3))
    wrong_intent = [Execution("set_climate", {"temperature": "21", "zone": DONT_CARE})]
    assert inform_precision_recall(goal, wrong_intent) == (0.0, 0.0)
    assert inform_precision_recall(goal, []) == (0.0, 0.0)
