"""Rollout estimators against hand-computed numbers, and the buffer's minibatches."""

import numpy as np
import pytest
import torch

from rlcourse.rollout import RolloutBuffer, discounted_returns, gae, reward_to_go

# One env, four steps, gamma 0.9, lambda 0.5:
#   t=0  r=1, V=0.5, goes on to s1 (V=1.0)
#   t=1  r=2, V=1.0, terminated                  -> no bootstrap
#   t=2  r=3, V=1.5, truncated, V(final obs)=10  -> bootstraps from the real final state
#   t=3  r=4, V=2.0, the rollout ends, V(next)=5
# deltas: 1 + .9*1 - .5 = 1.4 | 2 - 1 = 1.0 | 3 + .9*10 - 1.5 = 10.5 | 4 + .9*5 - 2 = 6.5
# A3 = 6.5, A2 = 10.5 (the episode ended), A1 = 1.0, A0 = 1.4 + .9*.5*1.0 = 1.85
GAMMA, LAM = 0.9, 0.5
REWARDS = np.array([1.0, 2.0, 3.0, 4.0])
VALUES = np.array([0.5, 1.0, 1.5, 2.0])
NEXT_VALUES = np.array([1.0, 123.0, 10.0, 5.0])  # 123: after a terminal, must be ignored
TERMINATED = np.array([False, True, False, False])
ENDS = np.array([False, True, True, False])
ADVANTAGES = np.array([1.85, 1.0, 10.5, 6.5])


def test_gae_by_hand_with_a_terminal_and_a_truncation():
    got = gae(REWARDS, VALUES, NEXT_VALUES, TERMINATED, ENDS, GAMMA, LAM)
    np.testing.assert_allclose(got, ADVANTAGES)


def test_discounted_returns_by_hand_and_equal_to_gae_with_lambda_one():
    # R3 = 4 + .9*5 = 8.5, R2 = 3 + .9*10 = 12, R1 = 2, R0 = 1 + .9*2 = 2.8
    got = discounted_returns(REWARDS, NEXT_VALUES, TERMINATED, ENDS, GAMMA)
    np.testing.assert_allclose(got, [2.8, 2.0, 12.0, 8.5])
    lam_one = gae(REWARDS, VALUES, NEXT_VALUES, TERMINATED, ENDS, GAMMA, 1.0) + VALUES
    np.testing.assert_allclose(got, lam_one)


def test_gae_columns_are_independent_envs():
    two = np.stack([REWARDS, REWARDS[::-1]], axis=1)
    zeros = np.zeros((4, 2), dtype=bool)
    got = gae(two, np.zeros((4, 2)), np.zeros((4, 2)), zeros, zeros, 1.0, 1.0)
    np.testing.assert_allclose(got[:, 0], [10, 9, 7, 4])
    np.testing.assert_allclose(got[:, 1], [10, 6, 3, 1])


def test_gae_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="share one"):
        gae(REWARDS, VALUES[:3], NEXT_VALUES, TERMINATED, ENDS, GAMMA, LAM)


def test_reward_to_go_by_hand():
    np.testing.assert_allclose(reward_to_go([1.0, 0.0, 2.0], 0.5), [1.5, 1.0, 2.0])
    with pytest.raises(ValueError, match="one episode"):
        reward_to_go(np.zeros((2, 2)), 0.5)


def _filled_buffer():
    buffer = RolloutBuffer(4, 1, (1,), torch.float32, (), torch.int64)
    truncated = ENDS & ~TERMINATED
    for t in range(4):
        buffer.add(
            torch.tensor([[float(t)]]), torch.tensor([t]), torch.zeros(1),
            torch.tensor([VALUES[t]], dtype=torch.float32), REWARDS[t : t + 1],
            TERMINATED[t : t + 1], truncated[t : t + 1], np.array([t in (0, 2, 3)]),
        )  # fmt: skip
        if truncated[t]:
            buffer.set_final_values(np.array([0]), np.array([10.0]))
    buffer.finish(np.array([5.0]), GAMMA, LAM)
    return buffer


def test_buffer_computes_the_hand_example():
    buffer = _filled_buffer()
    np.testing.assert_allclose(buffer.advantages[:, 0].numpy(), ADVANTAGES, rtol=1e-6)
    np.testing.assert_allclose(buffer.returns[:, 0].numpy(), ADVANTAGES + VALUES, rtol=1e-6)


def test_buffer_refuses_to_overfill_or_finish_early():
    buffer = RolloutBuffer(1, 1, (1,), torch.float32, (), torch.int64)
    with pytest.raises(RuntimeError, match="holds 0 of 1"):
        buffer.finish(np.zeros(1), 0.9, 0.9)
    _filled = _filled_buffer()
    with pytest.raises(RuntimeError, match="full"):
        _filled.add(*[None] * 8)


def test_minibatches_cover_the_rollout_once():
    buffer = RolloutBuffer(4, 3, (2,), torch.float32, (), torch.int64)
    for t in range(4):
        obs = torch.arange(6, dtype=torch.float32).view(3, 2) + 10 * t
        buffer.add(obs, torch.arange(3) + 3 * t, torch.zeros(3), torch.zeros(3), np.zeros(3),
                   np.zeros(3, bool), np.zeros(3, bool), np.zeros(3, bool))  # fmt: skip
    buffer.finish(np.zeros(3), 0.9, 0.9)
    seen = [b.actions for b in buffer.minibatches(5, torch.Generator().manual_seed(0))]
    assert [len(a) for a in seen] == [5, 5, 2]
    assert sorted(torch.cat(seen).tolist()) == list(range(12))
    (whole,) = buffer.minibatches(12, torch.Generator())
    assert whole.actions.tolist() == list(range(12))


def test_sequences_keep_time_order_and_the_entering_state():
    t_steps, n_envs, hidden = 4, 2, 3
    buffer = RolloutBuffer(t_steps, n_envs, (), torch.float32, (), torch.int64,
                           hidden_shapes=[(1, n_envs, hidden)])  # fmt: skip
    for t in range(t_steps):
        obs = torch.tensor([10.0 * t, 10.0 * t + 1])  # env e at step t: 10 t + e
        h = torch.full((1, n_envs, hidden), float(t)) + torch.tensor([0.0, 0.5]).view(1, 2, 1)
        buffer.add(obs, torch.zeros(2, dtype=torch.int64), torch.zeros(2), torch.zeros(2),
                   np.zeros(2), np.zeros(2, bool), np.zeros(2, bool), np.array([t == 2, False]),
                   hidden=[h])  # fmt: skip
    buffer.finish(np.zeros(2), 0.9, 0.9)
    seq = buffer.sequences(2)
    # Sequence index = chunk * n_envs + env.
    assert seq.observations.tolist() == [[0, 10], [1, 11], [20, 30], [21, 31]]
    assert seq.starts.tolist() == [[False, False], [False, False], [True, False], [False, False]]
    assert seq.hidden[:, :, 0].tolist() == [[0.0, 0.5, 2.0, 2.5]]
    batches = list(buffer.sequence_minibatches(2, 3, torch.Generator().manual_seed(1)))
    assert [b.observations.shape[0] for b in batches] == [3, 1]
    for b in batches:  # each sequence keeps its own entering state
        assert torch.equal(
            b.hidden[0, :, 0], b.observations[:, 0] // 10 + b.observations[:, 0] % 10 * 0.5
        )
    with pytest.raises(ValueError, match="divide"):
        buffer.sequences(3)
