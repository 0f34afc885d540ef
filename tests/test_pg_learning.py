"""Slow learning checks: PPO solves CartPole; only a recurrent PPO solves the T-maze."""

from pathlib import Path

import numpy as np
import pytest

import envs  # noqa: F401
from agents.training import env_factory, load_experiment, train

CONFIGS = Path(__file__).resolve().parent.parent / "configs"

pytestmark = pytest.mark.slow


def _train(path, runs_dir):
    return train(load_experiment(path, [f"train.runs_dir={runs_dir}"]), progress=False)


def test_ppo_solves_cartpole_within_100k_steps(runs_dir):
    result = _train(CONFIGS / "cartpole" / "ppo.yaml", runs_dir)
    assert result.agent.env_steps <= 100_000 + result.config.agent.rollout_size
    assert result.evaluation.mean >= 475.0


def _success_rate(agent, config, episodes=200):
    """Greedy success over seeded episodes, the recurrent state reset at each start."""
    env = env_factory(config)()
    successes = []
    for i in range(episodes):
        agent.reset_state()
        obs, info = env.reset(seed=1_000_000 + i)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(agent.act(obs, info, True))
            done = terminated or truncated
        successes.append(info.get("success", 0.0))
    env.close()
    return float(np.mean(successes))


def test_recurrent_ppo_solves_the_tmaze_and_feed_forward_cannot(runs_dir):
    recurrent = _train(CONFIGS / "tmaze" / "ppo_lstm.yaml", runs_dir)
    feed_forward = _train(CONFIGS / "tmaze" / "ppo.yaml", runs_dir)
    assert _success_rate(recurrent.agent, recurrent.config) >= 0.95
    # Without memory the turn cannot depend on the cue: about half the cues are matched.
    assert _success_rate(feed_forward.agent, feed_forward.config) <= 0.65
