"""The error model's rates and confidences, and the belief tracker's arithmetic and mask."""

import itertools

import numpy as np
import pytest
from scipy.stats import binomtest

from envs.dialogue import (
    DONT_CARE,
    ActionTable,
    BeliefState,
    ErrorKind,
    ErrorModel,
    HeardAct,
    SystemAct,
    SystemActType,
    UserAct,
    UserActType,
    belief_size,
    load_ontology,
    split_belief,
)

ONTOLOGY = load_ontology()
N = 20_000
CONFIDENCE = 0.9999  # binomial interval level: a correct model fails about 1 check in 10,000


def assert_rate(k, n, p):
    low, high = binomtest(k, n, p).proportion_ci(CONFIDENCE)
    assert low <= p <= high, f"{k}/{n} = {k / n:.4f}, interval ({low:.4f}, {high:.4f}) misses {p}"


def hear_many(model, act, n=N, seed=0):
    rng = np.random.default_rng(seed)
    return [model.hear([act], ONTOLOGY, rng) for _ in range(n)]


def test_slot_error_rate_and_kinds_match_the_configuration():
    model = ErrorModel(slot_error=0.15, intent_error=0.0, mix=(0.6, 0.2, 0.2))
    said = UserAct(UserActType.INFORM, slot="destination", value="the airport")
    results = hear_many(model, said)
    deleted = sum(not r for r in results)
    heard = [r[0] for r in results if r]
    value = sum(h.error == ErrorKind.VALUE for h in heard)
    slot = sum(h.error == ErrorKind.SLOT for h in heard)
    assert_rate(deleted + value + slot, N, 0.15)
    assert_rate(value, deleted + value + slot, 0.6)
    assert_rate(slot, deleted + value + slot, 0.2)
    for h in heard:
        if h.error == ErrorKind.VALUE:
            assert h.act.slot == "destination" and h.act.value != "the airport"
            assert h.act.value in ONTOLOGY.slot("destination").values
        elif h.error == ErrorKind.SLOT:  # the other slot of navigate
            assert h.act.slot == "route_preference"
            assert h.act.value in ONTOLOGY.slot("route_preference").values
        else:
            assert h.act == said
        assert h.said == said


def test_intent_and_polarity_errors():
    model = ErrorModel(slot_error=0.0, intent_error=0.05)
    results = hear_many(model, UserAct(UserActType.INFORM_INTENT, intent="navigate"))
    wrong = [r[0] for r in results if r[0].error is not None]
    assert_rate(len(wrong), N, 0.05)
    assert all(h.error == ErrorKind.INTENT and h.act.intent != "navigate" for h in wrong)
    results = hear_many(model, UserAct(UserActType.AFFIRM, slot="zone"))
    flipped = [r[0] for r in results if r[0].act.type == UserActType.NEGATE]
    assert_rate(len(flipped), N, 0.05)
    assert all(h.error == ErrorKind.POLARITY and h.act.slot == "zone" for h in flipped)


@pytest.mark.parametrize("error", [0.05, 0.15, 0.3])
def test_n_best_confidences_are_calibrated(error):
    """A hypothesis shown with confidence c is what was said about c of the time, at every rank:
    in each confidence bin the share of right hypotheses is the bin's mean confidence."""
    model = ErrorModel(slot_error=error, intent_error=error)
    acts = [
        UserAct(UserActType.INFORM, slot="destination", value="the airport"),
        UserAct(UserActType.DONT_CARE, slot="route_preference"),
        UserAct(UserActType.INFORM_INTENT, intent="navigate"),
        UserAct(UserActType.AFFIRM, slot="zone"),
    ]
    confidence, right = [], []
    rng = np.random.default_rng(1)
    for _ in range(N // 4):
        for h in model.hear(acts, ONTOLOGY, rng):
            assert 1 <= len(h.n_best) <= 3
            assert [c for _, c in h.n_best] == sorted((c for _, c in h.n_best), reverse=True)
            assert len({a for a, _ in h.n_best}) == len(h.n_best)  # distinct hypotheses
            assert sum(c for _, c in h.n_best) <= 1 + 1e-9
            for act, c in h.n_best:
                confidence.append(c)
                right.append(act == h.said)
    confidence, right = np.array(confidence), np.array(right)
    edges = np.quantile(confidence, np.linspace(0, 1, 9))
    for low, high in itertools.pairwise(edges):
        inside = (confidence >= low) & (confidence < high)
        if inside.sum() < 200:
            continue
        # binomial sd of a share near 1/2 over n draws: 0.5 / sqrt(n); allow 5 of them
        tolerance = 5 * 0.5 / np.sqrt(inside.sum())
        assert abs(right[inside].mean() - confidence[inside].mean()) < tolerance, (low, high)


@pytest.mark.parametrize("error", [0.05, 0.15, 0.3])
def test_the_best_hypothesis_is_wrong_at_the_error_rate_with_a_wider_spread_when_noisier(error):
    said = UserAct(UserActType.INFORM_INTENT, intent="navigate")
    heard = [r[0] for r in hear_many(ErrorModel(intent_error=error), said)]
    assert_rate(sum(h.act != said for h in heard), N, error)
    top = np.array([h.confidence for h in heard])
    # c_1 = 1/2 + Beta(4m, 4(1 - m)) / 2, m = 1 - 2e: mean 1 - e, sd sqrt(m(1 - m) / 5) / 2
    m = 1 - 2 * error
    sd = np.sqrt(m * (1 - m) / 5) / 2
    assert abs(top.mean() - (1 - error)) < 5 * sd / np.sqrt(N)
    assert abs(top.std() - sd) < 0.1 * sd


def test_no_error_means_every_act_heard_right_with_confidence_one():
    clean = ErrorModel(slot_error=0.0, intent_error=0.0)
    acts = [
        UserAct(UserActType.INFORM, slot="contact", value="anna"),
        UserAct(UserActType.DONT_CARE, slot="zone"),
        UserAct(UserActType.DONE),
    ]
    heard = clean.hear(acts, ONTOLOGY, np.random.default_rng(0))
    assert [h.n_best for h in heard] == [((a, 1.0),) for a in acts]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slot_error": 1.5}, "slot_error must be in"),
        ({"mix": (0.5, 0.2, 0.2)}, "summing to 1"),
        ({"intent_error": 0.6}, r"intent_error must be in \[0, 0.5\]"),
        ({"n_best": 4}, "n_best must be 1, 2 or 3"),
        ({"mix": (0.0, 0.0, 1.0), "slot_error": 0.1}, "cannot all be deletions"),
    ],
)
def test_bad_error_models_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ErrorModel(**kwargs)


def heard(act_type, confidence, **fields):
    act = UserAct(act_type, **fields)
    return HeardAct(act, confidence, act)


def test_belief_updates_by_hand():
    b = BeliefState(ONTOLOGY, patience=20)
    b.system_turn(SystemAct(SystemActType.REQUEST, slot="destination"))
    b.hear([heard(UserActType.INFORM, 0.8, slot="destination", value="the zoo")])
    b.hear([heard(UserActType.INFORM, 0.5, slot="destination", value="the zoo")])
    assert b.ranked("destination") == [("the zoo", pytest.approx(0.9))]  # 1 - 0.2 * 0.5
    b.hear([heard(UserActType.INFORM, 0.6, slot="destination", value="the airport")])
    assert b.ranked("destination") == [
        ("the airport", pytest.approx(0.6)), ("the zoo", pytest.approx(0.36))  # 0.9 * 0.4
    ]  # fmt: skip
    b.system_turn(SystemAct(SystemActType.CONFIRM, slot="destination"))
    b.hear([heard(UserActType.NEGATE, 0.5, slot="destination")])
    assert b.top("destination") == "the zoo"  # airport 0.6 * 0.5 = 0.3 < 0.36
    b.system_turn(SystemAct(SystemActType.CONFIRM, slot="destination"))
    b.hear([heard(UserActType.AFFIRM, 0.5, slot="destination")])
    assert b.ranked("destination")[0][1] == pytest.approx(0.68)  # 1 - 0.64 * 0.5
    assert "destination" in b.confirmed
    b.hear([heard(UserActType.INFORM_INTENT, 0.7, intent="navigate")])
    b.hear([heard(UserActType.INFORM_INTENT, 0.5, intent="play_music")])
    nav, music = ONTOLOGY.intent_index["navigate"], ONTOLOGY.intent_index["play_music"]
    assert b.intent_scores[nav] == pytest.approx(0.35) and b.intent_scores[music] == 0.5
    assert b.active_intent() == "play_music"
    b.hear([heard(UserActType.DONT_CARE, 0.9, slot="genre")])
    assert b.execution_values("play_music") == {
        "source": DONT_CARE, "artist": DONT_CARE, "genre": DONT_CARE
    }  # fmt: skip


def n_best(said, *hypotheses):
    """A HeardAct whose n-best list is ``hypotheses``: (act, confidence) pairs, best first."""
    (act, c), *rest = hypotheses
    return HeardAct(act, c, said, alternatives=tuple(rest))


def test_an_n_best_list_updates_the_belief_at_once_by_hand():
    dest = "destination"
    zoo, airport, beach = (UserAct(UserActType.INFORM, slot=dest, value=v)
                           for v in ("the zoo", "the airport", "the beach"))  # fmt: skip
    b = BeliefState(ONTOLOGY, patience=20)
    b.hear([n_best(zoo, (zoo, 0.5), (airport, 0.3))])
    assert b.ranked(dest) == [("the zoo", pytest.approx(0.5)), ("the airport", pytest.approx(0.3))]
    # C = 0.6 + 0.2 = 0.8: each score becomes s (1 - 0.8) + c
    b.hear([n_best(airport, (airport, 0.6), (beach, 0.2))])
    assert dict(b.ranked(dest)) == pytest.approx(
        {"the airport": 0.3 * 0.2 + 0.6, "the beach": 0.2, "the zoo": 0.5 * 0.2}
    )
    # a yes/no n-best list after a confirm is an n-best list about the value: s (1 - 1) + 0.7
    b.system_turn(SystemAct(SystemActType.CONFIRM, slot=dest))
    yes, no = UserAct(UserActType.AFFIRM, slot=dest), UserAct(UserActType.NEGATE, slot=dest)
    b.hear([n_best(yes, (yes, 0.7), (no, 0.3))])
    assert b.ranked(dest)[0] == ("the airport", pytest.approx(0.7))
    assert dest in b.confirmed  # the best hypothesis was yes
    # intents: navigate 0.6 and play_music 0.3 at once, from nothing
    nav, music = (UserAct(UserActType.INFORM_INTENT, intent=i) for i in ("navigate", "play_music"))
    b.hear([n_best(nav, (nav, 0.6), (music, 0.3))])
    scores = b.intent_scores[[ONTOLOGY.intent_index[i] for i in ("navigate", "play_music")]]
    assert scores == pytest.approx([0.6, 0.3])


def test_belief_vector_layout():
    b = BeliefState(ONTOLOGY, patience=20)
    b.system_turn(SystemAct(SystemActType.REQUEST, slot="zone"))
    b.hear([
        heard(UserActType.INFORM_INTENT, 0.9, intent="set_climate"),
        heard(UserActType.INFORM, 0.8, slot="zone", value="rear seats"),
        heard(UserActType.INFORM, 0.4, slot="zone", value="driver side"),
    ])  # fmt: skip
    vector = b.vector()
    assert vector.dtype == np.float32 and vector.shape == (belief_size(ONTOLOGY),)
    assert belief_size(ONTOLOGY) == 125  # the number the env docstring states
    view = split_belief(vector, ONTOLOGY)
    zone = view.slots[ONTOLOGY.slot_index["zone"]]
    # top: rear 0.8 * 0.6 = 0.48 vs driver side 0.4: (top, second, dont_care, confirmed, asked,
    # last_subject, heard_top, heard_alt)
    assert zone == pytest.approx([0.48, 0.4, 0, 0, 1 / 3, 1, 0.8, 0.4])
    assert view.intents[ONTOLOGY.intent_index["set_climate"]] == pytest.approx([0.9, 0])
    assert view.turn == pytest.approx(1 / 20)
    assert view.quality == pytest.approx((0.9 + 0.8 + 0.4) / 3)  # the three acts' confidences
    assert np.flatnonzero(view.user_acts).tolist() == [
        UserActType.INFORM_INTENT,
        UserActType.INFORM,
    ]
    assert view.user_acts[[UserActType.INFORM_INTENT, UserActType.INFORM]] == pytest.approx(
        [0.9, 0.8]
    )  # the confidence each act type was heard with (the best, where several)
    assert np.flatnonzero(view.system_act).tolist() == [SystemActType.REQUEST]
    with pytest.raises(ValueError, match="shape"):
        split_belief(vector[:-1], ONTOLOGY)


def test_action_mask():
    table = ActionTable(ONTOLOGY)
    assert len(table) == 44  # the number the env docstring states
    b = BeliefState(ONTOLOGY, patience=20)

    def allowed():
        return {str(table[a]) for a in np.flatnonzero(b.action_mask(table))}

    assert allowed() == {"greet", "repeat", "bye"}
    b.hear([heard(UserActType.INFORM_INTENT, 0.9, intent="call_contact")])
    always = {"greet", "repeat", "bye"}
    assert allowed() == always | {"request(contact)", "request(number_type)"}
    b.hear([
        heard(UserActType.INFORM, 0.6, slot="contact", value="anna"),
        heard(UserActType.INFORM, 0.5, slot="contact", value="ben"),
    ])  # fmt: skip
    assert allowed() == always | {
        "request(contact)", "request(number_type)", "confirm(contact)", "offer(contact)",
        "execute(call_contact)",
    }  # fmt: skip
    b.hear([heard(UserActType.DONT_CARE, 0.9, slot="number_type")])
    b.system_turn(SystemAct(SystemActType.CONFIRM, slot="contact"))
    b.hear([heard(UserActType.AFFIRM, 0.9, slot="contact")])
    # contact confirmed: no more questions about it; "don't care" cannot be confirmed
    assert allowed() == always | {"request(number_type)", "execute(call_contact)"}
    b.system_turn(SystemAct(SystemActType.EXECUTE, intent="call_contact"))
    assert allowed() == always
