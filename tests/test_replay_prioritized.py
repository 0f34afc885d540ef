"""Prioritized replay: priorities, importance weights by hand, the sampling distribution,
stacked batches and argument errors."""

import numpy as np
import pytest
from scipy.stats import chisquare

from rlcourse.replay import PrioritizedReplayBuffer
from tests.test_replay_uniform import SCALAR_BOX, add_one


def filled_prioritized(count, **kwargs):
    buffer = PrioritizedReplayBuffer(count, SCALAR_BOX, gamma=0.5, **kwargs)
    for i in range(count):
        add_one(buffer, i, i, 0.0, i + 1)
    return buffer


def test_new_transitions_get_the_largest_priority_seen_so_far():
    buffer = filled_prioritized(3, alpha=1.0, epsilon=1e-6)
    np.testing.assert_array_equal(buffer.priorities([0, 1, 2]), [1.0, 1.0, 1.0])
    buffer.update_priorities([0, 1], [-3.0, 0.5])  # p = |delta| + eps
    np.testing.assert_allclose(buffer.priorities([0, 1, 2]), [3 + 1e-6, 0.5 + 1e-6, 1.0])
    buffer.update_priorities([0], [0.0])
    add_one(buffer, 3, 3, 0.0, 4)  # overwrites storage index 0 with priority max(3, 1)
    np.testing.assert_allclose(buffer.priorities([0]), [3 + 1e-6])


def test_priority_is_the_td_error_plus_epsilon_to_the_alpha():
    buffer = filled_prioritized(2, alpha=0.5, epsilon=0.25)
    buffer.update_priorities([0, 1], [2.0, -6.0])
    np.testing.assert_allclose(buffer.priorities([0, 1]), [1.5, 2.5])  # sqrt(2.25), sqrt(6.25)


@pytest.mark.parametrize(
    ("beta", "expected"),
    [
        # p = 1, 2, 3, 4, so P = .1 .2 .3 .4 and N P = .4 .8 1.2 1.6; w = (N P)**-beta divided
        # by its largest value (N P = .4): w_i = (p_1 / p_i)**beta
        (0.5, [1.0, 0.70710678, 0.57735027, 0.5]),
        (1.0, [1.0, 0.5, 1 / 3, 0.25]),
        (0.0, [1.0, 1.0, 1.0, 1.0]),
    ],
)
def test_importance_weights_against_a_hand_computation(beta, expected):
    buffer = filled_prioritized(4, alpha=0.5, beta=beta, epsilon=1e-6, seed=0)
    buffer.update_priorities([0, 1, 2, 3], np.array([1.0, 4.0, 9.0, 16.0]) - 1e-6)
    for _ in range(20):
        batch = buffer.sample(4)
        np.testing.assert_allclose(batch.weights, np.array(expected)[batch.indices], rtol=1e-5)
        assert batch.weights.dtype == np.float32


def test_beta_can_be_annealed():
    buffer = filled_prioritized(4, alpha=1.0, beta=0.0, epsilon=1e-6, seed=0)
    buffer.update_priorities([0, 1, 2, 3], [1.0, 1.0, 1.0, 4.0])
    assert np.all(buffer.sample(4).weights == 1.0)
    buffer.beta = 1.0
    batch = buffer.sample(4)
    np.testing.assert_allclose(batch.weights, np.where(batch.indices == 3, 0.25, 1.0), rtol=1e-5)


def sampled_counts(buffer, draws=20_000, batch_size=8):
    batches = draws // batch_size
    indices = np.concatenate([buffer.sample(batch_size).indices for _ in range(batches)])
    return np.bincount(indices, minlength=len(buffer)), len(indices)


def test_updated_priorities_change_the_sampling_distribution():
    buffer = filled_prioritized(10, alpha=1.0, epsilon=1e-6, seed=1)
    counts, draws = sampled_counts(buffer)  # all at the initial priority: uniform
    assert chisquare(counts).pvalue > 1e-3
    priorities = np.arange(1.0, 11.0)
    buffer.update_priorities(np.arange(10), priorities - 1e-6)
    counts, draws = sampled_counts(buffer)
    assert chisquare(counts, draws * priorities / priorities.sum()).pvalue > 1e-3
    buffer.update_priorities([9], [100.0])  # one large TD error takes most of the draws
    counts, draws = sampled_counts(buffer)
    priorities[9] = 100.0
    assert chisquare(counts, draws * priorities / priorities.sum()).pvalue > 1e-3


def test_alpha_zero_samples_uniformly_whatever_the_td_errors():
    buffer = filled_prioritized(10, alpha=0.0, seed=2)
    buffer.update_priorities(np.arange(10), np.arange(10) ** 3)
    counts, _ = sampled_counts(buffer)
    assert chisquare(counts).pvalue > 1e-3
    assert np.all(buffer.sample(8).weights == 1.0)


def test_prioritized_sample_batches_are_stacked_samples():
    buffer, twin = filled_prioritized(16, seed=3), filled_prioritized(16, seed=3)
    buffer.update_priorities(np.arange(16), np.arange(16.0))
    twin.update_priorities(np.arange(16), np.arange(16.0))
    stacked = buffer.sample_batches(4, 3)
    expected = [twin.sample(4) for _ in range(3)]
    np.testing.assert_array_equal(stacked.indices, np.concatenate([b.indices for b in expected]))
    np.testing.assert_array_equal(stacked.weights, np.concatenate([b.weights for b in expected]))


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": -5}, "capacity"),
        ({"capacity": 10.0}, "capacity"),
        ({"num_envs": 0}, "num_envs"),
        ({"n_step": 0}, "n_step"),
        ({"gamma": 1.5}, "gamma"),
        ({"gamma": -0.1}, "gamma"),
        ({"action_mask_size": 0}, "action_mask_size"),
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"beta": 1.1}, "beta"),
        ({"beta": -0.5}, "beta"),
        ({"epsilon": 0.0}, "epsilon"),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs, argument):
    settings = {"capacity": 10, "observation_space": SCALAR_BOX, **kwargs}
    with pytest.raises(ValueError, match=argument):
        PrioritizedReplayBuffer(**settings)


def test_beta_set_out_of_range_is_refused():
    buffer = PrioritizedReplayBuffer(10, SCALAR_BOX)
    with pytest.raises(ValueError, match="beta"):
        buffer.beta = 1.5
    assert buffer.beta == 0.4


def test_bad_priority_updates_are_refused():
    buffer = filled_prioritized(3)
    with pytest.raises(ValueError, match="indices"):
        buffer.update_priorities([3], [1.0])
    with pytest.raises(ValueError, match="td_errors"):
        buffer.update_priorities([0, 1], [1.0])
    with pytest.raises(ValueError, match="td_errors must be finite"):
        buffer.update_priorities([0], [np.inf])
