"""The DQN family's learning targets as pure functions of tensors (testable by hand).

Shapes: B batch, A actions, Z atoms. `discounts` already folds in termination and the n-step
horizon: gamma**k for the k steps a transition spans, 0 when its episode terminated.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

NEG_INF = torch.finfo(torch.float32).min


def masked(q: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Q [B, A] with illegal actions pushed to the lowest float so no max or argmax picks them."""
    return q if mask is None else q.masked_fill(~mask, NEG_INF)


def bootstrap_actions(
    next_q_target: torch.Tensor,
    next_q_online: torch.Tensor | None,
    next_mask: torch.Tensor | None,
) -> torch.Tensor:
    """[B] next actions: argmax of the online net (double DQN) or of the target net."""
    chooser = next_q_online if next_q_online is not None else next_q_target
    return masked(chooser, next_mask).argmax(dim=1)


def q_targets(
    rewards: torch.Tensor,
    discounts: torch.Tensor,
    next_q_target: torch.Tensor,
    next_q_online: torch.Tensor | None = None,
    next_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """[B] r + discount * Q_target(s', a*), a* chosen as `bootstrap_actions` says.

    With `next_q_online` this is double DQN (van Hasselt et al. 2016): the online net picks
    the action, the target net values it.
    """
    best = bootstrap_actions(next_q_target, next_q_online, next_mask)
    value = next_q_target.gather(1, best[:, None]).squeeze(1)
    if next_mask is not None:  # a terminal row may have no legal action: keep its value out
        value = torch.where(discounts > 0, value, 0.0)
    return torch.addcmul(rewards, discounts, value)


def categorical_projection(
    rewards: torch.Tensor,
    discounts: torch.Tensor,
    next_probs: torch.Tensor,
    support: torch.Tensor,
) -> torch.Tensor:
    """C51's projection of the shifted distribution r + discount * z onto `support` [Z].

    `next_probs` [B, Z] is the target distribution at the bootstrap action. Returns [B, Z]
    probabilities (Bellemare et al. 2017, Algorithm 1).
    """
    v_min, v_max = support[0], support[-1]
    n_atoms = support.shape[0]
    delta = (v_max - v_min) / (n_atoms - 1)
    tz = (rewards[:, None] + discounts[:, None] * support[None, :]).clamp(v_min, v_max)
    b = (tz - v_min) / delta
    lower, upper = b.floor().long(), b.ceil().long()
    # When b lands exactly on an atom, lower == upper: give it all the mass.
    lower_weight = torch.where(upper == lower, torch.ones_like(b), upper.to(b.dtype) - b)
    upper_weight = b - lower.to(b.dtype)
    projected = torch.zeros_like(next_probs)
    projected.scatter_add_(1, lower, next_probs * lower_weight)
    projected.scatter_add_(1, upper, next_probs * upper_weight)
    return projected


def value_loss(predicted: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """[B] element-wise Huber (smooth L1, delta 1) or squared error."""
    if kind == "huber":
        return F.smooth_l1_loss(predicted, target, reduction="none")
    return F.mse_loss(predicted, target, reduction="none")


def value_loss_grad(error: torch.Tensor, kind: str) -> torch.Tensor:
    """[B] d value_loss / d predicted for the TD errors predicted - target: the error clipped
    to [-1, 1] (Huber), or twice it."""
    return error.clamp(-1.0, 1.0) if kind == "huber" else error * 2.0
