"""Behaviour cloning: demonstrations, the agent's contract and what it learns (the teachers
themselves: tests/test_teachers.py)."""

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import agents.imitation.agent
import envs  # noqa: F401  (registers the gridworld ids)
from agents.imitation import (
    BehaviourCloningAgent,
    BehaviourCloningConfig,
    Demonstration,
    collect_demonstrations,
    non_terminal_states,
    pad_demonstrations,
    record_episode,
    sequence_accuracy,
    sequence_cross_entropy,
    stack_demonstrations,
)
from agents.teachers import PlanningTeacher, PolicyTeacherSpec, make_teacher
from agents.training import EVAL_SEED, load_agent, load_experiment, resume_config, train
from envs.dialogue import RulePolicy, SystemAct, SystemActType
from rlcourse.config import ConfigError
from rlcourse.evaluation import evaluate
from rlcourse.mdp import TabularMDP
from rlcourse.supervised import evaluate_loss

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "rn4x3" / "behaviour_cloning.yaml"
IMAGE_CONFIG = ROOT / "configs" / "rn4x3" / "behaviour_cloning_image.yaml"
VI_CONFIG = ROOT / "configs" / "rn4x3" / "value_iteration.yaml"
FAST = ["train.episodes=40", "train.eval_episodes=5", "agent.fit.epochs=60"]


def reachable_states(env):
    """Non-terminal states reachable from a start state under some sequence of actions."""
    mdp = TabularMDP.from_env(env)
    successors = (mdp.P_matrix.toarray().reshape(mdp.n_states, mdp.n_actions, -1) > 0).any(1)
    frontier = set(np.flatnonzero(mdp.initial))
    seen = set(frontier)
    while frontier:
        frontier = {int(t) for s in frontier for t in np.flatnonzero(successors[s])} - seen
        seen |= frontier
    return sorted(s for s in seen if not mdp.terminal[s])


def assert_matches_teacher_everywhere(agent, env, teacher_actions):
    states = reachable_states(env)
    assert len(states) >= 9
    for s in states:
        obs, info = env.reset(options={"state": s})
        assert agent.act(obs, info, deterministic=True) == teacher_actions[s], f"state {s}"


class Scripted:
    """A teacher that acts by `choose(obs)`."""

    def __init__(self, choose):
        self.choose = choose

    def act(self, obs, info):
        return self.choose(obs)


def teacher_for(env_id="rlcourse/RussellNorvig4x3-v0"):
    env = gym.make(env_id, obs_type="onehot")
    return env, PlanningTeacher(env, "value_iteration", gamma=1.0, theta=1e-10)


# ----------------------------------------------------------------------------- demonstrations


def visited(env, teacher, episodes, exploration=0.0, start_states=None):
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    demos = collect_demonstrations(env, teacher, episodes, rng, exploration, start_states)
    observations, actions, masks = stack_demonstrations(demos)
    assert masks is None and len(observations) == len(actions) == sum(len(d.actions) for d in demos)
    states = observations.argmax(1)  # one-hot -> state index
    assert np.array_equal(actions, teacher.actions[states])  # the labels are the teacher's
    return set(states.tolist())


def test_recorded_labels_are_the_teachers_and_starts_and_noise_widen_coverage():
    env, teacher = teacher_for()
    # R&N Fig. 17.2: from the start (2, 0) go up; at (0, 2) go right; at (2, 3) go left.
    UP, RIGHT, LEFT = 0, 1, 3
    assert teacher.actions[[8, 2, 11]].tolist() == [UP, RIGHT, LEFT]
    starts = non_terminal_states(env)
    assert starts.tolist() == [0, 1, 2, 4, 6, 8, 9, 10, 11]  # not the wall 5, not the exits
    on_path = visited(env, teacher, 20)
    assert not {10, 11} & on_path  # following the teacher never reaches the bottom right
    assert visited(env, teacher, 20, exploration=0.5) > on_path
    assert visited(env, teacher, 20, start_states=starts) == set(starts.tolist())


def test_without_exploration_the_return_is_the_teachers():
    env, teacher = teacher_for()
    env.reset(seed=0)
    demos = collect_demonstrations(env, teacher, 300, np.random.default_rng(0))
    mean = np.mean([d.episode_return for d in demos])
    assert mean == pytest.approx(0.705, abs=0.05)  # AIMA Fig. 17.3: U(start) = 0.705


class Corridor(gym.Env):
    """Cells 0..4, actions 0 left / 1 right / 2 stay; left is illegal in cell 0; 4 ends."""

    observation_space = gym.spaces.Box(0.0, 1.0, (5,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = 0
        return self._obs(), self._info()

    def step(self, action):
        if not self._info()["action_mask"][action]:
            raise AssertionError(f"illegal action {action} in cell {self.s}")
        self.s = max(0, self.s + {0: -1, 1: 1, 2: 0}[int(action)])
        return self._obs(), 1.0, self.s == 4, False, self._info()

    def _obs(self):
        return np.eye(5, dtype=np.float32)[self.s]

    def _info(self):
        return {"action_mask": np.array([self.s > 0, True, True])}


def test_masks_are_recorded_and_exploration_stays_legal():
    env = Corridor()
    env.reset(seed=0)
    demos = collect_demonstrations(env, Scripted(lambda o: 1), 30, np.random.default_rng(0), 0.9)
    _, actions, masks = stack_demonstrations(demos)
    assert masks.shape == (len(actions), 3) and np.all(actions == 1)
    assert not masks[:, 0].all() and masks[:, 1:].all()


def test_cloning_with_masks_never_picks_an_illegal_action():
    env = Corridor()
    config = BehaviourCloningConfig(
        network={"mlp": {"hidden": [8]}}, fit={"epochs": 5, "validation_split": 0.0}
    )
    agent = BehaviourCloningAgent(config, env.observation_space, env.action_space, seed=0)
    env.reset(seed=0)
    # a teacher that moves left wherever it may: in cell 0 only the mask stops it
    agent.demonstrations = collect_demonstrations(
        env, Scripted(lambda o: 0 if o.argmax() > 0 else 1), 3, np.random.default_rng(0), 0.5
    )
    agent.fit_demonstrations()
    obs, info = env.reset()
    with torch.no_grad():
        agent.network.head.net.layers[-1].bias.copy_(torch.tensor([100.0, 0.0, 0.0]))
    assert agent.act(obs, info, deterministic=True) != 0
    assert all(agent.act(obs, info) != 0 for _ in range(300))
    assert agent.logits(obs, info)[0] == torch.finfo(torch.float32).min


# ----------------------------------------------------------------------------- the agent


@pytest.mark.parametrize("config", [CONFIG, IMAGE_CONFIG], ids=["mlp_onehot", "cnn_image"])
def test_student_matches_the_teacher_on_every_reachable_state(config, runs_dir):
    cfg = load_experiment(config, [*FAST, f"train.runs_dir={runs_dir}"])
    result = train(cfg, progress=False)
    env = gym.make(cfg.env.id, **cfg.env.kwargs)
    teacher = PlanningTeacher(env, "value_iteration", gamma=1.0, theta=1e-10)  # reads this env
    assert_matches_teacher_everywhere(result.agent, env, teacher.actions)
    # the saved agent acts the same
    loaded, _ = load_agent(result.run_dir)
    assert_matches_teacher_everywhere(loaded, env, teacher.actions)
    assert result.agent.fit_result.train_metric[-1] == 1.0
    # evaluated on the same seeds, the student's episodes are the teacher's
    teacher_eval = evaluate(teacher.act, env, 5, seed=EVAL_SEED)
    assert result.evaluation.returns == teacher_eval.returns


def test_teacher_from_a_trained_run_directory_reads_the_state(runs_dir):
    teacher_run = train(load_experiment(VI_CONFIG, [f"train.runs_dir={runs_dir}"]), progress=False)
    overrides = [
        *FAST,
        f"train.runs_dir={runs_dir}",
        f"agent.teacher={{run: {teacher_run.run_dir}}}",
    ]
    result = train(load_experiment(CONFIG, overrides), progress=False)
    env, teacher = teacher_for()
    assert_matches_teacher_everywhere(result.agent, env, teacher.actions)


def test_misspelt_teacher_is_refused_with_the_config(runs_dir):
    with pytest.raises(ConfigError, match=r"agent\.teacher\.planner.*'value_iteration' or 'poli"):
        load_experiment(CONFIG, ["agent.teacher={planner: value_iteraton}"])
    with pytest.raises(ConfigError, match=r"agent\.fit\.lr_schedule"):
        load_experiment(CONFIG, ["agent.fit.lr_schedule={kind: exponential}"])


def test_continuous_actions_are_refused():
    space = gym.spaces.Box(-1, 1, (2,))
    with pytest.raises(TypeError, match="needs a Discrete action space"):
        BehaviourCloningAgent(BehaviourCloningConfig(), space, space)


def test_state_dict_and_save_load_round_trip(tmp_path):
    env, teacher = teacher_for()
    config = BehaviourCloningConfig(fit={"epochs": 3})
    agent = BehaviourCloningAgent(config, env.observation_space, env.action_space, seed=1)
    env.reset(seed=0)
    agent.demonstrations = [record_episode(env, teacher, agent.rng, 0.3) for _ in range(5)]
    agent.fit_result = agent.fit_demonstrations()
    obs, _ = env.reset()
    other = BehaviourCloningAgent(config, env.observation_space, env.action_space, seed=2)
    other.load_state_dict(agent.state_dict())
    assert torch.equal(other.logits(obs), agent.logits(obs))
    assert other.rng.random() == agent.rng.random()
    assert other.fit_result == agent.fit_result and len(other.demonstrations) == 5
    agent.save(tmp_path / "bc.ckpt")
    third = BehaviourCloningAgent(config, env.observation_space, env.action_space, seed=3)
    third.load(tmp_path / "bc.ckpt")
    assert torch.equal(third.logits(obs), agent.logits(obs))
    wider = BehaviourCloningAgent(
        BehaviourCloningConfig(network={"mlp": {"hidden": [7]}}), env.observation_space,
        env.action_space,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"bc\.ckpt: the weights do not fit"):
        wider.load(tmp_path / "bc.ckpt")


def test_resuming_with_a_larger_budget_ends_like_one_longer_run(runs_dir):
    quick = ["train.eval_episodes=2", "agent.fit.epochs=3", f"train.runs_dir={runs_dir}"]
    straight = train(load_experiment(CONFIG, [*quick, "train.episodes=12"]), progress=False)
    first = train(load_experiment(CONFIG, [*quick, "train.episodes=6"]), progress=False)
    resumed = train(resume_config(first.run_dir, ["train.episodes=12"]), first.run_dir, False)
    a, b = straight.agent, resumed.agent
    assert len(b.demonstrations) == 12
    for x, y in zip(a.demonstrations, b.demonstrations, strict=True):
        assert np.array_equal(x.observations, y.observations)
        assert np.array_equal(x.actions, y.actions)
    for p, q in zip(a.network.parameters(), b.network.parameters(), strict=True):
        assert torch.equal(p, q)


# ----------------------------------------------------------------------------- policy classes

RULES = PolicyTeacherSpec(policy="envs.dialogue:RulePolicy")


def test_a_policy_class_teacher_labels_every_step_with_its_action():
    env = gym.make("rlcourse/InCarDialogue-v0", slot_error=0.15)
    teacher = make_teacher(RULES, env)
    rules = RulePolicy()
    env.reset(seed=0)
    demos = collect_demonstrations(env, teacher, 20, np.random.default_rng(0), exploration=0.3)
    for demo in demos:
        for obs, action, mask in zip(demo.observations, demo.actions, demo.masks, strict=True):
            assert action == rules.act(obs, {"action_mask": mask})


def test_cloning_the_rule_policy_on_the_dialogue_env(runs_dir):
    cfg = load_experiment(
        ROOT / "configs" / "dialogue" / "bc_rules.yaml",
        ["train.episodes=150", "train.eval_episodes=50", "agent.fit.epochs=30",
         "env.kwargs.slot_error=0.0", f"train.runs_dir={runs_dir}"],
    )  # fmt: skip
    result = train(cfg, progress=False)
    # train.seed 0-7: agreement 0.95-0.98 and success 0.94-1.0 (the rules: 1.0 without errors)
    assert result.agent.fit_result.train_metric[-1] > 0.9  # agreement with the rules
    assert result.evaluation.metrics["success"] >= 0.85


# ----------------------------------------------------------------------------- recurrent students


def test_padding_holds_each_episode_from_the_start_and_marks_the_real_steps():
    two = Demonstration(np.array([[1, 2], [3, 4]]), np.array([1, 0]), np.ones((2, 3), bool), 0.0)
    one = Demonstration(np.array([[5, 6]]), np.array([2]), np.array([[False, True, True]]), 0.0)
    observations, actions, masks, valid = pad_demonstrations([two, one])
    assert observations.tolist() == [[[1, 2], [3, 4]], [[5, 6], [0, 0]]]
    assert actions.tolist() == [[1, 0], [2, 0]]
    assert valid.tolist() == [[True, True], [True, False]]
    assert masks.tolist() == [[[True] * 3] * 2, [[False, True, True], [True] * 3]]


def test_the_sequence_loss_and_accuracy_skip_the_padding():
    logits = torch.log(torch.tensor([[[0.5, 0.5], [0.25, 0.75]], [[0.8, 0.2], [0.9, 0.1]]]))
    actions = torch.tensor([[0, 1], [1, 0]])
    valid = torch.tensor([[True, True], [True, False]])
    # -(log 0.5 + log 0.75 + log 0.2) / 3; the padded step (p = 0.9) does not count
    expected = -(np.log(0.5) + np.log(0.75) + np.log(0.2)) / 3
    assert float(sequence_cross_entropy(logits, (actions, valid))) == pytest.approx(expected)
    # argmax: step (0,0) ties -> action 0 (right), (0,1) -> 1 (right), (1,0) -> 0 (wrong)
    assert float(sequence_accuracy(logits, (actions, valid))) == pytest.approx(2 / 3)


TEXT_BC = ROOT / "configs" / "dialogue" / "bc_text.yaml"


def text_student(overrides=()):
    small = ["network.text.hidden_size=16", "network.mlp.hidden=[16]", "recurrent.hidden_size=32"]
    cfg = load_experiment(TEXT_BC, [f"agent.{o}" for o in [*small, *overrides]])
    env = gym.make(cfg.env.id, **cfg.env.kwargs)
    return BehaviourCloningAgent(cfg.agent, env.observation_space, env.action_space), env


def test_cloning_the_rules_into_a_recurrent_text_student_lowers_its_loss():
    fit = ["fit.epochs=6", "fit.batch_size=4", "fit.patience=null", "fit.validation_split=0.0"]
    student, env = text_student(fit)
    teacher = make_teacher(RULES.model_copy(update={"input": "belief"}), env)
    env.reset(seed=0)
    demos = collect_demonstrations(env, teacher, 24, np.random.default_rng(0), exploration=0.1)
    student.demonstrations = demos
    # the labels are what the rules do on the belief, while the student keeps the words
    rules, replay = RulePolicy(), gym.make("rlcourse/InCarDialogue-v0", slot_error=[0.0, 0.2])
    replay.reset(seed=0)
    replayed = collect_demonstrations(replay, teacher.teacher, 24, np.random.default_rng(0), 0.1)
    for text_demo, belief_demo in zip(demos, replayed, strict=True):
        assert text_demo.observations.shape[1:] == (40,)
        assert np.array_equal(text_demo.actions, belief_demo.actions)
        assert text_demo.actions[0] == rules.act(belief_demo.observations[0])
    data, loss, metric = student._training_data()
    before = evaluate_loss(student.network, data, loss, metric)  # the seed's fresh weights
    result = student.fit_demonstrations()
    after = evaluate_loss(student.network, data, loss, metric)
    assert result.epochs == 6
    assert after.loss < 0.85 * before.loss  # 2.31 -> 1.78 here (n-best lists fill the 40 tokens)
    assert after.metric > before.metric  # agreement with the rules


def test_a_recurrent_student_acting_step_by_step_is_its_sequence_forward():
    student, env = text_student()
    student.reset_state()
    obs, info = env.reset(seed=1)
    table = env.unwrapped.table
    # the acts do not matter here, only that the episode lasts: ask to repeat, then say bye
    plan = [table.index(SystemAct(SystemActType.REPEAT))] * 3 + [
        table.index(SystemAct(SystemActType.BYE))
    ]
    observations, masks, stepwise, done = [], [], [], False
    for action in plan:
        observations.append(obs)
        masks.append(info["action_mask"])
        stepwise.append(student.logits(obs, info))  # the next step of the episode
        obs, _, done, _, info = env.step(action)
        if done:
            break
    assert len(stepwise) >= 2
    with torch.no_grad():
        whole = student.network(
            torch.as_tensor(np.stack(observations))[None], torch.as_tensor(np.stack(masks))[None]
        )[0]
    assert torch.allclose(torch.stack(stepwise), whole, atol=1e-5)
    student.reset_state()  # the next episode starts from the zero state again
    first = student.logits(observations[0], {"action_mask": masks[0]})
    assert torch.allclose(first, whole[0], atol=1e-5)


# ----------------------------------------------------------------------------- DAgger


class StayCounter:
    """A driver that stays put twice, then moves right; counts its episodes."""

    def __init__(self):
        self.episodes, self.calls = 0, 0

    def reset_state(self):
        self.episodes, self.calls = self.episodes + 1, 0

    def act(self, obs, info):
        self.calls += 1
        return 2 if self.calls <= 2 else 1


def test_a_driver_executes_while_the_teacher_labels():
    env = Corridor()
    env.reset(seed=0)
    driver = StayCounter()
    demos = collect_demonstrations(
        env, Scripted(lambda o: 1), 3, np.random.default_rng(0), driver=driver
    )
    assert driver.episodes == 3  # reset before each episode
    for demo in demos:  # stay, stay, then four steps right: cells 0 0 0 1 2 3
        assert demo.observations.argmax(1).tolist() == [0, 0, 0, 1, 2, 3]
        assert demo.actions.tolist() == [1] * 6  # the teacher's choices


def test_dagger_rounds_fit_the_student_and_let_it_drive(runs_dir, monkeypatch):
    drivers = []
    recorded = agents.imitation.agent.record_episode

    def spy(env, teacher, rng, exploration=0.0, start_states=None, driver=None):
        drivers.append(driver)
        return recorded(env, teacher, rng, exploration, start_states, driver)

    monkeypatch.setattr(agents.imitation.agent, "record_episode", spy)
    overrides = ["train.episodes=30", "agent.dagger_rounds=2", f"train.runs_dir={runs_dir}"]
    result = train(load_experiment(CONFIG, [*FAST[1:], *overrides]), progress=False)
    assert result.agent.rounds_fitted == 2
    assert drivers[:10] == [None] * 10  # the teacher's share
    assert all(d is not None and d.agent is result.agent for d in drivers[10:])
    assert len(drivers) == len(result.agent.demonstrations) == 30
    env = gym.make("rlcourse/RussellNorvig4x3-v0", obs_type="onehot")
    _, teacher = teacher_for()
    assert_matches_teacher_everywhere(result.agent, env, teacher.actions)


def test_dagger_needs_an_episode_budget(runs_dir):
    overrides = ["train.episodes=null", "train.steps=100", "agent.dagger_rounds=1"]
    cfg = load_experiment(CONFIG, [*overrides, f"train.runs_dir={runs_dir}"])
    with pytest.raises(ValueError, match=r"dagger_rounds needs train\.episodes"):
        train(cfg, progress=False)
