"""Evaluation statistics against numbers worked out by hand."""

import gymnasium as gym
import numpy as np
import pytest

from rlcourse.evaluation import confidence_interval, evaluate, numeric_info, summarise


def test_confidence_interval_by_hand():
    # mean 2, sample std 1, t(0.975, df=2) = 4.302653 -> half width 4.302653 / sqrt(3)
    low, high = confidence_interval([1.0, 2.0, 3.0])
    assert (low, high) == pytest.approx((2 - 2.484138, 2 + 2.484138), abs=1e-5)
    assert confidence_interval([5.0]) == (5.0, 5.0)


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
