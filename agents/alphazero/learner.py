"""Learning from self-play: a replay window of positions, the AlphaZero loss and the
`Learner` that takes gradient steps on it (the loop around them, self-play games -> replay
window -> gradient steps -> new weights, is :class:`agents.alphazero.system.SelfPlaySystem`).

Loss per position: ``(z - v)^2 - pi . log p`` (value squared error plus policy cross-entropy
against the search's visit distribution); weight decay through the optimizer. The policy term
is averaged over the positions whose policy target counts (``policy_weights``: 0 for the fast
searches of playout cap randomisation). With KataGo's auxiliary heads (Wu 2019), over the
positions of games that ended on the board: ``ownership_weight`` times the mean over points of
the binary cross-entropy between the target's and the prediction's chance that the mover owns
the point (``(1 + o) / 2``), and ``score_weight`` times the Huber loss (delta 1, so squared
within one board area of the target) of the predicted margin / board area.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from agents.alphazero.config import LearnerConfig
from agents.alphazero.mcts import Game
from agents.alphazero.network import PolicyValueNet, Prediction
from agents.alphazero.selfplay import GameRecord
from rlcourse.schedules import schedule_value


class Batch(NamedTuple):
    planes: torch.Tensor  # [B, C, H, W]
    policies: torch.Tensor  # [B, num_actions]
    values: torch.Tensor  # [B] final outcome for the mover
    policy_weights: torch.Tensor | None = None  # [B] 1: the policy target counts (None: all)
    ownership: torch.Tensor | None = None  # [B, H * W] final ownership seen by the mover
    scores: torch.Tensor | None = None  # [B] final margin for the mover / board area
    aux_weights: torch.Tensor | None = None  # [B] 1 where ownership and score are known


def symmetry_permutations(
    game: Game, planes_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The game's symmetries as index maps: ``planes.ravel()[plane_maps[k]]`` and
    ``policy[policy_maps[k]]`` are image ``k`` of ``game.symmetries(planes, policy)``.

    Found by transforming arrays that hold their own indices, so a batch is augmented with one
    gather instead of a call per position.
    """
    size = int(np.prod(planes_shape))
    if max(size, game.num_actions) >= 2**24:  # float32 holds integers exactly up to 2**24
        raise ValueError(f"planes of {size} entries are too large for index maps")
    plane_ids = np.arange(size, dtype=np.float32).reshape(planes_shape)
    policy_ids = np.arange(game.num_actions, dtype=np.float32)
    images = game.symmetries(plane_ids, policy_ids)
    plane_maps = np.stack([p.reshape(-1) for p, _ in images]).astype(np.int64)
    policy_maps = np.stack([q for _, q in images]).astype(np.int64)
    for maps, n in ((plane_maps, size), (policy_maps, game.num_actions)):
        if not (np.sort(maps, axis=1) == np.arange(n)).all():
            raise ValueError("the game's symmetries must permute plane and policy entries")
    return plane_maps, policy_maps


class ReplayWindow:
    """The last ``capacity`` positions of self-play, as (planes, policy target, value target,
    policy weight, ownership and score targets, auxiliary weight).

    ``sample`` draws uniformly; with ``augment`` each sampled position is replaced by one of
    its symmetric images (``game.symmetries``: the same transform for planes, policy and
    ownership), drawn at random.
    """

    def __init__(self, game: Game, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.game, self.capacity = game, capacity
        planes_shape = tuple(game.planes(game.initial_state()).shape)
        self.plane_maps, self.policy_maps = symmetry_permutations(game, planes_shape)
        points = planes_shape[-2] * planes_shape[-1]
        # the first plane's map moves a board-shaped array: symmetries keep planes apart
        self.point_maps = self.plane_maps[:, :points]
        self.planes = np.zeros((capacity, *planes_shape), dtype=np.float32)
        self.policies = np.zeros((capacity, game.num_actions), dtype=np.float32)
        self.values = np.zeros(capacity, dtype=np.float32)
        self.policy_weights = np.ones(capacity, dtype=np.float32)
        self.ownership = np.zeros((capacity, points), dtype=np.float32)
        self.scores = np.zeros(capacity, dtype=np.float32)
        self.aux_weights = np.zeros(capacity, dtype=np.float32)
        self.size = 0
        self.added = 0  # positions ever added; the next one goes to added % capacity

    def __len__(self) -> int:
        return self.size

    def add_games(self, records: Iterable[GameRecord], q_weight: float = 0.0) -> None:
        """Add every position of ``records``; value targets mix outcome and root value by
        ``q_weight`` (see :meth:`GameRecord.value_targets`); ownership and score targets come
        from games that recorded them (auxiliary weight 1), zeros from the others (weight 0)."""
        for record in records:
            t_max = len(record.moves)
            values = record.value_targets(q_weight)
            weights = np.ones(t_max) if record.policy_weights is None else record.policy_weights
            if record.ownership is not None and record.score is not None:
                points = self.ownership.shape[1]
                if record.ownership.size != points:
                    raise ValueError(
                        f"a record's ownership has {record.ownership.size} points, the "
                        f"board {points}"
                    )
                ownership, scores, known = record.ownership_targets(), record.score_targets(), 1.0
            else:  # resigned, or not scored by area: no auxiliary target
                ownership, scores, known = np.zeros((t_max, 1)), np.zeros(t_max), 0.0
            for t in range(t_max):
                i = self.added % self.capacity
                self.planes[i], self.policies[i], self.values[i] = (
                    record.planes[t], record.policies[t], values[t],
                )  # fmt: skip
                self.policy_weights[i] = weights[t]
                self.ownership[i], self.scores[i], self.aux_weights[i] = (
                    ownership[t], scores[t], known,
                )  # fmt: skip
                self.added += 1
        self.size = min(self.added, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator, augment: bool = True) -> Batch:
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay window")
        index = rng.integers(self.size, size=batch_size)
        planes, policies, ownership = (
            self.planes[index],
            self.policies[index],
            self.ownership[index],
        )
        if augment:
            k = rng.integers(len(self.plane_maps), size=batch_size)
            flat = planes.reshape(batch_size, -1)
            planes = np.take_along_axis(flat, self.plane_maps[k], axis=1).reshape(planes.shape)
            policies = np.take_along_axis(policies, self.policy_maps[k], axis=1)
            ownership = np.take_along_axis(ownership, self.point_maps[k], axis=1)
        return Batch(
            *map(torch.from_numpy, (planes, policies, self.values[index])),
            *map(torch.from_numpy, (self.policy_weights[index], ownership)),
            *map(torch.from_numpy, (self.scores[index], self.aux_weights[index])),
        )

    _SAVED = ("planes", "policies", "values", "policy_weights", "ownership", "scores",
              "aux_weights")  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        n = self.size
        return {key: getattr(self, key)[:n].copy() for key in self._SAVED} | {"added": self.added}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """A window saved by :meth:`state_dict`; one saved before the policy and auxiliary
        weights existed loads with every policy target counted and no auxiliary target."""
        n = len(state["values"])
        if n > self.capacity:
            raise ValueError(f"saved window holds {n} positions, capacity is {self.capacity}")
        self.policy_weights[:n], self.aux_weights[:n] = 1.0, 0.0
        for key in self._SAVED:
            if key in state:
                getattr(self, key)[:n] = state[key]
        self.size, self.added = n, int(state["added"])


def weighted_mean(x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``x`` [B] over positions weighted by ``weights`` [B] (all 1 when None); 0 when
    every weight is 0."""
    if weights is None:
        return x.mean()
    weights = weights.to(x.device)
    return (weights * x).sum() / weights.sum().clamp_min(1e-8)


def policy_value_loss(
    logits: torch.Tensor,
    values: torch.Tensor,
    policies: torch.Tensor,
    outcomes: torch.Tensor,
    policy_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Value squared error plus policy cross-entropy of a network output ``(logits [B, A],
    values [B])`` against targets ``(policies [B, A], outcomes [B])``, the cross-entropy
    averaged over the positions ``policy_weights`` [B] counts (all by default); the loss and
    its parts."""
    policies, outcomes = policies.to(logits.device), outcomes.to(values.device)
    cross_entropy = -(policies * F.log_softmax(logits, dim=-1)).sum(-1)
    policy_loss = weighted_mean(cross_entropy, policy_weights)
    value_loss = F.mse_loss(values, outcomes)
    loss = policy_loss + value_loss
    return loss, {"loss": loss.item(), "policy_loss": policy_loss.item(),
                  "value_loss": value_loss.item()}  # fmt: skip


def auxiliary_loss(
    prediction: Prediction, batch: Batch, config: LearnerConfig
) -> tuple[torch.Tensor, dict[str, float]]:
    """KataGo's ownership and score terms for the heads ``prediction`` has, averaged over the
    positions with known targets (``batch.aux_weights``), each times its config weight."""
    loss, metrics = prediction.values.new_zeros(()), {}
    weights = batch.aux_weights
    if prediction.ownership_logits is not None and batch.ownership is not None:
        x, target = prediction.ownership_logits, batch.ownership.to(prediction.values.device)
        # tanh(x) = 2 sigmoid(2x) - 1: sigmoid(2x) is the predicted chance the mover owns a point
        per_point = F.binary_cross_entropy_with_logits(2.0 * x, (1.0 + target) / 2.0,
                                                       reduction="none")  # fmt: skip
        ownership_loss = weighted_mean(per_point.mean(-1), weights)
        loss = loss + config.ownership_weight * ownership_loss
        metrics["ownership_loss"] = ownership_loss.item()
    if prediction.score is not None and batch.scores is not None:
        target = batch.scores.to(prediction.score.device)
        per_position = F.huber_loss(prediction.score, target, reduction="none", delta=1.0)
        score_loss = weighted_mean(per_position, weights)
        loss = loss + config.score_weight * score_loss
        metrics["score_loss"] = score_loss.item()
    return loss, metrics


def alphazero_loss(
    net: torch.nn.Module, batch: Batch, config: LearnerConfig | None = None
) -> tuple[torch.Tensor, dict[str, float]]:
    """`policy_value_loss` of ``net`` on a replay batch (moved to the net's device), plus the
    `auxiliary_loss` of a :class:`PolicyValueNet`'s auxiliary heads (weights from ``config``,
    by default :class:`LearnerConfig`'s)."""
    device = next(net.parameters(), batch.planes).device  # a parameterless net: the batch
    planes = batch.planes.to(device)
    if isinstance(net, PolicyValueNet):
        prediction = net.predict(planes)
    else:
        logits, values = net(planes)
        prediction = Prediction(logits, values, None, None)
    loss, metrics = policy_value_loss(prediction.logits, prediction.values, batch.policies,
                                      batch.values, batch.policy_weights)  # fmt: skip
    if prediction.ownership_logits is not None or prediction.score is not None:
        extra, extra_metrics = auxiliary_loss(prediction, batch, config or LearnerConfig())
        loss = loss + extra
        metrics |= extra_metrics | {"loss": loss.item()}
    return loss, metrics


class Learner:
    """Gradient steps on a policy-value network from a replay window (AdamW, the learning
    rate following ``config.lr`` over the steps taken)."""

    def __init__(self, net: torch.nn.Module, config: LearnerConfig) -> None:
        self.net, self.config = net, config
        self.optimizer = torch.optim.AdamW(
            net.parameters(), lr=schedule_value(config.lr, 0), weight_decay=config.weight_decay
        )
        self.steps = 0

    def train(self, replay: ReplayWindow, steps: int, rng: np.random.Generator) -> dict[str, float]:
        """``steps`` gradient steps; the mean of each loss term over them."""
        cfg = self.config
        return self.train_on(replay.sample(cfg.batch_size, rng, cfg.augment) for _ in range(steps))

    def train_on(self, batches: Iterable[Batch]) -> dict[str, float]:
        """One gradient step per batch; the mean of each loss term over them."""
        cfg, sums, steps = self.config, dict[str, float](), 0
        self.net.train()
        for batch in batches:
            for group in self.optimizer.param_groups:
                group["lr"] = schedule_value(cfg.lr, self.steps)
            loss, metrics = alphazero_loss(self.net, batch, cfg)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.steps += 1
            steps += 1
            for key, value in metrics.items():
                sums[key] = sums.get(key, 0.0) + value
        self.net.eval()
        return {key: value / steps for key, value in sums.items()}
