"""The policy-gradient losses on hand-made two-sample batches: values and gradients."""

import math

import pytest
import torch

from agents.pg.losses import (
    actor_critic_loss,
    clipped_surrogate,
    explained_variance,
    normalized,
    ppo_loss,
    value_loss,
)

OLD = torch.log(torch.tensor([0.5, 0.5]))


def _new_log_probs(ratios):
    return (OLD + torch.log(torch.tensor(ratios))).requires_grad_(True)


def test_clipped_objective_value_and_gradient_on_two_samples():
    # Sample 0: ratio 1.5, A = +1 -> clipped at 1.2, no gradient.
    # Sample 1: ratio 0.9, A = -2 -> inside the clip range: -1.8, d/dlogp = r A = -1.8.
    # loss = -(1.2 - 1.8) / 2 = 0.3; dloss/dlogp = [0, -(-1.8) / 2] = [0, 0.9]
    log_probs = _new_log_probs([1.5, 0.9])
    loss, metrics = clipped_surrogate(log_probs, OLD, torch.tensor([1.0, -2.0]), 0.2)
    assert loss.item() == pytest.approx(0.3)
    loss.backward()
    torch.testing.assert_close(log_probs.grad, torch.tensor([0.0, 0.9]))
    assert metrics["clip_fraction"] == pytest.approx(0.5)
    kl = ((0.5 - math.log(1.5)) + (-0.1 - math.log(0.9))) / 2
    assert metrics["approx_kl"] == pytest.approx(kl, rel=1e-5)


def test_clipping_is_pessimistic_only():
    # ratio 0.5 with A = +1: the unclipped 0.5 is lower than the clipped 0.8, so it is kept
    # (with its gradient); ratio 1.5 with A = -1: -1.5 is lower than -1.2, kept too.
    log_probs = _new_log_probs([0.5, 1.5])
    loss, _ = clipped_surrogate(log_probs, OLD, torch.tensor([1.0, -1.0]), 0.2)
    assert loss.item() == pytest.approx(-(0.5 - 1.5) / 2)
    loss.backward()
    torch.testing.assert_close(log_probs.grad, torch.tensor([-0.25, 0.75]))


def test_value_clipping_keeps_new_values_near_the_old():
    old = torch.tensor([1.0, 1.0])
    new = torch.tensor([2.0, 1.1])
    returns = torch.tensor([3.0, 0.0])
    # clipped to [1.2, 1.1]: ((3 - 1.2)^2 + 1.1^2) / 2
    assert float(value_loss(new, returns, old, 0.2)) == pytest.approx((1.8**2 + 1.1**2) / 2)
    assert float(value_loss(new, returns)) == pytest.approx((1.0 + 1.21) / 2)
    with pytest.raises(ValueError, match="old values"):
        value_loss(new, returns, None, 0.2)


def test_ppo_loss_combines_its_terms():
    log_probs = _new_log_probs([1.0, 1.0])
    entropy = torch.tensor([0.5, 1.5])
    values, returns = torch.tensor([0.0, 0.0]), torch.tensor([1.0, 3.0])
    loss, metrics = ppo_loss(
        log_probs, entropy, values, OLD, values, torch.tensor([2.0, 4.0]), returns,
        clip_range=0.2, clip_range_vf=None, vf_coef=0.5, ent_coef=0.1,
    )  # fmt: skip
    # policy -(2 + 4)/2 = -3; value (1 + 9)/2 = 5; entropy 1
    assert loss.item() == pytest.approx(-3 + 0.5 * 5 - 0.1 * 1)
    assert metrics["value_loss"] == pytest.approx(5.0)
    assert metrics["entropy"] == pytest.approx(1.0)


def test_actor_critic_loss_without_a_critic():
    log_probs = torch.tensor([-1.0, -2.0])
    loss, metrics = actor_critic_loss(
        log_probs, torch.zeros(2), None, torch.tensor([1.0, 2.0]), torch.zeros(2),
        vf_coef=0.5, ent_coef=0.0,
    )  # fmt: skip
    assert loss.item() == pytest.approx((1.0 + 4.0) / 2)
    assert "value_loss" not in metrics


def test_normalized_and_explained_variance():
    x = normalized(torch.tensor([1.0, 2.0, 3.0]))
    assert float(x.mean()) == pytest.approx(0.0, abs=1e-6)
    assert float(x.std()) == pytest.approx(1.0, rel=1e-6)
    assert torch.equal(normalized(torch.tensor([5.0])), torch.tensor([5.0]))
    target = torch.tensor([1.0, 2.0, 3.0])
    assert explained_variance(target, target) == pytest.approx(1.0)
    assert explained_variance(torch.zeros(3), target) == pytest.approx(0.0)
    assert math.isnan(explained_variance(target, torch.ones(3)))
