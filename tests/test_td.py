"""Temporal-difference control: hand-computed updates, action masks, truncation, persistence
and smoke runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import yaml
from gymnasium import spaces

import envs  # noqa: F401  (registers the rlcourse/* ids)
from agents import REGISTRY
from agents.tabular.targets import (
    double_q_target,
    expected_sarsa_target,
    n_step_return,
    q_learning_target,
    td_target,
    td_update,
)
from agents.tabular.td import (
    DoubleQLearningAgent,
    DoubleQLearningConfig,
    ExpectedSarsaAgent,
    ExpectedSarsaConfig,
    NStepSarsaAgent,
    NStepSarsaConfig,
    QLearningAgent,
    QLearningConfig,
    SarsaAgent,
    SarsaConfig,
    Transition,
)
from agents.training import load_agent, load_experiment, train
from rlcourse.config import ConfigError
from rlcourse.runs import Run
from tests.run_dirs import only_run

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
LEFT, RIGHT = 0, 1


class Corridor(gym.Env):
    """States 0..n-1 in a row, start 0; RIGHT moves right, LEFT moves left (or bumps); -1 a
    step; entering n-1 terminates. With `mask_left`, info forbids LEFT everywhere."""

    def __init__(self, n: int = 3, mask_left: bool = False):
        self.n, self.mask_left = n, mask_left
        self.observation_space = spaces.Discrete(n)
        self.action_space = spaces.Discrete(2)
        self.actions: list[int] = []

    def _info(self) -> dict[str, Any]:
        return {"action_mask": np.array([False, True])} if self.mask_left else {}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.s = 0
        return self.s, self._info()

    def step(self, action: int):
        self.actions.append(int(action))
        self.s = min(self.s + 1, self.n - 1) if action == RIGHT else max(self.s - 1, 0)
        return self.s, -1.0, self.s == self.n - 1, False, self._info()


def make(cls, config, env: gym.Env, seed: int = 0):
    return cls(config, env.observation_space, env.action_space, seed=seed)


# ----------------------------------------------------------------------------- pure targets


def test_td_target_bootstraps_unless_terminated():
    assert td_target(-1.0, 5.0, 0.9, terminated=False) == pytest.approx(3.5)
    assert td_target(-1.0, 5.0, 0.9, terminated=True) == -1.0


def test_q_learning_target_takes_the_max_over_allowed_actions():
    q_next = np.array([1.0, 3.0, 2.0])
    assert q_learning_target(-1.0, q_next, 0.5, False) == pytest.approx(0.5)
    assert q_learning_target(-1.0, q_next, 0.5, False, np.array([True, False, True])) == 0.0
    assert q_learning_target(-1.0, q_next, 0.5, True) == -1.0


def test_expected_sarsa_target_averages_under_the_policy():
    # epsilon 0.3 over 3 actions, greedy action 1: probabilities 0.1, 0.8, 0.1
    q_next, probs = np.array([1.0, 3.0, 2.0]), np.array([0.1, 0.8, 0.1])
    # -1 + 0.5 * (0.1 + 2.4 + 0.2)
    assert expected_sarsa_target(-1.0, q_next, probs, 0.5, False) == pytest.approx(0.35)
    assert expected_sarsa_target(-1.0, q_next, probs, 0.5, True) == -1.0
    # a forbidden action's value (-inf) carries no weight
    q_masked = np.array([-np.inf, 3.0, 2.0])
    assert expected_sarsa_target(0.0, q_masked, np.array([0.0, 0.5, 0.5]), 1.0, False) == 2.5


def test_double_q_target_selects_with_one_table_and_evaluates_with_the_other():
    select, evaluate = np.array([1.0, 4.0, 2.0]), np.array([10.0, 20.0, 30.0])
    assert double_q_target(0.0, select, evaluate, 0.9, False) == pytest.approx(18.0)
    masked = np.array([True, False, True])
    assert double_q_target(0.0, select, evaluate, 0.9, False, masked) == pytest.approx(27.0)
    assert double_q_target(-1.0, select, evaluate, 0.9, True) == -1.0


def test_td_update_moves_alpha_of_the_way_and_returns_the_error():
    q = np.zeros((2, 2))
    q[0, 1] = 2.0
    assert td_update(q, 0, 1, target=5.0, alpha=0.5) == 3.0
    assert q[0, 1] == 3.5 and q.sum() == 3.5


def test_n_step_return_full_window_and_window_cut_by_the_episode_end():
    # 1 + 0.5 * 2 + 0.25 * 3 + 0.125 * 10
    assert n_step_return([1.0, 2.0, 3.0], 10.0, 0.5) == pytest.approx(4.0)
    # n = 3 but the episode terminated after two more rewards: no bootstrap
    assert n_step_return([1.0, 2.0], 0.0, 0.5) == pytest.approx(2.0)
    assert n_step_return([], 7.0, 0.5) == 7.0


# ----------------------------------------------------------------------------- one-step agents


def greedy_right_q(agent, values: list[float]) -> None:
    """Set Q(s, RIGHT) to `values` and make LEFT clearly worse, so epsilon 0 walks right."""
    agent.q[:, RIGHT] = values
    agent.q[:, LEFT] = -100.0


def test_sarsa_episode_matches_hand_computation():
    env = Corridor(3)
    agent = make(SarsaAgent, SarsaConfig(alpha=0.5, gamma=0.9, epsilon=0.0), env)
    greedy_right_q(agent, [-2.0, -4.0, 0.0])
    env.reset(seed=0)
    stats = agent.run_episode(env)
    # Q(0,R): target -1 + 0.9 * Q(1,R) = -4.6 -> -2 + 0.5 * (-4.6 + 2) = -3.3
    # Q(1,R): terminal target -1           -> -4 + 0.5 * (-1 + 4)   = -2.5
    assert agent.q[0, RIGHT] == pytest.approx(-3.3)
    assert agent.q[1, RIGHT] == pytest.approx(-2.5)
    assert stats.episode_return == -2.0 and stats.length == 2 and agent.steps == 2
    assert stats.scalars["train/mean_abs_td_error"] == pytest.approx((2.6 + 3.0) / 2)
    assert stats.scalars["train/epsilon"] == 0.0 and stats.scalars["train/alpha"] == 0.5


def one_step(agent, reward: float = -1.0, terminated: bool = False, info=None) -> float:
    return agent.learn_step(Transition(0, RIGHT, reward, 1, terminated, info or {}))


def test_q_learning_step_matches_hand_computation():
    agent = make(QLearningAgent, QLearningConfig(alpha=0.5, gamma=0.9), Corridor(3))
    agent.q[1] = [-10.0, -4.0]
    agent.q[0, RIGHT] = -2.0
    # target -1 + 0.9 * max(-10, -4) = -4.6; Q -> -2 + 0.5 * (-2.6) = -3.3
    assert one_step(agent) == pytest.approx(-2.6)
    assert agent.q[0, RIGHT] == pytest.approx(-3.3)


def test_expected_sarsa_step_matches_hand_computation():
    agent = make(
        ExpectedSarsaAgent, ExpectedSarsaConfig(alpha=0.5, gamma=0.9, epsilon=0.2), Corridor(3)
    )
    agent.q[1] = [-10.0, -4.0]
    agent.q[0, RIGHT] = -2.0
    # pi(.|1) = (0.1, 0.9): E = -1 - 3.6 = -4.6; target -1 + 0.9 * -4.6 = -5.14
    one_step(agent)
    assert agent.q[0, RIGHT] == pytest.approx(-2.0 + 0.5 * (-5.14 + 2.0))


def test_double_q_step_updates_one_table_towards_the_other():
    agent = make(DoubleQLearningAgent, DoubleQLearningConfig(alpha=0.5, gamma=1.0), Corridor(3))
    agent.q1[1] = [-1.0, -5.0]
    agent.q2[1] = [-3.0, -2.0]
    one_step(agent)
    # updating q1: argmax q1(1) = LEFT, valued by q2: -3 -> target -4 -> q1(0,R) = -2
    # updating q2: argmax q2(1) = RIGHT, valued by q1: -5 -> target -6 -> q2(0,R) = -3
    changed = (agent.q1[0, RIGHT], agent.q2[0, RIGHT])
    assert changed in [(-2.0, 0.0), (0.0, -3.0)]
    assert agent.q[0, RIGHT] == pytest.approx(sum(changed) / 2)


def test_double_q_updates_each_table_about_half_the_time_and_acts_on_both():
    agent = make(DoubleQLearningAgent, DoubleQLearningConfig(alpha=0.5), Corridor(3))
    updated = []
    for i in range(400):
        before = agent.q1.copy()
        one_step(agent, reward=float(i + 1), terminated=True)  # a new target every time
        updated.append(not np.array_equal(before, agent.q1))
    assert 0.4 < np.mean(updated) < 0.6
    np.testing.assert_allclose(agent.q, (agent.q1 + agent.q2) / 2)
    assert set(agent.tables()) == {"q1", "q2"}
    # acting ranks the sum: q1 alone prefers LEFT, the sum prefers RIGHT
    agent.q1[2], agent.q2[2] = [1.0, 0.0], [-5.0, 0.0]
    agent.q[2] = (agent.q1[2] + agent.q2[2]) / 2
    assert agent.act(2, deterministic=True) == RIGHT


def test_truncation_bootstraps_but_termination_does_not():
    for terminated, expected in [(False, -2.0 + 0.5 * (-1.0 - 4.0 + 2.0)), (True, -1.5)]:
        agent = make(QLearningAgent, QLearningConfig(alpha=0.5, gamma=1.0), Corridor(3))
        agent.q[1] = [-10.0, -4.0]
        agent.q[0, RIGHT] = -2.0
        one_step(agent, terminated=terminated)
        assert agent.q[0, RIGHT] == pytest.approx(expected)


@pytest.mark.parametrize(
    "cls, config",
    [
        (SarsaAgent, SarsaConfig(alpha=0.5, epsilon=0.0)),
        (NStepSarsaAgent, NStepSarsaConfig(alpha=0.5, epsilon=0.0, n=3)),
    ],
)
def test_a_time_limit_ends_the_episode_and_is_bootstrapped_through(cls, config):
    env = gym.wrappers.TimeLimit(Corridor(5), max_episode_steps=1)
    agent = make(cls, config, env)
    greedy_right_q(agent, [-2.0, -4.0, -3.0, -1.0, 0.0])
    env.reset(seed=0)
    stats = agent.run_episode(env)
    assert stats.length == 1
    # target -1 + Q(1, R) = -5 (not the terminal -1): Q(0,R) = -2 + 0.5 * (-3)
    assert agent.q[0, RIGHT] == pytest.approx(-3.5)


ALL_TD = [
    (SarsaAgent, SarsaConfig),
    (ExpectedSarsaAgent, ExpectedSarsaConfig),
    (QLearningAgent, QLearningConfig),
    (DoubleQLearningAgent, DoubleQLearningConfig),
    (NStepSarsaAgent, NStepSarsaConfig),
]


@pytest.mark.parametrize("cls, config_cls", ALL_TD)
def test_action_mask_limits_actions_and_targets(cls, config_cls):
    env = Corridor(4, mask_left=True)
    agent = make(cls, config_cls(alpha=0.5, epsilon=0.5), env)
    for table in agent.tables().values():
        table[:, LEFT] = 100.0  # forbidden and tempting: neither taken nor bootstrapped from
    agent.q[:, LEFT] = 100.0
    env.reset(seed=0)
    for _ in range(5):
        agent.run_episode(env)
    assert set(env.actions) == {RIGHT}
    for table in agent.tables().values():
        assert (table[:, RIGHT] <= 0.0).all()


# ----------------------------------------------------------------------------- n-step SARSA


def test_n_step_sarsa_episode_matches_hand_computation():
    env = Corridor(5)
    agent = make(NStepSarsaAgent, NStepSarsaConfig(alpha=0.5, gamma=0.9, epsilon=0.0, n=2), env)
    greedy_right_q(agent, [-1.0, -2.0, -3.0, -4.0, 0.0])
    env.reset(seed=0)
    agent.run_episode(env)
    # tau=0: -1 - 0.9 + 0.81 * Q(2,R)=-3 = -4.33        -> -1 + 0.5 * (-4.33 + 1) = -2.665
    # tau=1: -1 - 0.9 + 0.81 * Q(3,R)=-4 = -5.14        -> -2 + 0.5 * (-5.14 + 2) = -3.57
    # tau=2: -1 - 0.9, the episode ended (terminal)     -> -3 + 0.5 * (-1.9 + 3)  = -2.45
    # tau=3: -1                                          -> -4 + 0.5 * (-1 + 4)    = -2.5
    np.testing.assert_allclose(agent.q[:4, RIGHT], [-2.665, -3.57, -2.45, -2.5])


def test_n_step_sarsa_with_n_beyond_the_episode_uses_monte_carlo_returns():
    env = Corridor(4)
    agent = make(NStepSarsaAgent, NStepSarsaConfig(alpha=1.0, gamma=0.5, epsilon=0.0, n=10), env)
    greedy_right_q(agent, [-9.0, -9.0, -9.0, 0.0])
    env.reset(seed=0)
    agent.run_episode(env)
    np.testing.assert_allclose(agent.q[:3, RIGHT], [-1.75, -1.5, -1.0])


def test_one_step_sarsa_and_n_step_sarsa_with_n_1_learn_the_same_table():
    tables = []
    for cls, config in [(SarsaAgent, SarsaConfig()), (NStepSarsaAgent, NStepSarsaConfig(n=1))]:
        env = gym.make("rlcourse/CliffWalking-v0")
        agent = make(cls, config, env, seed=3)
        env.reset(seed=3)
        for _ in range(20):
            agent.run_episode(env)
        tables.append(agent.q)
    np.testing.assert_array_equal(*tables)


# ----------------------------------------------------------------------------- schedules, logs


def test_epsilon_and_alpha_follow_their_schedules_in_env_steps():
    config = QLearningConfig(
        epsilon={"kind": "linear", "start": 1.0, "end": 0.0, "steps": 10},
        alpha={"kind": "exponential", "start": 0.5, "end": 0.1, "decay": 0.5},
    )
    env = Corridor(4)
    agent = make(QLearningAgent, config, env)
    agent.q[:, LEFT] = -100.0
    env.reset(seed=0)
    stats = agent.run_episode(env)
    steps = agent.steps
    assert steps == stats.length
    assert stats.scalars["train/epsilon"] == pytest.approx(max(1.0 - steps / 10, 0.0))
    assert stats.scalars["train/alpha"] == pytest.approx(max(0.5 * 0.5**steps, 0.1))
    assert stats.scalars["train/mean_abs_td_error"] > 0.0


def test_td_configs_refuse_bad_values(runs_dir):
    path = CONFIGS / "cliff" / "q_learning.yaml"
    with pytest.raises(ConfigError, match=r"agent\.alpha"):
        load_experiment(path, ["agent.alpha=0"])
    with pytest.raises(ConfigError, match=r"agent\.n"):
        load_experiment(CONFIGS / "cliff" / "n_step_sarsa.yaml", ["agent.n=0"])
    with pytest.raises(ConfigError, match="unknown key"):
        load_experiment(path, ["agent.n=3"])  # n belongs to n_step_sarsa only


# ----------------------------------------------------------------------------- persistence


@pytest.mark.parametrize("cls, config_cls", ALL_TD)
def test_save_and_load_restore_every_table(cls, config_cls, tmp_path):
    env = gym.make("rlcourse/CliffWalking-v0")
    agent = make(cls, config_cls(), env)
    env.reset(seed=0)
    for _ in range(3):
        agent.run_episode(env)
    agent.save(tmp_path / "agent.npz")
    fresh = make(cls, config_cls(), env, seed=1)
    fresh.load(tmp_path / "agent.npz")
    for name, table in agent.tables().items():
        np.testing.assert_array_equal(fresh.tables()[name], table)
    np.testing.assert_array_equal(fresh.q, agent.q)
    assert all(
        fresh.act(s, deterministic=True) == agent.act(s, deterministic=True)
        for s in range(agent.n_states)
    )


class Interrupted(Exception):
    pass


def interrupt_after_checkpoints(monkeypatch, count: int) -> None:
    """Make the `count`-th checkpoint of the next run raise right after it is written."""
    original = Run.checkpoint
    calls = {"n": 0}

    def checkpoint_then_stop(self):
        path = original(self)
        calls["n"] += 1
        if calls["n"] == count:
            raise Interrupted
        return path

    monkeypatch.setattr(Run, "checkpoint", checkpoint_then_stop)


def resume_matches_uninterrupted(monkeypatch, tmp_path, config_file: str, budget: list[str]):
    overrides = ["train.checkpoint_every=100", "train.eval_episodes=3", *budget]
    whole = train(
        load_experiment(
            CONFIGS / config_file, [*overrides, f"train.runs_dir={tmp_path / 'whole'}"]
        ),
        progress=False,
    )
    config = load_experiment(
        CONFIGS / config_file, [*overrides, f"train.runs_dir={tmp_path / 'cut'}"]
    )
    with monkeypatch.context() as patch, pytest.raises(Interrupted):
        interrupt_after_checkpoints(patch, 2)
        train(config, progress=False)
    run_dir = only_run(tmp_path / "cut")
    assert not (run_dir / "eval.json").exists()
    resumed = train(config, resume_dir=run_dir, progress=False)
    assert resumed.run_dir == run_dir
    for name, table in whole.agent.tables().items():
        np.testing.assert_array_equal(resumed.agent.tables()[name], table)
    assert resumed.agent.steps == whole.agent.steps
    eval_whole = json.loads((whole.run_dir / "eval.json").read_text())
    assert json.loads((run_dir / "eval.json").read_text()) == eval_whole


@pytest.mark.parametrize(
    "config_file",
    [
        "cliff/q_learning.yaml",
        "cliff/double_q_learning.yaml",
        "cliff/n_step_sarsa.yaml",
    ],
)
def test_resume_after_an_interruption_is_exact(monkeypatch, tmp_path, config_file):
    resume_matches_uninterrupted(monkeypatch, tmp_path, config_file, ["train.episodes=40"])


# ----------------------------------------------------------------------------- smoke runs


TD_NAMES = {"sarsa", "expected_sarsa", "q_learning", "double_q_learning", "n_step_sarsa"}


def configs_of(names: set[str]) -> list[str]:
    """The config files (relative to configs/) whose agent is one of `names`."""
    found = []
    for path in sorted(CONFIGS.glob("*/*.yaml")):
        agent = (yaml.safe_load(path.read_text()) or {}).get("agent") or {}
        if agent.get("name") in names:
            found.append(str(path.relative_to(CONFIGS)))
    return found


TD_CONFIGS = configs_of(TD_NAMES)


def test_every_td_agent_has_a_config():
    names = {load_experiment(CONFIGS / c).agent.name for c in TD_CONFIGS}
    assert names == TD_NAMES
    assert {"cliff/q_learning.yaml", "cliff/sarsa.yaml"} <= set(TD_CONFIGS)
    for name in names:
        assert REGISTRY[name].Config.model_fields["name"].default == name


@pytest.mark.parametrize("config_file", TD_CONFIGS)
def test_smoke_train_every_td_config(config_file, runs_dir):
    config = load_experiment(
        CONFIGS / config_file,
        [
            f"train.runs_dir={runs_dir}",
            "train.episodes=3",
            "train.eval_episodes=1",
            "env.kwargs.max_episode_steps=300",
        ],
    )
    result = train(config, progress=False)
    assert (result.run_dir / "eval.json").is_file()
    assert (result.run_dir / "config.yaml").is_file()
    assert list((result.run_dir / "checkpoints").glob("step_*.pt"))
    assert result.agent.steps > 0
    assert np.isfinite(result.agent.q).all()
    loaded, _ = load_agent(result.run_dir)
    np.testing.assert_array_equal(loaded.q, result.agent.q)
