"""Running statistics for observation and reward normalisation, and their saved state."""

import numpy as np
import pytest

from rlcourse.normalization import ObservationNormalizer, RewardScaler, RunningMeanStd


def test_running_moments_equal_those_of_all_samples():
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(n, 2)) for n in (1, 5, 40)]
    stats = RunningMeanStd((2,), initial_count=0.0)
    for batch in batches:
        stats.update(batch)
    everything = np.concatenate(batches)
    np.testing.assert_allclose(stats.mean, everything.mean(axis=0))
    np.testing.assert_allclose(stats.var, everything.var(axis=0))
    assert stats.count == 46
    with pytest.raises(ValueError, match=r"\[B, \*\[2\]\]"):
        stats.update(np.zeros((3, 4)))


def test_observations_are_standardised_and_clipped():
    norm = ObservationNormalizer((2,), clip=1.5)
    norm.stats = RunningMeanStd((2,), initial_count=0.0)
    out = norm(np.array([[0.0, 10.0], [2.0, 30.0]]), update=True)  # mean (1, 20), std (1, 10)
    np.testing.assert_allclose(out, [[-1.0, -1.0], [1.0, 1.0]], rtol=1e-6)
    assert out.dtype == np.float32
    np.testing.assert_allclose(norm(np.array([[5.0, 20.0]])), [[1.5, 0.0]])  # clipped; no update
    assert norm.stats.count == 2


def test_rewards_are_divided_by_the_std_of_the_discounted_return():
    scaler = RewardScaler(num_envs=1, gamma=0.5)
    scaler.stats = RunningMeanStd((), initial_count=0.0)
    scaler(np.array([2.0]), np.array([False]))  # return 2
    out = scaler(np.array([2.0]), np.array([True]))  # return 0.5 * 2 + 2 = 3; std of {2, 3}
    np.testing.assert_allclose(out, [2.0 / 0.5], rtol=1e-6)
    np.testing.assert_array_equal(scaler.returns, [0.0])  # the episode ended: return restarts


def test_state_round_trips():
    scaler = RewardScaler(num_envs=2, gamma=0.9)
    scaler(np.array([1.0, -3.0]), np.array([False, False]))
    twin = RewardScaler(num_envs=2, gamma=0.9)
    twin.load_state_dict(scaler.state_dict())
    np.testing.assert_array_equal(twin.returns, scaler.returns)
    assert twin.stats.var == scaler.stats.var and twin.stats.count == scaler.stats.count
    with pytest.raises(ValueError, match="shape"):
        RunningMeanStd((3,)).load_state_dict(RunningMeanStd((2,)).state_dict())
    with pytest.raises(ValueError, match="clip"):
        ObservationNormalizer((1,), clip=0.0)
