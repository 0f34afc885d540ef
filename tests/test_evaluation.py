"""Evaluation statistics against numbers worked out by hand."""

import gymnasium as gym
import numpy as np
import pytest

from rlcourse.evaluation import (
    bootstrap_interval,
    confidence_interval,
    evaluate,
    numeric_info,
    summarise,
)


def test_confidence_interval_by_hand():
    # mean 2, sample std 1, t(0.975, df=2) = 4.302653 -> half width 4.302653 / sqrt(3)
    low, high = confidence_interval([1.0, 2.0, 3.0])
    assert (low, high) == pytest.approx((2 - 2.484138, 2 + 2.484138), abs=1e-5)
    assert confidence_interval([5.0]) == (5.0, 5.0)


def test_an_env_without_a_return_range_gets_a_bootstrap_interval_inside_the_returns_seen():
    # 19 successes and a failure: the t interval reaches 1.07, past the largest return
    returns = [1.0] * 19 + [0.0]
    assert confidence_interval(returns)[1] > 1.0
    result = summarise(returns, [1] * 20, {})
    assert 0.0 <= result.ci95_low < 0.95 < result.ci95_high <= 1.0
    # the bootstrap's means are k/20 for k failures drawn ~ Binomial(20, 1/20): P(k >= 3) = 7.5%,
    # P(k >= 4) = 1.6%, so its 2.5% quantile is 17/20 or 18/20, and the 97.5% quantile is 1
    assert result.ci95_low in (0.85, 0.9) and result.ci95_high == 1.0
    assert bootstrap_interval(returns) == (result.ci95_low, result.ci95_high)  # seeded
    assert bootstrap_interval([3.0, 3.0, 3.0]) == (3.0, 3.0)


def test_the_bootstrap_agrees_with_the_t_interval_on_a_large_normal_sample():
    values = np.random.default_rng(0).normal(5.0, 2.0, 1_000)
    (t_low, t_high), (b_low, b_high) = confidence_interval(values), bootstrap_interval(values)
    half = (t_high - t_low) / 2  # 1.96 * 2 / sqrt(1000) = 0.124
    assert abs(b_low - t_low) < 0.1 * half and abs(b_high - t_high) < 0.1 * half


def test_a_declared_return_range_clips_the_t_interval():
    result = summarise([1.0] * 19 + [0.0], [1] * 20, {}, return_range=(-1.0, 1.0))
    low, _ = confidence_interval([1.0] * 19 + [0.0])
    assert (result.ci95_low, result.ci95_high) == (low, 1.0)


def test_summary_statistics():
    result = summarise([0.0, 10.0], [3, 5], {"success": [0.0, 1.0]})
    assert result.mean == 5.0 and result.std == pytest.approx(np.sqrt(50))
    assert result.mean_length == 4.0 and result.metrics == {"success": 0.5}


def test_numeric_info_keeps_scalars_only():
    info = {
        "prob": 1.0,
        "success": True,
        "x": np.float32(2),
        "mask": np.ones(3),
        "name": "a",
        "_h": 1,
        "d": {"a": 1},
    }
    assert numeric_info(info) == {"success": 1.0, "x": 2.0}


def test_evaluate_a_known_path_on_deterministic_frozen_lake():
    env = gym.make("FrozenLake-v1", is_slippery=False)
    path = iter([])

    def policy(obs, info):
        nonlocal path
        if obs == 0:
            path = iter([2, 2, 1, 1, 1, 2])  # right, right, down, down, down, right
        return next(path)

    result = evaluate(policy, env, episodes=4, seed=3)
    assert result.returns == [1.0] * 4 and result.lengths == [6] * 4
    assert (result.ci95_low, result.ci95_high) == (1.0, 1.0)


def test_max_steps_cuts_endless_episodes_and_bad_counts_are_refused():
    env = gym.make("FrozenLake-v1", is_slippery=False, max_episode_steps=None)
    result = evaluate(lambda obs, info: 0, env, episodes=2, max_steps=7)
    assert result.lengths == [7, 7]
    with pytest.raises(ValueError, match="at least 1"):
        evaluate(lambda obs, info: 0, env, episodes=0)


def test_a_recurrent_policy_starts_every_episode_with_a_fresh_state():
    class Counting:
        """Walks right for as many steps as it has acted since its last reset."""

        def __init__(self):
            self.steps_since_reset = 0
            self.resets = 0

        def reset_state(self):
            self.steps_since_reset = 0
            self.resets += 1

        def act(self, obs, info, deterministic=True):
            self.steps_since_reset += 1
            return 2 if self.steps_since_reset <= 2 else 1  # right, right, then down

    env = gym.make("FrozenLake-v1", is_slippery=False)
    policy = Counting()
    result = evaluate(policy, env, episodes=3)
    # Without the reset the second episode would start by going down into the hole at (1, 0).
    assert policy.resets == 3
    assert result.lengths == [result.lengths[0]] * 3
