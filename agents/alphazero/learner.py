"""Learning from self-play: a replay window of positions, the AlphaZero loss and the
`Learner` that takes gradient steps on it (the loop around them, self-play games -> replay
window -> gradient steps -> new weights, is :class:`agents.alphazero.system.SelfPlaySystem`).

Loss per position: ``(z - v)^2 - pi . log p`` (value squared error plus policy cross-entropy
against the search's visit distribution); weight decay through the optimizer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from agents.alphazero.config import LearnerConfig
from agents.alphazero.mcts import Game
from agents.alphazero.selfplay import GameRecord
from rlcourse.schedules import schedule_value


class Batch(NamedTuple):
    planes: torch.Tensor  # [B, C, H, W]
    policies: torch.Tensor  # [B, num_actions]
    values: torch.Tensor  # [B] final outcome for the mover


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
    """The last ``capacity`` positions of self-play, as (planes, policy target, value target).

    ``sample`` draws uniformly; with ``augment`` each sampled position is replaced by one of
    its symmetric images (``game.symmetries``: the same transform for planes and policy),
    drawn at random.
    """

    def __init__(self, game: Game, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.game, self.capacity = game, capacity
        planes_shape = tuple(game.planes(game.initial_state()).shape)
        self.plane_maps, self.policy_maps = symmetry_permutations(game, planes_shape)
        self.planes = np.zeros((capacity, *planes_shape), dtype=np.float32)
        self.policies = np.zeros((capacity, game.num_actions), dtype=np.float32)
        self.values = np.zeros(capacity, dtype=np.float32)
        self.size = 0
        self.added = 0  # positions ever added; the next one goes to added % capacity

    def __len__(self) -> int:
        return self.size

    def add_games(self, records: Iterable[GameRecord], q_weight: float = 0.0) -> None:
        """Add every position of ``records``; value targets mix outcome and root value by
        ``q_weight`` (see :meth:`GameRecord.value_targets`)."""
        for record in records:
            values = record.value_targets(q_weight)
            for t in range(len(record.moves)):
                i = self.added % self.capacity
                self.planes[i], self.policies[i], self.values[i] = (
                    record.planes[t], record.policies[t], values[t],
                )  # fmt: skip
                self.added += 1
        self.size = min(self.added, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator, augment: bool = True) -> Batch:
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay window")
        index = rng.integers(self.size, size=batch_size)
        planes, policies = self.planes[index], self.policies[index]
        if augment:
            k = rng.integers(len(self.plane_maps), size=batch_size)
            flat = planes.reshape(batch_size, -1)
            planes = np.take_along_axis(flat, self.plane_maps[k], axis=1).reshape(planes.shape)
            policies = np.take_along_axis(policies, self.policy_maps[k], axis=1)
        return Batch(
            torch.from_numpy(planes),
            torch.from_numpy(policies),
            torch.from_numpy(self.values[index]),
        )

    def state_dict(self) -> dict[str, Any]:
        n = self.size
        return {"planes": self.planes[:n].copy(), "policies": self.policies[:n].copy(),
                "values": self.values[:n].copy(), "added": self.added}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        n = len(state["values"])
        if n > self.capacity:
            raise ValueError(f"saved window holds {n} positions, capacity is {self.capacity}")
        self.planes[:n], self.policies[:n], self.values[:n] = (
            state["planes"], state["policies"], state["values"],
        )  # fmt: skip
        self.size, self.added = n, int(state["added"])


def policy_value_loss(
    logits: torch.Tensor, values: torch.Tensor, policies: torch.Tensor, outcomes: torch.Tensor
) -> tuple[torch.Tensor, dict[str, float]]:
    """Value squared error plus policy cross-entropy of a network output ``(logits [B, A],
    values [B])`` against targets ``(policies [B, A], outcomes [B])``; the loss and its parts."""
    policies, outcomes = policies.to(logits.device), outcomes.to(values.device)
    policy_loss = -(policies * F.log_softmax(logits, dim=-1)).sum(-1).mean()
    value_loss = F.mse_loss(values, outcomes)
    loss = policy_loss + value_loss
    return loss, {"loss": loss.item(), "policy_loss": policy_loss.item(),
                  "value_loss": value_loss.item()}  # fmt: skip


def alphazero_loss(net: torch.nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
    """`policy_value_loss` of ``net`` on a replay batch (moved to the net's device)."""
    device = next(net.parameters(), batch.planes).device  # a parameterless net: the batch
    logits, values = net(batch.planes.to(device))
    return policy_value_loss(logits, values, batch.policies, batch.values)


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
            loss, metrics = alphazero_loss(self.net, batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.steps += 1
            steps += 1
            for key, value in metrics.items():
                sums[key] = sums.get(key, 0.0) + value
        self.net.eval()
        return {key: value / steps for key, value in sums.items()}
