"""TD and Monte Carlo prediction against Sutton & Barto (2018): the random walks of Example 6.2
and Figure 7.2 (with fewer runs than the book, and margins that hold across seeds), batch
updating (Figure 6.2), and the update rules against values worked out by hand."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401  (registers rlcourse/RandomWalk-v0 and rlcourse/RandomWalk19-v0)
from agents.tabular.planning import policy_evaluation, uniform_policy
from agents.tabular.prediction import (
    Episode,
    MCPredictionAgent,
    MCPredictionConfig,
    TDPredictionAgent,
    TDPredictionConfig,
    batch_values,
    mc_prediction_episode,
    n_step_td_episode,
)
from envs.random_walk import RandomWalkEnv
from rlcourse.mdp import TabularMDP
from scripts.gallery.chapter6 import WALK_TRUE, batch_errors, record_walks, walk_errors
from scripts.gallery.chapter7 import ALPHAS, NS, n_step_errors


def test_random_walk_env_passes_gymnasium_and_sb3_checks():
    check_env(RandomWalkEnv(), skip_render_check=True)
    sb3_check_env(RandomWalkEnv(19, -1.0), warn=True)


def test_true_values_from_the_model():
    """Example 6.2: 1/6 .. 5/6; Figure 7.2's walk: -0.9 .. 0.9 (by exact policy evaluation)."""
    mdp = TabularMDP.from_env(gym.make("rlcourse/RandomWalk-v0"))
    v = policy_evaluation(mdp, uniform_policy(mdp), 1.0)
    assert v[1:6] == pytest.approx(np.arange(1, 6) / 6)
    mdp = TabularMDP.from_env(gym.make("rlcourse/RandomWalk19-v0"))
    v = policy_evaluation(mdp, uniform_policy(mdp), 1.0)
    assert v[1:20] == pytest.approx(np.arange(-9, 10) / 10)


def test_n_step_td_by_hand():
    # states 3 -> 4 -> 5 -> end(6), rewards 0, 0, 1; V = 0.5 everywhere but the end
    values = np.array([0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0])
    n_step_td_episode(values, [3, 4, 5, 6], [0.0, 0.0, 1.0], n=2, alpha=0.5)
    # S0=3: 0 + 0 + V(5) = 0.5 -> stays 0.5; S1=4: 0 + 1 (ends) -> 0.75; S2=5: 1 -> 0.75
    assert values[3:6] == pytest.approx([0.5, 0.75, 0.75])
    values = np.full((2, 7), 0.5)  # one table per step size
    n_step_td_episode(values, [3, 2, 1, 0], [0.0, 0.0, 0.0], n=1, alpha=np.array([0.1, 1.0]))
    # TD(0): V(3) -> V(2), V(2) -> V(1), V(1) -> 0 (terminal, 0 reward)
    assert values[0, 1] == pytest.approx(0.45) and values[1, 1] == pytest.approx(0.0)
    assert values[1, 2] == pytest.approx(0.5) and values[1, 3] == pytest.approx(0.5)


def test_truncated_episodes_bootstrap_from_where_they_stopped():
    values = np.array([0.0, 2.0, 4.0])
    n_step_td_episode(values, [1, 2], [1.0], n=3, alpha=1.0, gamma=0.5, terminated=False)
    assert values[1] == pytest.approx(1.0 + 0.5 * 4.0)


def test_constant_alpha_mc_by_hand():
    values, counts = np.array([0.0, 0.5, 0.5, 0.0]), np.zeros(4)
    mc_prediction_episode(values, counts, [1, 2, 3], [0.0, 1.0], alpha=0.1)
    assert values[1:3] == pytest.approx([0.55, 0.55])
    values, counts = np.full(4, 0.5), np.zeros(4)  # the sample average forgets the start
    mc_prediction_episode(values, counts, [1, 2, 3], [0.0, 1.0], alpha=None)
    mc_prediction_episode(values, counts, [1, 0], [0.0], alpha=None)
    assert values[1] == pytest.approx(0.5) and counts[1] == 2 and values[2] == 1.0


def test_batch_updating_converges_to_certainty_equivalence_and_sample_averages():
    # two episodes: B -> end with reward 0, and A -> B -> end with reward 1 (states A=1, B=2)
    walks = [
        Episode(np.array([2, 3]), np.array([0.0])),
        Episode(np.array([1, 2, 3]), np.array([0.0, 1.0])),
    ]
    td = batch_values(np.zeros(4), walks, "td", alpha=0.05, tolerance=1e-9)
    mc = batch_values(np.zeros(4), walks, "mc", alpha=0.05, tolerance=1e-9)
    # batch TD: V(B) = 1/2 (its two outcomes), V(A) = V(B); batch MC: V(A) = its one return
    assert td[2] == pytest.approx(0.5, abs=1e-6) and td[1] == pytest.approx(0.5, abs=1e-6)
    assert mc[2] == pytest.approx(0.5, abs=1e-6) and mc[1] == pytest.approx(1.0, abs=1e-6)


def test_example_6_2_td_beats_mc_at_their_best_step_sizes():
    result = walk_errors(100, 20)
    td, mc = result["td"] / 20, result["mc"] / 20
    assert td[:, 0] == pytest.approx(np.sqrt(np.mean((0.5 - WALK_TRUE) ** 2)))
    # after 100 episodes: the book shows TD near 0.05 and MC near 0.1 at their best alphas
    assert td[:, -1].min() < 0.07
    assert td[:, -1].min() < mc[:, -1].min() - 0.02
    assert td[:, 90:].mean(axis=1).min() < mc[:, 90:].mean(axis=1).min()


def test_figure_6_2_batch_td_beats_batch_mc():
    result = batch_errors(200, 4)
    td, mc = result["td"] / 4, result["mc"] / 4
    assert td[40:].mean() < mc[40:].mean()


def test_figure_7_2_intermediate_n_is_best():
    errors = n_step_errors(300, 10)["errors"] / 10
    best_n, best_alpha = np.unravel_index(errors.argmin(), errors.shape)
    # book: the best is n = 4 (n = 2..8 here) near alpha 0.4, an error about 0.27; n = 1 and
    # n = 512 do worse at every alpha
    assert NS[best_n] in (2, 4, 8)
    assert 0.2 <= ALPHAS[best_alpha] <= 0.7
    assert 0.22 < errors.min() < 0.32
    assert errors[0].min() > errors.min() + 0.02 and errors[-1].min() > errors.min() + 0.05
    assert errors[:, 0] == pytest.approx(np.sqrt(np.mean((np.arange(-9, 10) / 10) ** 2)))


@pytest.mark.parametrize(
    "cls,config",
    [
        (TDPredictionAgent, TDPredictionConfig(alpha=0.05, n=1)),
        (MCPredictionAgent, MCPredictionConfig(alpha=0.02)),
    ],
)
def test_agents_learn_the_walk_from_the_env(cls, config):
    env = gym.make("rlcourse/RandomWalk-v0")
    agent = cls(config, env.observation_space, env.action_space, seed=0)
    env.reset(seed=0)
    for _ in range(300):
        agent.run_episode(env)
    values, policy = agent.value_table()
    assert np.abs(values[1:6] - WALK_TRUE).max() < 0.15
    assert policy.shape == (7, 1)


def test_online_td_equals_the_rule_on_the_recorded_episode():
    env = gym.make("rlcourse/RandomWalk-v0")
    agent = TDPredictionAgent(
        TDPredictionConfig(alpha=0.1, n=3), env.observation_space, env.action_space
    )
    env.reset(seed=5)
    for _ in range(20):
        agent.run_episode(env)
    values = np.zeros(7)
    for walk in record_walks("rlcourse/RandomWalk-v0", 5, 20):
        n_step_td_episode(values, walk.states, walk.rewards, 3, 0.1)
    assert np.allclose(agent.v, values)
