"""TD control against Sutton & Barto (2018), chapter 6: cliff walking (Example 6.6, Figure
6.4), the windy gridworld (Example 6.5, Figure 6.3) and maximization bias (Example 6.7,
Figure 6.5), all with the book's settings.

With a constant step size of 0.5 the Q table keeps moving, so the greedy policy read off it
after one particular episode now and then contains a briefly overestimated move (a bump into a
wall that the next visit corrects). The path checks therefore look at the greedy policy after
each of many episodes, the way the book's figures summarise many runs.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the rlcourse/* ids)
from agents.tabular.td import (
    DoubleQLearningAgent,
    DoubleQLearningConfig,
    ExpectedSarsaAgent,
    ExpectedSarsaConfig,
    QLearningAgent,
    QLearningConfig,
    SarsaAgent,
    SarsaConfig,
)
from envs.maximization_bias import MaximizationBiasEnv

CLIFF, WINDY = "rlcourse/CliffWalking-v0", "rlcourse/WindyGridworld-v0"
CLIFF_COLS, CLIFF_START, CLIFF_GOAL = 12, 36, 47
EDGE_PATH = [36, *range(24, 36), 47]  # up, eleven steps right along the edge, down: 13 steps
SEEDS = range(5)


def greedy_path(agent: Any, env: gym.Env, limit: int = 100) -> list[int]:
    """The states the deterministic greedy policy visits from the start (at most `limit` moves)."""
    obs, info = env.reset()
    path = [int(obs)]
    for _ in range(limit):
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info, deterministic=True))
        path.append(int(obs))
        if terminated or truncated:
            break
    return path


class Trace(NamedTuple):
    """One training run: the online return and length of every episode, and the greedy path
    after each watched episode with the agent's step count at that time."""

    returns: np.ndarray
    lengths: np.ndarray
    paths: list[list[int]]
    steps: list[int]


def train_and_watch(
    cls: type, config: Any, env_id: str, episodes: int, seed: int, watch_from: int = 0
) -> Trace:
    """Train for `episodes`; read the greedy path after every episode from `watch_from` on."""
    env, viewer = gym.make(env_id), gym.make(env_id)
    agent = cls(config, env.observation_space, env.action_space, seed=seed)
    env.reset(seed=seed)
    viewer.reset(seed=seed)
    run = Trace(np.zeros(episodes), np.zeros(episodes, dtype=int), [], [])
    for episode in range(episodes):
        stats = agent.run_episode(env)
        run.returns[episode], run.lengths[episode] = stats.episode_return, stats.length
        if episode >= watch_from:
            run.paths.append(greedy_path(agent, viewer))
            run.steps.append(agent.steps)
    return run


def rows_above_cliff(path: list[int]) -> float:
    """Mean distance [rows] from the cliff of a path's cells over the cliff's columns (1-10)."""
    middle = [s for s in path if 1 <= s % CLIFF_COLS <= 10]
    return float(np.mean([3 - s // CLIFF_COLS for s in middle]))


@pytest.fixture(scope="module")
def cliff_runs() -> dict[str, dict[str, Any]]:
    """Five 500-episode runs of each method (epsilon 0.1, alpha 0.5, gamma 1), with the greedy
    path after each of the last 100 episodes."""
    methods = {
        "q_learning": (QLearningAgent, QLearningConfig(alpha=0.5, gamma=1.0, epsilon=0.1)),
        "sarsa": (SarsaAgent, SarsaConfig(alpha=0.5, gamma=1.0, epsilon=0.1)),
        "expected_sarsa": (
            ExpectedSarsaAgent,
            ExpectedSarsaConfig(alpha=0.5, gamma=1.0, epsilon=0.1),
        ),
    }
    results = {}
    for name, (cls, config) in methods.items():
        runs = [train_and_watch(cls, config, CLIFF, 500, seed, watch_from=400) for seed in SEEDS]
        results[name] = {
            "paths": [path for run in runs for path in run.paths],
            "online": float(np.mean([run.returns[100:500].mean() for run in runs])),
        }
    return results


def test_cliff_q_learning_takes_the_edge_path(cliff_runs):
    paths = cliff_runs["q_learning"]["paths"]
    on_edge = np.mean([p == EDGE_PATH for p in paths])
    assert on_edge >= 0.9, Counter(len(p) - 1 for p in paths)


def test_cliff_sarsa_takes_the_safer_longer_path(cliff_runs):
    paths = [p for p in cliff_runs["sarsa"]["paths"] if p[-1] == CLIFF_GOAL]
    assert len(paths) >= 0.7 * len(cliff_runs["sarsa"]["paths"])  # most snapshots reach the goal
    assert not any(p == EDGE_PATH for p in paths)
    usual = Counter(tuple(p) for p in paths).most_common(1)[0][0]
    assert len(usual) - 1 > 13
    # Q-learning's path runs 1 row above the cliff; SARSA's keep at least 2 rows away
    assert rows_above_cliff(EDGE_PATH) == 1.0
    assert np.mean([rows_above_cliff(p) for p in paths]) >= 2.0


def test_cliff_sarsa_earns_more_online_than_q_learning(cliff_runs):
    q, sarsa = cliff_runs["q_learning"]["online"], cliff_runs["sarsa"]["online"]
    # Figure 6.4: about -50 for Q-learning and -25 for SARSA
    assert -60.0 < q < -40.0
    assert -35.0 < sarsa < -18.0
    assert sarsa > q + 15.0


def test_cliff_expected_sarsa_earns_at_least_as_much_as_sarsa(cliff_runs):
    # Figure 6.3 (interim performance at alpha = 0.5): Expected SARSA above SARSA
    assert cliff_runs["expected_sarsa"]["online"] > cliff_runs["sarsa"]["online"]


def test_windy_gridworld_sarsa_reaches_the_15_step_optimum():
    """Figure 6.3: about 170 episodes in the first 8,000 steps, by which time the greedy policy
    has found the 15-step path."""
    config = SarsaConfig(alpha=0.5, gamma=1.0, epsilon=0.1, initial_q=0.0)
    found_at, episodes_by_8000 = [], []
    for seed in SEEDS:
        run = train_and_watch(SarsaAgent, config, WINDY, 400, seed)
        moves = np.array([len(path) - 1 for path in run.paths])
        assert moves.min() == 15, f"seed {seed}: greedy paths {sorted(set(moves))[:5]}"
        found_at.append(run.steps[int(np.argmax(moves == 15))])
        episodes_by_8000.append(int(np.searchsorted(np.cumsum(run.lengths), 8000, side="right")))
    assert max(found_at) <= 15_000  # comfortably above the book's ~8,000 steps
    assert 140 <= np.mean(episodes_by_8000) <= 200


def left_fraction(cls: type, config: Any, runs: int, episodes: int) -> np.ndarray:
    """Fraction of runs that go LEFT from A, per episode."""
    left = np.zeros(episodes)
    for run in range(runs):
        env = MaximizationBiasEnv()
        agent = cls(config, env.observation_space, env.action_space, seed=run)
        env.reset(seed=run)
        for episode in range(episodes):
            left[episode] += agent.run_episode(env).length == 2
    return left / runs


@pytest.mark.slow
def test_double_q_learning_avoids_the_maximization_bias():
    """Figure 6.5 (epsilon 0.1, alpha 0.1, gamma 1): Q-learning first prefers LEFT far more
    often than the 5% of an epsilon-greedy optimal policy; Double Q-learning stays near 5%."""
    q = left_fraction(QLearningAgent, QLearningConfig(alpha=0.1, epsilon=0.1), 300, 300)
    double = left_fraction(
        DoubleQLearningAgent, DoubleQLearningConfig(alpha=0.1, epsilon=0.1), 300, 300
    )
    # measured over 300 runs: Q-learning 0.90 in episodes 5-50 and 0.13 after 200; Double Q
    # 0.29 and 0.075
    assert q[5:50].mean() > 0.6
    assert double[5:50].mean() < 0.5 * q[5:50].mean()
    assert double[200:].mean() < 0.1
    assert double[200:].mean() < q[200:].mean()


def test_maximization_bias_env_passes_the_gymnasium_check():
    from gymnasium.utils.env_checker import check_env

    check_env(MaximizationBiasEnv(), skip_render_check=True)
    env = MaximizationBiasEnv()
    _, info = env.reset(seed=0)
    assert info["action_mask"].tolist() == [True, True] + [False] * 8
    assert env.step(1)[:3] == (1, 0.0, False)  # LEFT leads to B
