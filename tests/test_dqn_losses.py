"""DQN's losses and their pieces against numbers worked out by hand."""

import math

import pytest
import torch
from torch import nn

from agents.dqn.config import DQNConfig
from agents.dqn.losses import (
    categorical_projection,
    large_margin_loss,
    masked,
    q_targets,
    td_loss,
    value_loss,
)
from rlcourse.replay import ReplayBatch


def t(*rows):
    return torch.tensor(rows, dtype=torch.float32)


def test_double_dqn_uses_the_online_argmax_and_the_target_value():
    online, target = t([1.0, 5.0, 2.0]), t([10.0, 3.0, 7.0])
    reward, discount = torch.tensor([1.0]), torch.tensor([0.5])
    assert q_targets(reward, discount, target).item() == 1.0 + 0.5 * 10.0  # plain: max of target
    assert q_targets(reward, discount, target, online).item() == 1.0 + 0.5 * 3.0  # double


def test_illegal_actions_never_enter_the_max():
    online, target = t([1.0, 5.0, 2.0]), t([10.0, 3.0, 7.0])
    mask = torch.tensor([[False, False, True]])
    assert q_targets(torch.zeros(1), torch.ones(1), target, None, mask).item() == 7.0
    mask = torch.tensor([[True, False, True]])
    assert q_targets(torch.zeros(1), torch.ones(1), target, online, mask).item() == 7.0
    assert masked(online, mask).argmax().item() == 2


def test_terminal_rows_do_not_bootstrap_even_without_legal_actions():
    no_legal = torch.tensor([[False, False]])
    value = q_targets(torch.tensor([2.0]), torch.tensor([0.0]), t([5.0, 6.0]), None, no_legal)
    assert value.item() == 2.0


def test_c51_projection_worked_example():
    support = torch.tensor([-1.0, 0.0, 1.0])
    probs = t([0.2, 0.3, 0.5])
    # r + 0.5 z = [0, 0.5, 1]: atom 0 lands on 0, atom 1 halfway between 0 and 1, atom 2 on 1.
    got = categorical_projection(torch.tensor([0.5]), torch.tensor([0.5]), probs, support)
    assert torch.allclose(got, t([0.0, 0.35, 0.65]))


def test_c51_projection_clamps_and_splits_terminal_rewards():
    support = torch.tensor([-1.0, 0.0, 1.0])
    probs = t([0.2, 0.3, 0.5], [0.2, 0.3, 0.5])
    got = categorical_projection(torch.tensor([2.0, -0.3]), torch.zeros(2), probs, support)
    assert torch.allclose(got, t([0.0, 0.0, 1.0], [0.3, 0.7, 0.0]))
    assert torch.allclose(got.sum(1), torch.ones(2))


def test_losses():
    pred, target = torch.tensor([0.0, 0.0]), torch.tensor([0.5, 3.0])
    assert torch.allclose(value_loss(pred, target, "huber"), torch.tensor([0.125, 2.5]))
    assert torch.allclose(value_loss(pred, target, "mse"), torch.tensor([0.25, 9.0]))


def test_large_margin_loss_by_hand():
    q = torch.tensor([[1.0, 2.0, 0.5], [3.0, 2.0, 0.0]])
    teacher = torch.tensor([0, 0])
    # row 0: max(1, 2 + 0.8, 0.5 + 0.8) - 1 = 1.8; row 1: max(3, 2.8, 0.8) - 3 = 0
    assert float(large_margin_loss(q, teacher, None, 0.8)) == pytest.approx(0.9)
    legal = torch.tensor([[True, False, True], [True, True, True]])
    # row 0 without action 1: max(1, 1.3) - 1 = 0.3
    assert float(large_margin_loss(q, teacher, legal, 0.8)) == pytest.approx(0.15)


# ----------------------------------------------------------------------------- td_loss by hand


class Table(nn.Module):
    """A Q network over integer states: its output for state s is row s of `values`
    (Q values [A], or C51 log-probabilities [A, Z] on `support`)."""

    def __init__(self, values, support=None):
        super().__init__()
        self.values = nn.Parameter(torch.as_tensor(values, dtype=torch.float32))
        self.support = support

    def forward(self, obs):
        return self.values[obs]

    def expected(self, out):
        return out if self.support is None else (out.exp() * self.support).sum(-1)


ONLINE = [[1.0, 2.0], [3.0, 0.0]]  # Q(s, a) for states 0, 1 and actions 0, 1
TARGET = [[0.5, 4.0], [2.0, 5.0]]


def batch(actions, rewards, discounts, weights, obs=(0, 1), next_obs=(1, 0), masks=None):
    return ReplayBatch(
        observations=torch.tensor(obs), actions=torch.tensor(actions),
        rewards=torch.tensor(rewards), next_observations=torch.tensor(next_obs),
        discounts=torch.tensor(discounts), next_action_masks=masks,
        weights=torch.tensor(weights), indices=torch.arange(len(obs)),
    )  # fmt: skip


def test_td_loss_plain_dqn_with_huber_by_hand():
    online, target = Table(ONLINE), Table(TARGET)
    data = batch(actions=[1, 0], rewards=[1.0, -1.0], discounts=[0.9, 0.0], weights=[1.0, 0.5])
    loss, metrics = td_loss(data, online, target, DQNConfig(loss="huber"))
    # row 0: Q(0, 1) = 2 against 1 + 0.9 * max(2, 5) = 5.5: error -3.5, Huber 3.5 - 0.5 = 3
    # row 1: Q(1, 0) = 3 against -1 (terminal): error 4, Huber 3.5, weight 0.5
    assert loss.item() == pytest.approx((3.0 + 0.5 * 3.5) / 2)
    torch.testing.assert_close(metrics.td_errors, t(3.5, 4.0))
    loss.backward()  # Huber's slope is the error clipped to [-1, 1], times weight / B
    torch.testing.assert_close(online.values.grad, t([0.0, -0.5], [0.25, 0.0]))
    assert target.values.grad is None


def test_td_loss_double_dqn_by_hand():
    online, target = Table(ONLINE), Table(TARGET)
    data = batch(actions=[1, 0], rewards=[1.0, -1.0], discounts=[0.9, 0.0], weights=[1.0, 0.5])
    loss, metrics = td_loss(data, online, target, DQNConfig(double=True, loss="mse"))
    # row 0: the online net picks argmax(3, 0) = 0 at state 1, the target values it at 2:
    # 1 + 0.9 * 2 = 2.8 against Q(0, 1) = 2, squared error 0.64; row 1: (3 - -1)^2 = 16
    assert loss.item() == pytest.approx((0.64 + 0.5 * 16.0) / 2)
    torch.testing.assert_close(metrics.td_errors, t(0.8, 4.0))


def test_td_loss_masks_the_next_action_by_hand():
    online, target = Table(ONLINE), Table(TARGET)
    legal = torch.tensor([[True, False]])  # at state 1 only action 0 (valued 2, not 5) is legal
    data = batch([1], [1.0], [0.9], [1.0], obs=(0,), next_obs=(1,), masks=legal)
    loss, metrics = td_loss(data, online, target, DQNConfig())
    # 1 + 0.9 * 2 = 2.8 against Q(0, 1) = 2: error -0.8, Huber 0.5 * 0.64
    assert loss.item() == pytest.approx(0.32)
    torch.testing.assert_close(metrics.td_errors, t(0.8))


def test_td_loss_c51_by_hand():
    support = torch.tensor([-1.0, 0.0, 1.0])
    uniform = [1 / 3] * 3
    online = Table(torch.tensor([[uniform, [0.2, 0.5, 0.3]], [uniform, uniform]]).log(), support)
    # at state 1 action 0 has mean 0.3 and action 1 mean -0.4: action 0 bootstraps
    next_probs = torch.tensor([[uniform, uniform], [[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]]])
    target = Table(next_probs.log(), support)
    config = DQNConfig(distributional=True, atoms=3, v_min=-1.0, v_max=1.0)
    data = batch([1], [0.5], [0.5], [1.0], obs=(0,), next_obs=(1,))
    loss, metrics = td_loss(data, online, target, config)
    # 0.5 + 0.5 z projects to [0, 0.35, 0.65] (see the worked projection above)
    expected = -(0.35 * math.log(0.5) + 0.65 * math.log(0.3))
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    torch.testing.assert_close(metrics.td_errors, t(expected))
