"""Proportional prioritized replay (Schaul et al., 2016) over a `SumTree`.

`PrioritizedReplayBuffer` stores as `ReplayBuffer` does and samples transition i with
probability p_i / sum_j p_j, where p = (|td error| + epsilon)**alpha (new transitions get the
largest p seen so far), one draw from each of `batch_size` equal segments of the total, and
weighs it by w_i = (N * P(i))**-beta / max_j w_j.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from rlcourse.replay.checks import in_range, index_array, positive_int
from rlcourse.replay.sum_tree import SumTree
from rlcourse.replay.uniform import ReplayBatch, ReplayBuffer


class PrioritizedReplayBuffer(ReplayBuffer):
    """`ReplayBuffer` sampled in proportion to priority, with importance weights.

    `beta` may be set at any time (agents anneal it towards 1); `alpha` and `epsilon` are fixed.
    """

    def __init__(
        self,
        capacity: int,
        observation_space: gym.spaces.Box | gym.spaces.Discrete,
        num_envs: int = 1,
        n_step: int = 1,
        gamma: float = 0.99,
        action_mask_size: int | None = None,
        seed: int | None = None,
        alpha: float = 0.6,
        beta: float = 0.4,
        epsilon: float = 1e-6,
        *,
        optimize_memory_usage: bool = True,
        action_space: gym.spaces.Box | gym.spaces.Discrete | None = None,
    ):
        self.alpha = in_range(alpha, "alpha", 0.0, 1.0)
        self.beta = beta
        if (
            isinstance(epsilon, bool)
            or not isinstance(epsilon, numbers.Real)
            or not (0.0 < epsilon < np.inf)
        ):
            raise ValueError(
                f"epsilon must be a positive number (it keeps every priority above 0), "
                f"got {epsilon!r}"
            )
        self.epsilon: float = float(epsilon)
        super().__init__(
            capacity, observation_space, num_envs, n_step, gamma, action_mask_size, seed,
            optimize_memory_usage=optimize_memory_usage, action_space=action_space,
        )  # fmt: skip
        self._tree: SumTree = SumTree(self.capacity)
        self._max_priority: float = 1.0

    @property
    def beta(self) -> float:
        """The importance-weight exponent in [0, 1]."""
        return self._beta

    @beta.setter
    def beta(self, value: float) -> None:
        self._beta = in_range(value, "beta", 0.0, 1.0)

    @property
    def nbytes(self) -> int:
        return super().nbytes + self._tree.nbytes

    def sample(self, batch_size: int) -> ReplayBatch:
        """`batch_size` transitions drawn in proportion to priority (stratified), with
        importance weights normalised so that the largest possible weight is 1."""
        batch_size = self._check_batch_size(batch_size)
        indices = self._tree.sample(self._rng, batch_size)
        # w_i / max_j w_j = (N P(i))**-beta / (N P_min)**-beta = (p_i / p_min)**-beta
        weights = (self._tree[indices] / self._tree.min) ** -self.beta
        return self.gather(indices)._replace(weights=weights.astype(np.float32))

    def sample_batches(self, batch_size: int, count: int) -> ReplayBatch:
        """`count` batches, each drawn like `sample` from the current priorities, stacked. A
        learner that updates priorities between batches must call `sample` per batch."""
        count = positive_int(count, "count")
        batches = [self.sample(batch_size) for _ in range(count)]
        fields = zip(*batches, strict=True)
        return ReplayBatch._make(None if f[0] is None else np.concatenate(f) for f in fields)

    def update_priorities(self, indices: Any, td_errors: Any) -> None:
        """Set p = (|td error| + epsilon)**alpha for the transitions at `indices`.

        Call it before further adds: an index whose transition was evicted in between now holds
        a newer transition, and this sets that one's priority.
        """
        indices = index_array(indices, "indices", self._size)
        td_errors = np.asarray(td_errors, dtype=np.float64)
        if td_errors.shape != indices.shape:
            raise ValueError(
                f"td_errors must have the shape of indices {indices.shape}, got {td_errors.shape}"
            )
        if not np.all(np.isfinite(td_errors)):
            raise ValueError("td_errors must be finite")
        priorities = (np.abs(td_errors) + self.epsilon) ** self.alpha
        self._tree.update(indices, priorities)
        if len(priorities):
            self._max_priority = max(self._max_priority, float(priorities.max()))

    def priorities(self, indices: Any) -> np.ndarray:
        """The current priorities p of the transitions at `indices`."""
        return self._tree[index_array(indices, "indices", self._size)]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.update(priorities=self._tree.state_dict(), max_priority=self._max_priority)
        state.update(beta=self.beta)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._tree.load_state_dict(state["priorities"])
        self._max_priority = float(state["max_priority"])
        self.beta = state["beta"]

    def _settings(self) -> dict[str, Any]:
        return {**super()._settings(), "alpha": self.alpha, "epsilon": self.epsilon}

    def _on_stored(self, positions: Sequence[int] | np.ndarray) -> None:
        self._tree.fill(positions, self._max_priority)
