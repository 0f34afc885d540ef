"""The policy-gradient losses as pure functions of tensors (testable with a hand-made batch).

Every loss is minimised; each returns ``(loss, metrics)`` with the metrics as floats.
Shapes: [B] per-sample log-probabilities, advantages, values and returns.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

Metrics = dict[str, float]


def normalized(advantages: torch.Tensor) -> torch.Tensor:
    """Advantages with zero mean and unit standard deviation (unchanged for one sample)."""
    if advantages.numel() < 2:
        return advantages
    return (advantages - advantages.mean()) / (advantages.std() + 1e-8)


def clipped_surrogate(
    log_probs: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    clip_range: float,
) -> tuple[torch.Tensor, Metrics]:
    """PPO's policy loss ``-mean(min(r A, clip(r, 1 - eps, 1 + eps) A))``, ``r = pi/pi_old``.

    Metrics: the fraction of samples whose ratio was clipped, and the approximate KL
    ``mean((r - 1) - log r)`` (Schulman's low-variance estimator).
    """
    log_ratio = log_probs - old_log_probs
    ratio = log_ratio.exp()
    unclipped = ratio * advantages
    clipped = ratio.clamp(1.0 - clip_range, 1.0 + clip_range) * advantages
    loss = -torch.min(unclipped, clipped).mean()
    with torch.no_grad():
        clip_fraction = ((ratio - 1.0).abs() > clip_range).float().mean()
        approx_kl = ((ratio - 1.0) - log_ratio).mean()
    return loss, {"clip_fraction": float(clip_fraction), "approx_kl": float(approx_kl)}


def policy_gradient(log_probs: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """The vanilla score-function loss ``-mean(log pi(a|s) A)``."""
    return -(log_probs * advantages).mean()


def value_loss(
    values: torch.Tensor,
    returns: torch.Tensor,
    old_values: torch.Tensor | None = None,
    clip_range: float | None = None,
) -> torch.Tensor:
    """Mean squared error to the returns; with `clip_range` the new values are first kept
    within ``old_values +- clip_range`` (PPO's value clipping, as Stable-Baselines3 does it)."""
    if clip_range is not None:
        if old_values is None:
            raise ValueError("value clipping needs the old values")
        values = old_values + (values - old_values).clamp(-clip_range, clip_range)
    return F.mse_loss(values, returns)


def ppo_loss(
    log_probs: torch.Tensor,
    entropy: torch.Tensor,
    values: torch.Tensor,
    old_log_probs: torch.Tensor,
    old_values: torch.Tensor,
    advantages: torch.Tensor,
    returns: torch.Tensor,
    *,
    clip_range: float,
    clip_range_vf: float | None,
    vf_coef: float,
    ent_coef: float,
) -> tuple[torch.Tensor, Metrics]:
    """Clipped surrogate + vf_coef * value loss - ent_coef * mean entropy."""
    policy, metrics = clipped_surrogate(log_probs, old_log_probs, advantages, clip_range)
    critic = value_loss(values, returns, old_values, clip_range_vf)
    mean_entropy = entropy.mean()
    loss = policy + vf_coef * critic
    if ent_coef:  # skipped at 0: a zero-weighted term still costs its backward pass
        loss = loss - ent_coef * mean_entropy
    return loss, {
        **metrics,
        "policy_loss": float(policy.detach()),
        "value_loss": float(critic.detach()),
        "entropy": float(mean_entropy.detach()),
    }


def actor_critic_loss(
    log_probs: torch.Tensor,
    entropy: torch.Tensor,
    values: torch.Tensor | None,
    advantages: torch.Tensor,
    returns: torch.Tensor,
    *,
    vf_coef: float,
    ent_coef: float,
) -> tuple[torch.Tensor, Metrics]:
    """A2C's (and REINFORCE's) loss: policy gradient + vf_coef * value loss - ent_coef * H.

    With `values` None (REINFORCE without a baseline) there is no value term.
    """
    policy = policy_gradient(log_probs, advantages)
    mean_entropy = entropy.mean()
    loss = policy - ent_coef * mean_entropy if ent_coef else policy
    metrics = {"policy_loss": float(policy.detach()), "entropy": float(mean_entropy.detach())}
    if values is not None:
        critic = value_loss(values, returns)
        loss = loss + vf_coef * critic
        metrics["value_loss"] = float(critic.detach())
    return loss, metrics


def explained_variance(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """``1 - Var[target - predicted] / Var[target]`` (nan when the target is constant)."""
    var = target.var()
    if var == 0:
        return float("nan")
    return float(1.0 - (target - predicted).var() / var)
