"""Driver patience, needless acts, satisfaction, the stochastic driver and the `user:` setting."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from envs.dialogue import (
    DONT_CARE,
    USER_MODELS,
    Goal,
    InCarDialogueEnv,
    IntentGoal,
    RulePolicy,
    StochasticUserParams,
    StochasticUserSimulator,
    SystemAct,
    SystemActType,
    UserActType,
    UserParams,
    UserSimulator,
    load_ontology,
    make_user,
)
from rlcourse.evaluation import evaluate

ONTOLOGY = load_ontology()
QUIET = {"p_initiative": 1.0, "p_change_mind": 0.0}  # the driver names its intent, never wavers
REPEAT = SystemAct(SystemActType.REPEAT)
GREET = SystemAct(SystemActType.GREET)
BYE = SystemAct(SystemActType.BYE)


def navigate() -> Goal:
    return Goal([
        IntentGoal("navigate", {"destination": "the airport", "route_preference": DONT_CARE},
                   volunteered=("destination",)),
    ])  # fmt: skip


def nav_then_call() -> Goal:
    call = IntentGoal("call_contact", {"contact": "anna", "number_type": "mobile"})
    return Goal([*navigate().intents, call])


def music() -> Goal:
    """Two wanted slots of play_music, neither volunteered: room to answer out of order."""
    return Goal([
        IntentGoal("play_music", {"source": "spotify", "artist": "adele", "genre": DONT_CARE}),
    ])  # fmt: skip


def started(goal, simulator=UserSimulator, seed=0, **params):
    params_cls = StochasticUserParams if simulator is StochasticUserSimulator else UserParams
    user = simulator(ONTOLOGY, params_cls(**{**QUIET, **params}))
    opening = user.start(np.random.default_rng(seed), goal)
    return user, opening


def act(kind, arg=None):
    if kind == SystemActType.EXECUTE:
        return SystemAct(kind, intent=arg)
    return SystemAct(kind, slot=arg)


def strs(acts):
    return [str(a) for a in acts]


RIGHT_NAV = {"destination": "the airport", "route_preference": "fastest"}

# ------------------------------------------------------------------------------- patience


def test_two_needless_repeats_bring_the_hang_up_forward_by_two_turns():
    """Patience 5, needless cost 1: each repeat costs 2, a fresh request 1.

    turn  act                        needless  patience_left
    1     repeat                     yes       5 - 2 = 3
    2     repeat                     yes       3 - 2 = 1
    3     request(route_preference)  no        1 - 1 = 0  -> hangs up instead of answering
    """
    user, opening = started(navigate(), patience=5)
    rng = np.random.default_rng(0)
    assert user.respond(REPEAT, rng) == opening
    assert user.respond(REPEAT, rng) == opening
    assert (user.patience_left, user.needless, user.ended) == (1, 2, False)
    assert strs(user.respond(act(SystemActType.REQUEST, "route_preference"), rng)) == ["hang_up"]
    assert (user.turns, user.patience_left, user.needless) == (3, 0, 2)
    assert user.ended and not user.success and user.satisfaction == 0.0


def test_without_needless_acts_the_driver_hangs_up_at_the_patience_th_turn():
    user, _ = started(navigate(), patience=3)
    rng = np.random.default_rng(0)
    asks = ["route_preference", "contact", "artist"]  # each one new: none needless
    answers = [strs(user.respond(act(SystemActType.REQUEST, slot), rng)) for slot in asks]
    assert answers[:2] == [["dont_care(route_preference)"], ["dont_care(contact)"]]
    assert answers[2] == ["hang_up"] and user.needless == 0 and user.ended


def test_a_success_on_the_last_turn_stands_when_the_driver_hangs_up():
    """The intent is carried out on the turn patience runs out: the driver counts it, then
    hangs up instead of thanking; with everything done that is a success, at satisfaction 0.5
    (no patience left)."""
    user, _ = started(navigate(), patience=3)
    rng = np.random.default_rng(0)
    user.respond(REPEAT, rng)  # 3 - 2 = 1 left
    answer = user.respond(act(SystemActType.EXECUTE, "navigate"), rng, RIGHT_NAV)  # 0 left
    assert strs(answer) == ["hang_up"] and user.done == ["navigate"]
    assert user.ended and user.success and user.satisfaction == 0.5
    user, _ = started(nav_then_call(), patience=3)  # the same with a second intent still to do
    user.respond(REPEAT, rng)
    user.respond(act(SystemActType.EXECUTE, "navigate"), rng, RIGHT_NAV)
    assert user.ended and user.done == ["navigate"] and not user.success


def test_a_patience_range_draws_every_whole_number_in_it_uniformly():
    params = UserParams(**QUIET, patience=[10, 16])
    assert params.patience == (10, 16) and params.patience_range == (10, 16)
    user = UserSimulator(ONTOLOGY, params)
    drawn = []
    for seed in range(700):
        user.start(np.random.default_rng(seed))
        assert user.patience_left == user.patience
        drawn.append(user.patience)
    counts = np.bincount(drawn, minlength=17)[10:]
    assert min(drawn) >= 10 and max(drawn) <= 16
    assert (abs(counts - 100) < 35).all(), counts  # 7 values, 100 each; sd of a count ~9


def test_a_fixed_patience_draws_nothing_and_a_range_draws_after_the_opening():
    def after_start(patience):
        user = UserSimulator(ONTOLOGY, UserParams(patience=patience))
        rng = np.random.default_rng(3)
        opening = user.start(rng)
        return str(user.goal), strs(opening), rng.random()

    fixed, point, ranged = after_start(20), after_start((20, 20)), after_start((12, 20))
    assert fixed == point
    assert ranged[:2] == fixed[:2]  # the same goal and opening as a fixed patience
    assert ranged[2] != fixed[2]  # and one more draw


@pytest.mark.parametrize(
    ("patience", "message"),
    [
        (0, r"UserParams\.patience must be a whole number >= 1"),
        ((20, 12), r"1 <= low <= high, got \(20, 12\)"),
        ([0, 5], r"got \[0, 5\]"),
        (2.5, "got 2.5"),
        ("20", "got '20'"),
        (True, "got True"),
        ((1, 2, 3), r"got \(1, 2, 3\)"),
    ],
)
def test_bad_patience_is_refused_by_name(patience, message):
    with pytest.raises(ValueError, match=message):
        UserParams(patience=patience)


def test_needless_cost_is_a_whole_number_of_turns():
    with pytest.raises(ValueError, match=r"UserParams\.needless_cost must be a whole number >= 0"):
        UserParams(needless_cost=-1)
    user, _ = started(navigate(), patience=10, needless_cost=3)
    user.respond(REPEAT, np.random.default_rng(0))
    assert user.patience_left == 10 - 1 - 3


# ------------------------------------------------------------------------- needless acts


def test_needless_repeats_and_greets():
    user, _ = started(navigate())
    assert user.is_needless(REPEAT)
    assert user.is_needless(GREET)  # the driver named navigate in its opening
    user, _ = started(navigate(), p_initiative=0.0)  # hello only
    rng = np.random.default_rng(0)
    assert not user.is_needless(GREET)
    assert strs(user.respond(GREET, rng))[0] == "inform_intent(navigate)"
    assert user.is_needless(GREET)  # now it has been named
    user.respond(act(SystemActType.EXECUTE, "navigate"), rng, RIGHT_NAV)
    assert not user.is_needless(GREET)  # all done: the letter of the rule spares it
    for harmless in (act(SystemActType.EXECUTE, "navigate"), BYE):
        assert not user.is_needless(harmless)


def test_a_request_is_needless_once_the_slot_was_told_and_until_the_goal_changes():
    user, _ = started(navigate())
    rng = np.random.default_rng(0)
    destination, route = (
        act(SystemActType.REQUEST, s) for s in ("destination", "route_preference")
    )
    assert user.is_needless(destination)  # volunteered in the opening
    assert not user.is_needless(route)
    user.respond(route, rng)  # "don't care"
    assert user.is_needless(route)
    assert not user.is_needless(act(SystemActType.REQUEST, "contact"))  # never asked
    user.goal.intents[0].constraints["destination"] = "the zoo"  # changed, not yet said
    assert not user.is_needless(destination)


def test_a_confirm_or_offer_is_needless_once_answered_for_the_same_wanted_value():
    user, _ = started(navigate())
    rng = np.random.default_rng(0)
    confirm, offer = (act(k, "destination") for k in (SystemActType.CONFIRM, SystemActType.OFFER))
    assert not user.is_needless(confirm) and not user.is_needless(offer)  # told, never checked
    answer = user.respond(confirm, rng, {"destination": "the zoo"})
    assert strs(answer) == ["negate(destination)", "inform(destination=the airport)"]
    assert user.is_needless(confirm) and user.is_needless(offer)  # answered: needless now
    assert user.needless == 0
    user.respond(offer, rng, offered=("the airport", "home"))
    assert user.needless == 1
    user.goal.intents[0].constraints["destination"] = "home"  # wants another value now
    assert not user.is_needless(confirm)


def test_satisfaction_by_hand():
    """Patience 10, navigate only: success 0.5 + 0.5 * left / 10 as judged so far."""
    user, _ = started(navigate(), patience=10)
    rng = np.random.default_rng(0)
    assert user.satisfaction == 0.0  # nothing done yet
    user.respond(REPEAT, rng)  # 10 - 2 = 8
    user.respond(act(SystemActType.EXECUTE, "navigate"), rng, RIGHT_NAV)  # 7: done
    assert user.satisfaction == pytest.approx(0.5 + 0.5 * 7 / 10)
    user.respond(BYE, rng)  # 6
    assert user.satisfaction == pytest.approx(0.8)
    user, _ = started(navigate(), patience=10)
    user.respond(act(SystemActType.EXECUTE, "navigate"), rng, {"destination": "home"})
    assert user.failed and user.satisfaction == 0.0


def test_the_env_reports_satisfaction_and_needless_acts_at_every_step():
    env = InCarDialogueEnv(slot_error=0.0, user={**QUIET, "patience": 10})
    _, info = env.reset(seed=0, options={"goal": navigate()})
    assert (info["satisfaction"], info["needless"]) == (0.0, 0.0)
    assert env.belief.patience == 10
    _, _, _, _, info = env.step(env.table.index(REPEAT))
    assert (info["satisfaction"], info["needless"]) == (0.0, 1.0)
    _, _, _, _, info = env.step(env.table.index(act(SystemActType.REQUEST, "route_preference")))
    _, _, _, _, info = env.step(env.table.index(act(SystemActType.EXECUTE, "navigate")))
    assert info["satisfaction"] == pytest.approx(0.5 + 0.5 * (10 - 4) / 10)
    _, reward, terminated, _, info = env.step(env.table.index(BYE))
    assert terminated and reward == 19.0  # the reward is the same as without patience costs
    assert info["satisfaction"] == pytest.approx(0.75) and info["needless"] == 1.0


def test_the_belief_turn_feature_is_scaled_by_the_largest_patience():
    assert InCarDialogueEnv().belief.patience == 20  # default (12, 20): +20 = its high end
    env = InCarDialogueEnv(user={"model": "stochastic", "patience": [6, 9]})
    env.reset(seed=0)
    assert env.belief.patience == 9


# --------------------------------------------------------------------- the stochastic driver

ONLY = {"p_out_of_order": 0.0, "p_over_inform": 0.0, "p_terse": 0.0, "p_switch_intent": 0.0}


def stochastic(goal=None, **rates):
    return started(goal or music(), StochasticUserSimulator, **{**ONLY, **rates})


def test_out_of_order_answers_an_untold_slot_instead_of_the_one_asked():
    user, opening = stochastic(p_out_of_order=1.0)
    rng = np.random.default_rng(0)
    assert strs(opening) == ["inform_intent(play_music)"]
    source = act(SystemActType.REQUEST, "source")
    assert strs(user.respond(source, rng)) == ["inform(artist=adele)"]  # the only other one
    assert not user.is_needless(source)  # source was never told
    assert strs(user.respond(source, rng)) == ["inform(source=spotify)"]  # none left: in order


def test_over_inform_adds_an_untold_slot_to_the_answer():
    user, _ = stochastic(p_over_inform=1.0)
    rng = np.random.default_rng(0)
    answer = user.respond(act(SystemActType.REQUEST, "source"), rng)
    assert strs(answer) == ["inform(source=spotify)", "inform(artist=adele)"]
    assert user.is_needless(act(SystemActType.REQUEST, "artist"))
    answer = user.respond(act(SystemActType.REQUEST, "genre"), rng)  # nothing left to add
    assert strs(answer) == ["dont_care(genre)"]


def test_terse_negations_leave_out_the_right_value():
    user, _ = stochastic(p_terse=1.0)
    rng = np.random.default_rng(0)
    confirm, offer = (act(k, "source") for k in (SystemActType.CONFIRM, SystemActType.OFFER))
    assert strs(user.respond(confirm, rng, {"source": "usb"})) == ["negate(source)"]
    assert strs(user.respond(offer, rng, offered=("usb", "the radio"))) == ["negate(source)"]
    assert strs(user.respond(confirm, rng, {"source": "spotify"})) == ["affirm(source)"]
    user, _ = stochastic(p_terse=0.0)
    answer = user.respond(confirm, rng, {"source": "usb"})
    assert strs(answer) == ["negate(source)", "inform(source=spotify)"]


def test_switching_intent_replaces_the_named_pending_intent_and_says_so():
    user, _ = stochastic(p_switch_intent=1.0)
    rng = np.random.default_rng(0)
    answer = user.respond(act(SystemActType.REQUEST, "source"), rng)
    assert strs(answer[:1]) == ["inform(source=spotify)"]
    assert answer[1].type == UserActType.INFORM_INTENT
    new = user.goal.intents[0]
    assert [g.intent for g in user.goal.intents] == [new.intent] and new.intent != "play_music"
    assert strs(answer[2:]) == [f"inform({s}={new.constraints[s]})" for s in new.volunteered]
    assert set(new.constraints) == set(ONTOLOGY.intent(new.intent).slots)
    assert user.current is new and user.is_needless(GREET)  # named as it switched
    values = {s: v for s, v in new.constraints.items() if v != DONT_CARE}
    user.params = StochasticUserParams(**{**QUIET, **ONLY})  # no more switches
    done = user.respond(act(SystemActType.EXECUTE, new.intent), rng, values)
    assert strs(done) == ["thanks", "done"] and user.success


def test_no_switch_before_the_intent_is_named_and_the_old_intent_then_fails():
    user, opening = stochastic(p_switch_intent=1.0, p_initiative=0.0)
    rng = np.random.default_rng(0)
    assert strs(opening) == ["hello"]
    assert strs(user.respond(act(SystemActType.REQUEST, "artist"), rng)) == ["inform(artist=adele)"]
    assert [g.intent for g in user.goal.intents] == ["play_music"]  # not named: no switch
    user.respond(GREET, rng)  # names play_music, then switches at once
    assert user.goal.intents[0].intent != "play_music"
    executed = user.respond(act(SystemActType.EXECUTE, "play_music"), rng, {"source": "spotify"})
    assert strs(executed) == ["report_failure"] and user.failed


def test_the_stochastic_driver_needs_its_own_params():
    with pytest.raises(ValueError, match="needs StochasticUserParams, got UserParams"):
        StochasticUserSimulator(ONTOLOGY, UserParams())
    with pytest.raises(ValueError, match=r"StochasticUserParams\.p_terse must be in \[0, 1\]"):
        StochasticUserParams(p_terse=1.5)


# ----------------------------------------------------------------------------- determinism


def transcript(env, seed):
    """The words of a dialogue played by masked random acts drawn from ``seed``."""
    _, info = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    done = False
    while not done:
        action = int(rng.choice(np.flatnonzero(info["action_mask"])))
        _, _, done, _, info = env.step(action)
    return [t.text for t in env.transcript], info["satisfaction"], info["needless"]


@pytest.mark.parametrize("user", list(USER_MODELS))
def test_each_driver_is_seeded_and_deterministic(user):
    a, b = (InCarDialogueEnv(slot_error=0.1, user=user) for _ in range(2))
    for seed in range(6):
        assert transcript(a, seed) == transcript(b, seed)
    assert len({tuple(transcript(a, seed)[0]) for seed in range(6)}) == 6


def test_check_env_passes_with_the_stochastic_driver():
    check_env(InCarDialogueEnv(user="stochastic"), skip_render_check=True)


def test_the_rule_policy_still_mostly_succeeds_with_the_stochastic_driver():
    """At 5% slot error over 1000 dialogues (seed 0): 0.97 success (agenda: 0.98)."""
    env = InCarDialogueEnv(slot_error=0.05, user="stochastic")
    result = evaluate(RulePolicy(env.ontology), env, episodes=100, seed=0)
    assert result.metrics["success"] >= 0.88
    assert 0.5 < result.metrics["satisfaction"] < 1.0


# ------------------------------------------------------------------------- the user setting


def test_a_user_is_built_from_a_name_a_params_object_or_a_mapping():
    assert type(make_user(ONTOLOGY, None)) is UserSimulator
    assert type(make_user(ONTOLOGY, "agenda")) is UserSimulator
    assert type(make_user(ONTOLOGY, "stochastic")) is StochasticUserSimulator
    params = StochasticUserParams(p_terse=0.2)
    assert make_user(ONTOLOGY, params).params is params
    user = make_user(
        ONTOLOGY,
        {"model": "stochastic", "patience": [10, 16], "p_over_inform": 0.4,
         "goal": {"p_second_intent": 0.0}},
    )  # fmt: skip
    assert isinstance(user, StochasticUserSimulator)
    assert (user.params.patience, user.params.p_over_inform) == ((10, 16), 0.4)
    assert user.params.goal.p_second_intent == 0.0
    assert make_user(ONTOLOGY, {"patience": 7}).params == UserParams(patience=7)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("agendaa", r"unknown user model 'agendaa'; known: \['agenda', 'stochastic'\]"),
        ({"model": "markov"}, r"unknown user model 'markov'"),
        ({"model": "stochastic", "p_overinform": 0.4},
         r"unknown user field\(s\) \['p_overinform'\] for StochasticUserParams; known: .*"
         r"'p_over_inform'"),
        ({"p_over_inform": 0.4}, r"unknown user field\(s\) \['p_over_inform'\] for UserParams"),
        ({"goal": {"p_second": 1.0}}, r"unknown user\.goal field\(s\) \['p_second'\]"),
        ({"goal": 3}, r"user\.goal must be a mapping of GoalParams fields, got 3"),
        ({"goal": {"p_optional": "half"}}, r"bad user\.goal fields"),
        ({"p_terse": "often", "model": "stochastic"}, r"p_terse must be in \[0, 1\], got often"),
        ({"patience": [20, 12]}, r"UserParams\.patience must be"),
        (3, r"user must be a model name \['agenda', 'stochastic'\], a params object or a mapping"),
    ],
)  # fmt: skip
def test_bad_user_settings_are_named(spec, message):
    with pytest.raises(ValueError, match=message):
        make_user(ONTOLOGY, spec)
    with pytest.raises(ValueError, match=message):
        InCarDialogueEnv(user=spec)


def test_a_config_passes_env_kwargs_user(tmp_path):
    from agents.training import env_factory, load_experiment
    from rlcourse.config import ConfigError

    path = tmp_path / "dialogue.yaml"
    path.write_text(
        "env:\n  id: rlcourse/InCarDialogue-v0\n"
        "  kwargs: {user: {model: stochastic, patience: [10, 16], p_terse: 0.9}}\n"
        "agent: {name: dqn}\ntrain: {steps: 10}\n"
    )
    user = env_factory(load_experiment(path))().unwrapped.user
    assert isinstance(user, StochasticUserSimulator)
    assert (user.params.patience, user.params.p_terse) == ((10, 16), 0.9)
    agenda = env_factory(load_experiment(path, ["env.kwargs.user=agenda"]))().unwrapped.user
    assert type(agenda) is UserSimulator
    with pytest.raises(ConfigError, match="p_tres"):
        load_experiment(path, ["env.kwargs.user.p_tres=0.5"])
