"""The losses of DDPG, TD3 and SAC as pure functions of a batch and the networks.

DDPG (Lillicrap et al. 2016) regresses Q(s, a) on r + discount * Q'(s', mu'(s')) and moves the
actor up the critic's gradient. TD3 (Fujimoto et al. 2018) keeps n critics and bootstraps from
the smallest (the clipped double-Q target), adds clipped noise to the target action (target
policy smoothing) and delays the actor (the agent's business). SAC (Haarnoja et al. 2018)
bootstraps from the soft value min_i Q_i'(s', a') - alpha log pi(a'|s') with a' drawn from the
current policy, trains the squashed Gaussian actor on alpha log pi(a|s) - min_i Q_i(s, a) by
reparameterisation, and tunes alpha towards a target entropy.

Shapes: B batch, D action dimensions, n critics. Actions are in [-1, 1]. `discounts` fold in
termination and the n-step horizon: gamma**k for the k steps a transition spans, 0 when its
episode terminated. Every loss is minimised and returns a scalar tensor.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import torch

from rlcourse.nn import DiagGaussian
from rlcourse.replay import ReplayBatch


class Critic(Protocol):
    """n Q functions as the losses see them (`agents.actor_critic.networks.QEnsemble`)."""

    def __call__(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """[n, B] Q values."""
        ...

    def without_weight_grads(
        self, obs: torch.Tensor, actions: torch.Tensor, members: int | None = None
    ) -> torch.Tensor:
        """[members, B] Q values of the first `members` critics (all by default), whose
        gradient reaches the actions only."""
        ...


class TargetSmoothing(NamedTuple):
    """TD3's target policy smoothing: N(0, std) noise clipped to [-clip, clip]."""

    std: float
    clip: float


def clipped_q_target(
    rewards: torch.Tensor, discounts: torch.Tensor, next_q: torch.Tensor
) -> torch.Tensor:
    """[B] r + discount * min_i next_q[i] for next_q [n, B] (one critic: the plain target)."""
    return torch.addcmul(rewards, discounts, next_q.min(dim=0).values)


def smoothed(actions: torch.Tensor, smoothing: TargetSmoothing, generator: torch.Generator):
    """Actions [B, D] plus clipped Gaussian noise, kept in [-1, 1]."""
    noise = torch.randn(actions.shape, generator=generator, dtype=actions.dtype)
    noise = (noise * smoothing.std).clamp_(-smoothing.clip, smoothing.clip)
    return (actions + noise).clamp_(-1.0, 1.0)


def critic_regression(critic: Critic, batch: ReplayBatch, targets: torch.Tensor) -> torch.Tensor:
    """Sum over the n critics of the batch-mean squared error between Q_i(s, a) and targets."""
    q = critic(torch.as_tensor(batch.observations), torch.as_tensor(batch.actions))  # [n, B]
    return (q - targets).square().mean(dim=1).sum()


def deterministic_critic_loss(
    batch: ReplayBatch,
    critic: Critic,
    target_critic: Critic,
    target_actor: torch.nn.Module,
    smoothing: TargetSmoothing | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """DDPG's critic loss (one critic, no smoothing) or TD3's (n critics, `smoothing`)."""
    rewards, discounts = torch.as_tensor(batch.rewards), torch.as_tensor(batch.discounts)
    next_obs = torch.as_tensor(batch.next_observations)
    with torch.no_grad():
        next_actions = target_actor(next_obs)
        if smoothing is not None:
            assert generator is not None, "target policy smoothing draws from a generator"
            next_actions = smoothed(next_actions, smoothing, generator)
        targets = clipped_q_target(rewards, discounts, target_critic(next_obs, next_actions))
    return critic_regression(critic, batch, targets)


def deterministic_actor_loss(
    obs: torch.Tensor, actor: torch.nn.Module, critic: Critic
) -> torch.Tensor:
    """-mean Q_1(s, mu(s)): the gradient reaches the actor's weights, not the critic's."""
    return -critic.without_weight_grads(obs, actor(obs), members=1)[0].mean()


def sac_critic_loss(
    batch: ReplayBatch,
    critic: Critic,
    target_critic: Critic,
    actor: torch.nn.Module,
    alpha: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """SAC's critic loss: targets r + discount * (min_i Q_i'(s', a') - alpha log pi(a'|s'))."""
    rewards, discounts = torch.as_tensor(batch.rewards), torch.as_tensor(batch.discounts)
    next_obs = torch.as_tensor(batch.next_observations)
    with torch.no_grad():
        policy: DiagGaussian = actor(next_obs)
        next_actions, next_log_probs = policy.rsample_with_log_prob(generator)
        next_q = target_critic(next_obs, next_actions) - alpha * next_log_probs
        targets = clipped_q_target(rewards, discounts, next_q)
    return critic_regression(critic, batch, targets)


def sac_actor_loss(
    obs: torch.Tensor,
    actor: torch.nn.Module,
    critic: Critic,
    alpha: torch.Tensor,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean of alpha log pi(a|s) - min_i Q_i(s, a) with a = tanh(u) reparameterised,
    log pi(a|s) [B] detached for the temperature loss)."""
    policy: DiagGaussian = actor(obs)
    actions, log_probs = policy.rsample_with_log_prob(generator)
    q = critic.without_weight_grads(obs, actions).min(dim=0).values
    return (alpha * log_probs - q).mean(), log_probs.detach()


def sac_temperature_loss(
    log_alpha: torch.Tensor, log_probs: torch.Tensor, target_entropy: float
) -> torch.Tensor:
    """-log alpha * mean(log pi + target entropy): descending it raises alpha while the policy's
    entropy (-log pi) is below the target, and lowers it while above."""
    return -log_alpha * (log_probs + target_entropy).mean()
