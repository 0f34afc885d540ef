"""DDPG, TD3 and SAC losses against numbers worked out by hand."""

import math

import numpy as np
import pytest
import torch

from agents.actor_critic.losses import (
    TargetSmoothing,
    clipped_q_target,
    deterministic_actor_loss,
    deterministic_critic_loss,
    sac_actor_loss,
    sac_critic_loss,
    sac_temperature_loss,
    smoothed,
)
from agents.actor_critic.networks import QEnsemble
from rlcourse.nn import DiagGaussian, MLPSpec
from rlcourse.replay import ReplayBatch


def batch(obs, actions, rewards, next_obs, discounts) -> ReplayBatch:
    as32 = lambda x: np.asarray(x, dtype=np.float32)  # noqa: E731
    n = len(rewards)
    return ReplayBatch(
        as32(obs), as32(actions), as32(rewards), as32(next_obs), as32(discounts), None,
        np.ones(n, np.float32), np.arange(n),
    )  # fmt: skip


class TableCritic:
    """n critics Q_i(s, a) = scale_i * s + a (s and a one number each): values by hand."""

    def __init__(self, scales):
        self.scales = torch.tensor(scales, dtype=torch.float32, requires_grad=True)

    def __call__(self, obs, actions):
        return self.scales[:, None] * obs[:, 0] + actions[:, 0]

    def without_weight_grads(self, obs, actions, members=None):
        scales = self.scales.detach()[: members or len(self.scales)]
        return scales[:, None] * obs[:, 0] + actions[:, 0]


def constant_actor(value):
    return lambda obs: torch.full((obs.shape[0], 1), value)


def test_the_clipped_double_q_target_bootstraps_from_the_smaller_critic():
    rewards, discounts = torch.tensor([1.0, 0.0, 2.0]), torch.tensor([0.5, 0.9, 0.0])
    next_q = torch.tensor([[4.0, -1.0, 7.0], [3.0, 2.0, -5.0]])
    # r + d * min(q1, q2): 1 + 0.5 * 3, 0 + 0.9 * -1, 2 + 0 (terminated)
    assert clipped_q_target(rewards, discounts, next_q).tolist() == pytest.approx([2.5, -0.9, 2.0])


def test_td3s_critic_loss_regresses_every_critic_on_the_smaller_target():
    critic, target = TableCritic([1.0, 2.0]), TableCritic([3.0, 1.0])
    data = batch([[1.0]], [[0.5]], [1.0], [[2.0]], [0.5])
    # next action 0.25: target Q = (3 * 2 + 0.25, 1 * 2 + 0.25) -> min 2.25, y = 1 + 0.5 * 2.25
    y = 1.0 + 0.5 * 2.25
    q = [1.0 * 1 + 0.5, 2.0 * 1 + 0.5]
    loss = deterministic_critic_loss(data, critic, target, constant_actor(0.25))
    assert float(loss.detach()) == pytest.approx((q[0] - y) ** 2 + (q[1] - y) ** 2)
    loss.backward()  # dL/dscale_i = 2 (q_i - y) * s
    assert critic.scales.grad.tolist() == pytest.approx([2 * (q[0] - y), 2 * (q[1] - y)])


def test_target_policy_smoothing_clips_the_noise_and_the_action():
    generator = torch.Generator().manual_seed(0)
    actions = torch.tensor([0.95, -0.2]).repeat_interleave(1000)[:, None]
    out = smoothed(actions, TargetSmoothing(std=10.0, clip=0.5), generator)
    noise = out - actions
    assert out.abs().max() <= 1.0
    assert noise[1000:].abs().max() == pytest.approx(0.5)  # clipped at 0.5 (std 10)
    assert out[:1000].max() == 1.0  # 0.95 + 0.5 kept inside [-1, 1]


def test_the_deterministic_actor_loss_climbs_the_first_critic_only():
    critic = TableCritic([1.0, -50.0])
    obs = torch.tensor([[2.0], [4.0]])
    action = torch.tensor(0.3, requires_grad=True)
    loss = deterministic_actor_loss(obs, lambda o: action.expand(len(o), 1), critic)
    assert float(loss.detach()) == pytest.approx(-((2.0 + 0.3) + (4.0 + 0.3)) / 2)  # Q_1 only
    loss.backward()
    assert float(action.grad) == pytest.approx(-1.0)  # dQ/da = 1, so the action rises
    assert critic.scales.grad is None  # no gradient into the critic


def test_the_squashed_log_probability_matches_a_hand_computation():
    mean, log_std = torch.tensor([[0.3, -1.2]]), torch.tensor([[-0.5, 0.2]])
    u = torch.tensor([[0.7, -0.4]])
    a = torch.tanh(u)
    std = log_std.exp()
    by_hand = 0.0
    for i in range(2):  # log N(u; mean, std) - log(1 - tanh(u)^2), per dimension
        z = (u[0, i] - mean[0, i]) / std[0, i]
        by_hand += -0.5 * z**2 - math.log(std[0, i]) - 0.5 * math.log(2 * math.pi)
        by_hand -= math.log(1 - math.tanh(u[0, i]) ** 2)
    policy = DiagGaussian(mean, log_std, squash=True)
    assert float(policy.log_prob(a)) == pytest.approx(float(by_hand), abs=1e-5)


class FixedPolicy(torch.nn.Module):
    """A squashed Gaussian of one dimension with a learnable mean (tiny std by default)."""

    def __init__(self, mean, log_std=-12.0):
        super().__init__()
        self.mean = torch.nn.Parameter(torch.tensor([mean]))
        self.log_std = log_std

    def forward(self, obs):
        mean = self.mean.expand(obs.shape[0], 1)
        return DiagGaussian(mean, torch.full_like(mean, self.log_std), squash=True)


def test_sacs_critic_target_subtracts_the_entropy_term_from_the_smaller_critic():
    critic, target = TableCritic([1.0, 1.0]), TableCritic([2.0, 0.5])
    mean, log_std = 0.5, -2.0
    policy = FixedPolicy(mean, log_std)
    data = batch([[1.0]], [[0.0]], [0.5], [[2.0]], [0.9])
    generator = torch.Generator().manual_seed(0)
    z = float(torch.randn(1, generator=torch.Generator().manual_seed(0)))  # the same draw
    u, std = mean + math.exp(log_std) * z, math.exp(log_std)
    a = math.tanh(u)
    log_p = -0.5 * z**2 - math.log(std) - 0.5 * math.log(2 * math.pi) - math.log(1 - a**2)
    y = 0.5 + 0.9 * (min(2.0 * 2 + a, 0.5 * 2 + a) - 0.2 * log_p)
    loss = sac_critic_loss(data, critic, target, policy, torch.tensor(0.2), generator)
    assert float(loss.detach()) == pytest.approx(2 * (1.0 - y) ** 2, rel=1e-5)  # Q_i = 1, twice


def test_sacs_actor_loss_is_alpha_log_pi_minus_the_smaller_q():
    critic, policy = TableCritic([1.0, 3.0]), FixedPolicy(0.2)
    obs = torch.tensor([[1.0], [2.0]])
    generator = torch.Generator().manual_seed(0)
    loss, log_probs = sac_actor_loss(obs, policy, critic, torch.tensor(0.1), generator)
    a = math.tanh(0.2)
    q_min = torch.tensor([1.0 + a, 2.0 + a])  # scale 1 is the smaller critic for s > 0
    assert float(loss.detach()) == pytest.approx(float((0.1 * log_probs - q_min).mean()), rel=1e-4)
    assert not log_probs.requires_grad
    loss.backward()
    assert policy.mean.grad is not None and critic.scales.grad is None


def test_the_temperature_loss_raises_alpha_while_the_entropy_is_below_the_target():
    log_alpha = torch.tensor(0.0, requires_grad=True)
    # entropy -log pi = -1 below the target 0: log pi + target = 1 > 0
    sac_temperature_loss(log_alpha, torch.tensor([1.0, 1.0]), target_entropy=0.0).backward()
    assert float(log_alpha.grad) == pytest.approx(-1.0)  # descent raises log alpha
    log_alpha.grad = None
    # entropy 3 above the target -1: log pi + target = -3 - 1 < 0
    sac_temperature_loss(log_alpha, torch.tensor([-3.0]), target_entropy=-1.0).backward()
    assert float(log_alpha.grad) == pytest.approx(4.0)  # descent lowers it


def test_the_critic_ensemble_computes_each_member_as_its_own_mlp():
    generator = torch.Generator().manual_seed(0)
    ensemble = QEnsemble(3, 4, 2, MLPSpec(hidden=(8, 8), activation="tanh"), generator)
    obs, actions = torch.randn(5, 4), torch.randn(5, 2)
    x = torch.cat([obs, actions], 1)
    out = ensemble(obs, actions)
    assert out.shape == (3, 5)
    for i in range(3):
        h = x
        for layer, (w, b) in enumerate(zip(ensemble.weights, ensemble.biases, strict=True)):
            h = h @ w[i] + b[i, 0]
            h = torch.tanh(h) if layer < 2 else h
        assert torch.allclose(out[i], h[:, 0], atol=1e-6)
    first = ensemble.without_weight_grads(obs, actions, members=1)
    assert torch.allclose(first, out[:1]) and not first.requires_grad
