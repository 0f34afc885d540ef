"""InCarDialogueEnv: API checks, determinism, a scripted dialogue, rewards, text and views."""

import os
import re

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401  (registers the ids)
from envs.dialogue import (
    DONT_CARE,
    Goal,
    InCarDialogueEnv,
    IntentGoal,
    RulePolicy,
    SystemAct,
    SystemActType,
    split_belief,
)
from envs.dialogue.env import FAILURE_REWARD, SUCCESS_REWARD, TURN_REWARD
from envs.dialogue.error_model import SLOT_ACTS
from rlcourse.evaluation import evaluate
from rlcourse.render import save_png

EXACT = {"slot_error": 0.0, "intent_error": 0.0, "user": {"p_change_mind": 0.0}}


def nav_then_call() -> Goal:
    return Goal([
        IntentGoal("navigate", {"destination": "the airport", "route_preference": DONT_CARE},
                   volunteered=("destination",)),
        IntentGoal("call_contact", {"contact": "anna", "number_type": "mobile"}),
    ])  # fmt: skip


def act(env, kind, arg=None):
    """The action number of a system act named by kind and slot or intent."""
    if kind == SystemActType.EXECUTE:
        return env.table.index(SystemAct(kind, intent=arg))
    return env.table.index(SystemAct(kind, slot=arg))


def heard(env):
    """The acts the system heard in the last user turn, as strings."""
    return [str(h.act) for h in env.transcript[-1].heard]


@pytest.mark.parametrize("env_id", ["rlcourse/InCarDialogue-v0", "rlcourse/InCarDialogueText-v0"])
def test_gymnasium_and_sb3_check_env(env_id):
    env = gym.make(env_id).unwrapped
    check_env(env, skip_render_check=True)
    sb3_check_env(InCarDialogueEnv(obs_type=env.obs_type), warn=True)


def test_reward_constants_are_the_documented_numbers():
    doc = InCarDialogueEnv.__doc__
    assert (TURN_REWARD, SUCCESS_REWARD, FAILURE_REWARD) == (-1.0, 20.0, -10.0)
    assert "``turn`` = -1" in doc and "``success`` = +20" in doc and "``failure`` = -10" in doc


def test_scripted_dialogue_line_by_line():
    """A fixed goal and fixed acts, no recognition errors: the driver's answers, the belief
    and every reward are known in advance.

    turn  system act               driver (heard)                            reward
    0     -                        inform_intent(navigate), destination       -
    1     request(route_pref.)     dont_care(route_preference)               -1
    2     execute(navigate)        thanks, inform_intent(call_contact)       -1
    3     request(contact)         inform(contact=anna)                      -1
    4     confirm(contact)         affirm(contact)                           -1
    5     request(number_type)     inform(number_type=mobile)                -1
    6     execute(call_contact)    thanks, done                              -1
    7     bye                      -                                         -1 + 20
    return: 7 * -1 + 20 = 13
    """
    env = InCarDialogueEnv(render_mode="ansi", user={"p_initiative": 1.0, "p_change_mind": 0.0},
                           slot_error=0.0)  # fmt: skip
    obs, info = env.reset(seed=7, options={"goal": nav_then_call()})
    assert heard(env) == ["inform_intent(navigate)", "inform(destination=the airport)"]
    script = [
        (act(env, SystemActType.REQUEST, "route_preference"), ["dont_care(route_preference)"]),
        (act(env, SystemActType.EXECUTE, "navigate"), ["thanks", "inform_intent(call_contact)"]),
        (act(env, SystemActType.REQUEST, "contact"), ["inform(contact=anna)"]),
        (act(env, SystemActType.CONFIRM, "contact"), ["affirm(contact)"]),
        (act(env, SystemActType.REQUEST, "number_type"), ["inform(number_type=mobile)"]),
        (act(env, SystemActType.EXECUTE, "call_contact"), ["thanks", "done"]),
    ]
    total = 0.0
    for turn, (action, expected) in enumerate(script, start=1):
        assert info["action_mask"][action]
        obs, reward, terminated, truncated, info = env.step(action)
        assert heard(env) == expected
        assert (reward, terminated, truncated) == (-1.0, False, False)
        assert info["rewards"] == {"turn": -1.0, "success": 0.0, "failure": 0.0}
        assert info["turns"] == turn
        total += reward
    assert info["success"] == 1.0  # everything done; the system still has to end the call
    executed = split_belief(obs, env.ontology).intents[:, 1]
    assert [t.name for t, e in zip(env.ontology.intents, executed, strict=True) if e] == [
        "navigate",
        "call_contact",
    ]
    _, reward, terminated, truncated, info = env.step(env.table.index(SystemAct(SystemActType.BYE)))
    total += reward
    assert (reward, terminated, truncated) == (19.0, True, False)
    assert info["rewards"] == {"turn": -1.0, "success": 20.0, "failure": 0.0}
    assert total == 13.0
    assert (info["inform_precision"], info["inform_recall"], info["turns"]) == (1.0, 1.0, 7)

    confidences = re.compile(r" [01]\.\d\d\b")
    lines = [confidences.sub(" C", line) for line in env.render().splitlines()]
    expected = [
        ("USR:", "the airport"),
        "     heard: inform_intent(navigate) C, inform(destination=the airport) C",
        ("SYS:", "[request(route_preference)]"),
        ("USR:", ""),
        "     heard: dont_care(route_preference) C",
        ("SYS:", "the airport", "[execute(navigate)]"),
        ("USR:", ""),
        "     heard: thanks C, inform_intent(call_contact) C",
        ("SYS:", "[request(contact)]"),
        ("USR:", "anna"),
        "     heard: inform(contact=anna) C",
        ("SYS:", "anna", "[confirm(contact)]"),
        ("USR:", ""),
        "     heard: affirm(contact) C",
        ("SYS:", "[request(number_type)]"),
        ("USR:", "mobile"),
        "     heard: inform(number_type=mobile) C",
        ("SYS:", "anna", "mobile", "[execute(call_contact)]"),
        ("USR:", ""),
        "     heard: thanks C, done C",
        ("SYS:", "[bye]"),
    ]
    assert len(lines) == len(expected)
    for line, want in zip(lines, expected, strict=True):
        if isinstance(want, str):
            assert line == want
        else:
            assert line.startswith(want[0]) and all(part in line for part in want[1:]), line


def test_wrong_execution_costs_the_turn_and_the_failure_penalty():
    env = InCarDialogueEnv(**EXACT)
    env.reset(seed=0, options={"goal": nav_then_call()})
    # number_type is still unknown: carried out as DONT_CARE, but the driver wants mobile
    env.step(act(env, SystemActType.REQUEST, "contact"))
    _, reward, terminated, _, info = env.step(act(env, SystemActType.EXECUTE, "call_contact"))
    assert (reward, terminated) == (-11.0, True)
    assert info["rewards"] == {"turn": -1.0, "success": 0.0, "failure": -10.0}
    assert info["success"] == 0.0
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)


def test_the_driver_hangs_up_after_patience_turns():
    # needless_cost=0: each repeat costs its turn only (tests/test_dialogue_patience.py: more)
    user = {"patience": 4, "needless_cost": 0, "p_change_mind": 0.0}
    env = InCarDialogueEnv(**{**EXACT, "user": user})
    env.reset(seed=0)
    repeat = env.table.index(SystemAct(SystemActType.REPEAT))
    rewards = [env.step(repeat)[1] for _ in range(3)]
    _, reward, terminated, _, _ = env.step(repeat)
    assert rewards == [-1.0] * 3 and (reward, terminated) == (-11.0, True)
    assert str(env.transcript[-1].acts[0]) == "hang_up"


def random_masked_rollout(env, seed):
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    trace = [obs.copy()]
    done = False
    while not done:
        action = int(rng.choice(np.flatnonzero(info["action_mask"])))
        obs, reward, terminated, truncated, info = env.step(action)
        trace += [obs.copy(), reward, info["success"]]
        done = terminated or truncated
    return trace, [t.text for t in env.transcript]


@pytest.mark.parametrize("obs_type", ["belief", "text"])
def test_same_seed_same_dialogue(obs_type):
    a = InCarDialogueEnv(obs_type=obs_type, slot_error=0.15)
    b = InCarDialogueEnv(obs_type=obs_type, slot_error=0.15)
    for seed in range(5):
        (ta, sa), (tb, sb) = random_masked_rollout(a, seed), random_masked_rollout(b, seed)
        assert sa == sb
        assert len(ta) == len(tb)
        assert all(np.array_equal(x, y) for x, y in zip(ta, tb, strict=True))
    assert random_masked_rollout(a, 0)[1] != random_masked_rollout(a, 1)[1]


def test_text_and_belief_modes_play_the_same_dialogue():
    belief = InCarDialogueEnv(slot_error=0.15)
    text = InCarDialogueEnv(obs_type="text", slot_error=0.15)
    assert random_masked_rollout(belief, 3)[1] == random_masked_rollout(text, 3)[1]


def test_text_observations_fit_recurrent_and_attention_encoders():
    torch = pytest.importorskip("torch")
    from rlcourse.nn.recurrent import RecurrentEncoder

    env = InCarDialogueEnv(obs_type="text", slot_error=0.15, text_length=48)
    policy_env = InCarDialogueEnv(slot_error=0.15)
    rule = RulePolicy(env.ontology)
    sequences = []
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        b_obs, b_info = policy_env.reset(seed=seed)
        sequences.append(obs)
        done = False
        while not done:
            action = rule.act(b_obs, b_info)
            b_obs, _, done, _, b_info = policy_env.step(action)
            obs, *_ = env.step(action)
            sequences.append(obs)
    batch = np.stack(sequences)
    assert batch.shape[1] == 48 and batch.dtype == np.int64
    assert env.observation_space.contains(batch[0])
    assert not (batch == 1).any()  # generated text never needs the unknown-word id
    for row in batch:
        length = int((row > 0).sum())
        assert (row[:length] > 0).all() and (row[length:] == 0).all()  # padding at the end only
    assert env.vocabulary.decode(batch[0]).startswith("<sys> <usr>")
    torch.manual_seed(0)
    embed = torch.nn.Embedding(len(env.vocabulary), 8, padding_idx=0)
    out, _ = RecurrentEncoder(8, 16)(embed(torch.as_tensor(batch[:4])))
    assert out.shape == (4, 48, 16)


def test_rule_policy_succeeds_almost_always_without_errors_and_mostly_with_them():
    policy = RulePolicy()
    clean = evaluate(policy, InCarDialogueEnv(slot_error=0.0), episodes=100, seed=0)
    assert clean.metrics["success"] >= 0.98
    noisy = evaluate(policy, InCarDialogueEnv(slot_error=0.05), episodes=100, seed=0)
    assert noisy.metrics["success"] >= 0.9
    assert clean.metrics["turns"] < noisy.metrics["turns"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="obs_type"):
        InCarDialogueEnv(obs_type="audio")
    with pytest.raises(ValueError, match="slot_error"):
        InCarDialogueEnv(slot_error=2.0)
    with pytest.raises(ValueError, match="patient"):
        InCarDialogueEnv(user={"patient": 3})
    with pytest.raises(ValueError, match=r"unknown reset options \['goals'\]"):
        InCarDialogueEnv().reset(options={"goals": None})


def test_chat_view_renders_a_png(tmp_path):
    env = InCarDialogueEnv(render_mode="rgb_array", slot_error=0.15)
    policy = RulePolicy(env.ontology)
    obs, info = env.reset(seed=0)
    done = False
    while not done:
        obs, _, done, _, info = env.step(policy.act(obs, info))
    frame = env.render()
    assert frame.shape == (640, 960, 3) and frame.dtype == np.uint8
    path = save_png(frame, tmp_path / "chat.png")
    pixels = np.asarray(Image.open(path).convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # bubbles, text, bars
    env.close()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    actions=st.lists(st.integers(0, 43), min_size=20, max_size=20),
    slot_error=st.sampled_from([0.0, 0.05, 0.15, 0.5]),
)
def test_any_act_sequence_keeps_the_contract(seed, actions, slot_error):
    """Masked or not, every act is carried out; the dialogue ends within patience turns."""
    env = InCarDialogueEnv(slot_error=slot_error)
    obs, info = env.reset(seed=seed)
    for action in actions:  # 20 = the most patience a default driver has: it ends by then
        assert info["action_mask"][env.table.index(SystemAct(SystemActType.BYE))]
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        assert reward == sum(info["rewards"].values()) and not truncated
        assert 0.0 <= info["inform_precision"] <= 1.0 and 0.0 <= info["inform_recall"] <= 1.0
        if terminated:
            assert info["rewards"]["success"] + info["rewards"]["failure"] in (20.0, -10.0)
            break
    assert terminated


# ----------------------------------------------------------------------------- error ranges


def test_a_slot_error_range_draws_each_dialogues_rate_uniformly_from_it():
    env = InCarDialogueEnv(slot_error=[0.05, 0.25])
    assert env.slot_error_range == (0.05, 0.25)
    rates = []
    for seed in range(600):
        env.reset(seed=seed)
        rates.append(env.error_model.slot_error)
        assert env.error_model.intent_error == env.error_model.slot_error  # intent_error=None
    rates = np.asarray(rates)
    assert rates.min() >= 0.05 and rates.max() <= 0.25
    # Uniform(0.05, 0.25): mean 0.15, sd 0.2 / sqrt(12) = 0.0577; the mean of 600 draws has sd
    # 0.0024, and each fifth of the range holds 1/5 of them (sd of a count: sqrt(600*.2*.8) = 10)
    assert abs(rates.mean() - 0.15) < 0.01
    counts = np.histogram(rates, bins=5, range=(0.05, 0.25))[0]
    assert (abs(counts - 120) < 40).all(), counts
    fixed = InCarDialogueEnv(slot_error=[0.0, 0.2], intent_error=0.03)
    fixed.reset(seed=0)
    assert fixed.error_model.intent_error == 0.03


def slot_errors(transcript):
    """(slot acts the driver said, how many of them were misheard or lost) in a transcript."""
    said = heard_right = 0
    for turn in transcript:
        if turn.speaker == "user":
            said += sum(1 for a in turn.acts if a.type in SLOT_ACTS and a.slot is not None)
            heard_right += sum(
                1 for h in turn.heard if h.said.type in SLOT_ACTS and h.error is None
            )
    return said, said - heard_right


def test_the_drawn_rate_is_the_rate_of_misheard_slots():
    """Over many dialogues, the share of misheard slot acts follows each dialogue's rate."""
    env = InCarDialogueEnv(slot_error=[0.0, 0.4])
    counts = {"low": np.zeros(2), "high": np.zeros(2)}  # [said, misheard] for rate < / >= 0.2
    for seed in range(400):
        _, info = env.reset(seed=seed)
        done = False
        while not done:
            legal = np.flatnonzero(info["action_mask"])
            _, _, done, _, info = env.step(int(legal[seed % len(legal)]))
        counts["low" if env.error_model.slot_error < 0.2 else "high"] += slot_errors(env.transcript)
    # uniform rates: on average 0.1 in the low half of the range, 0.3 in the high half
    assert 0.06 < counts["low"][1] / counts["low"][0] < 0.14, counts
    assert 0.25 < counts["high"][1] / counts["high"][0] < 0.35, counts


def test_a_range_is_deterministic_per_seed_and_a_point_range_is_the_fixed_rate():
    a, b = (InCarDialogueEnv(slot_error=[0.0, 0.3]) for _ in range(2))
    for seed in range(5):
        assert random_masked_rollout(a, seed)[1] == random_masked_rollout(b, seed)[1]
        assert a.error_model == b.error_model
    fixed, point = InCarDialogueEnv(slot_error=0.15), InCarDialogueEnv(slot_error=[0.15, 0.15])
    for seed in range(5):  # a fixed rate draws nothing: the same dialogues as before ranges
        assert random_masked_rollout(fixed, seed)[1] == random_masked_rollout(point, seed)[1]


@pytest.mark.parametrize(
    ("slot_error", "message"),
    [
        ([0.2, 0.1], r"0 <= low <= high <= 0.5, got \[0.2, 0.1\]"),
        ([0.0, 0.6], r"0 <= low <= high <= 0.5"),
        ([0.1], r"a probability or \[low, high\], got \[0.1\]"),
        ("0.1", r"a probability or \[low, high\], got '0.1'"),
        ([0.1, "x"], r"a probability or \[low, high\]"),
    ],
)
def test_bad_slot_error_ranges_are_named(slot_error, message):
    with pytest.raises(ValueError, match=message):
        InCarDialogueEnv(slot_error=slot_error)


def test_the_text_env_shows_its_belief_in_info_for_teachers():
    text = InCarDialogueEnv(obs_type="text", slot_error=0.15)
    belief = InCarDialogueEnv(slot_error=0.15)
    rule = RulePolicy(text.ontology)
    for seed in range(3):
        _, t_info = text.reset(seed=seed)
        b_obs, b_info = belief.reset(seed=seed)
        assert "belief" not in b_info
        done = False
        while not done:
            assert np.array_equal(t_info["belief"], b_obs)
            action = rule.act(t_info["belief"], t_info)
            _, _, done, _, t_info = text.step(action)
            b_obs, *_ = belief.step(action)
        assert np.array_equal(t_info["belief"], b_obs)
