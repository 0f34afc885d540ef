"""DQN targets against numbers worked out by hand."""

import torch

from agents.dqn.targets import categorical_projection, masked, q_targets, value_loss


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
