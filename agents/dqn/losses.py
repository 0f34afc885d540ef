"""DQN's losses as pure functions of a batch and the networks (testable by hand).

`td_loss` is the temporal-difference loss of DQN (Mnih et al. 2015) with the switches that
change it: double DQN (van Hasselt et al. 2016) lets the online network choose the bootstrap
action and the target network value it; C51 (Bellemare et al. 2017) learns a distribution over
`support` atoms by the cross-entropy to the projected target distribution. n-step returns
arrive folded into the batch, dueling and noisy layers live inside the networks, and illegal
next actions never enter the bootstrap. `large_margin_loss` is DQfD's supervised term (Hester
et al. 2018), used by the teacher start.

Shapes: B batch, A actions, Z atoms. `discounts` already fold in termination and the n-step
horizon: gamma**k for the k steps a transition spans, 0 when its episode terminated.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import torch
from torch.nn import functional as F

from agents.dqn.config import DQNConfig
from rlcourse.replay import ReplayBatch

NEG_INF = torch.finfo(torch.float32).min


class QFunction(Protocol):
    """A Q network as the losses see it (`agents.dqn.network.QNetwork` is one)."""

    @property
    def support(self) -> torch.Tensor:
        """[Z] atom values (C51 only)."""
        ...

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        """[B, A] Q values, or [B, A, Z] log-probabilities with C51."""
        ...

    def expected(self, out: torch.Tensor) -> torch.Tensor:
        """The Q values [B, A] of an output of this network."""
        ...


class TDMetrics(NamedTuple):
    td_errors: torch.Tensor  # [B] |Q(s, a) - target|, or the C51 cross-entropy: priorities


def td_loss(
    batch: ReplayBatch,
    online: QFunction,
    target: QFunction,
    config: DQNConfig,
    next_target: torch.Tensor | None = None,
) -> tuple[torch.Tensor, TDMetrics]:
    """(loss, TDMetrics) of `batch` (fields as arrays or tensors): the loss is the batch mean
    of the per-sample losses times the importance weights, with a gradient for `online` only.

    The per-sample loss is ``config.loss`` (Huber or squared error) between Q(s, a) and
    r + discount * Q_target(s', a*), or with C51 the cross-entropy between the projected
    target distribution and p(. | s, a). `next_target`: ``target(next_observations)`` when
    the caller has it already.
    """
    obs, actions = torch.as_tensor(batch.observations), torch.as_tensor(batch.actions)
    rewards, discounts = torch.as_tensor(batch.rewards), torch.as_tensor(batch.discounts)
    masks, weights = batch.next_action_masks, torch.as_tensor(batch.weights)
    next_mask = None if masks is None else torch.as_tensor(masks)
    next_obs = torch.as_tensor(batch.next_observations)
    with torch.no_grad():
        next_out = target(next_obs) if next_target is None else next_target
        next_q_online = online.expected(online(next_obs)) if config.double else None
        if config.distributional:
            best = bootstrap_actions(target.expected(next_out), next_q_online, next_mask)
            next_probs = next_out[torch.arange(len(best)), best].exp()  # [B, Z]
            y = categorical_projection(rewards, discounts, next_probs, target.support)
        else:
            y = q_targets(rewards, discounts, next_out, next_q_online, next_mask)  # [B]
    out = online(obs)
    if config.distributional:
        log_probs = out[torch.arange(len(actions)), actions]  # [B, Z]
        per_sample = -(y * log_probs).sum(-1)
        td_errors = per_sample.detach()
    else:
        q = out.gather(1, actions[:, None]).squeeze(1)  # [B]
        per_sample = value_loss(q, y, config.loss)
        td_errors = (q - y).detach().abs()
    return (weights * per_sample).mean(), TDMetrics(td_errors)


def large_margin_loss(
    q: torch.Tensor, actions: torch.Tensor, masks: torch.Tensor | None, margin: float
) -> torch.Tensor:
    """DQfD's supervised loss: the batch mean of max_a [Q(s, a) + margin * (a != a_E)] - Q(s, a_E)
    over the legal actions a, for Q values [B, A] and the teacher's actions a_E [B]."""
    bonus = torch.full_like(q, margin).scatter_(1, actions[:, None], 0.0)
    best = masked(q + bonus, masks).max(dim=1).values
    return (best - q.gather(1, actions[:, None]).squeeze(1)).mean()


# ----------------------------------------------------------------------------- the pieces


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
    """[B] r + discount * Q_target(s', a*), a* chosen as `bootstrap_actions` says (double DQN
    with `next_q_online`)."""
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
