"""A sum tree over non-negative priorities, for proportional prioritized replay.

The tree is a binary heap in one array (the root at 1, the children of node i at 2i and 2i+1,
the leaves from the first power of two >= capacity on; padding leaves hold 0). Every parent is
recomputed as the sum of its two children, never patched by a difference, so a parent always
equals its children's float sum. A second array keeps the minimum over the leaves that were set
(padding and never-set leaves count as +inf): prioritized replay normalises its importance
weights by the weight of the least likely transition.

Updates and searches take a whole batch and cost O(log capacity) NumPy operations (an update
of a few leaves runs as a plain Python loop instead, which is faster at that size). A search
starts with one `searchsorted` over the deepest level with at most `JUMP_LEVEL_NODES` nodes and
descends the rest of the way two children at a time.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from rlcourse.replay.checks import index_array, positive_int

JUMP_LEVEL_NODES = 1024
SCALAR_UPDATE_MAX = 8  # updates of up to this many leaves run as a plain Python loop


class SumTree:
    """Non-negative values at indices 0..capacity-1 with their total, minimum and prefix search."""

    def __init__(self, capacity: int):
        self.capacity = positive_int(capacity, "capacity")
        self._first_leaf = 1 << (self.capacity - 1).bit_length()
        self._depth = self._first_leaf.bit_length() - 1
        self._jump_level = min(self._depth, JUMP_LEVEL_NODES.bit_length() - 1)
        self._sums = np.zeros(2 * self._first_leaf)
        self._mins = np.full(2 * self._first_leaf, np.inf)

    @property
    def total(self) -> float:
        """The sum of all values."""
        return float(self._sums[1])

    @property
    def min(self) -> float:
        """The smallest value among the indices ever set (+inf before any is set)."""
        return float(self._mins[1])

    def __getitem__(self, indices: Any) -> np.ndarray:
        """The values at `indices` (a 1-D integer array)."""
        return self._sums[index_array(indices, "indices", self.capacity) + self._first_leaf]

    def update(self, indices: Any, values: Any) -> None:
        """Set `values` at `indices`; where an index repeats, its last value counts (a value
        of -0.0 is kept as 0.0)."""
        indices = index_array(indices, "indices", self.capacity)
        values = np.asarray(values, dtype=np.float64)
        if values.shape != indices.shape:
            raise ValueError(
                f"values must match indices in shape, got {values.shape} and {indices.shape}"
            )
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError("values must be finite and >= 0")
        values = values + 0.0  # -0.0 becomes 0.0: no two zeros for the minima to tell apart
        if len(indices) > 1:  # keep each index's last value, the same way every time
            _, last_from_end = np.unique(indices[::-1], return_index=True)
            keep = len(indices) - 1 - last_from_end
            indices, values = indices[keep], values[keep]
        leaves = indices + self._first_leaf
        if len(leaves) <= SCALAR_UPDATE_MAX:
            self._update_one_by_one(leaves.tolist(), values.tolist())
            return
        self._sums[leaves] = values
        self._mins[leaves] = values
        ancestors = leaves >> np.arange(1, self._depth + 1)[:, None]  # [depth, k], leaf upwards
        for nodes, left, right in zip(ancestors, ancestors << 1, (ancestors << 1) | 1, strict=True):
            self._sums[nodes] = self._sums[left] + self._sums[right]
            self._mins[nodes] = np.minimum(self._mins[left], self._mins[right])

    def fill(self, indices: Sequence[int] | np.ndarray, value: float) -> None:
        """`update(indices, [value] * len(indices))` for distinct `indices`, without building
        arrays for a few of them."""
        if len(indices) > SCALAR_UPDATE_MAX:
            self.update(indices, np.full(len(indices), value))
            return
        if not 0.0 <= value < math.inf:
            raise ValueError(f"values must be finite and >= 0, got {value!r}")
        value = float(value) + 0.0  # as in `update`
        leaves = []
        for index in indices:  # checked as `index_array` does, without building arrays
            if isinstance(index, bool) or not isinstance(index, numbers.Integral):
                raise ValueError(f"indices must hold integers, got {index!r}")
            if not 0 <= int(index) < self.capacity:
                raise ValueError(f"indices must lie in [0, {self.capacity}), got {index}")
            leaves.append(int(index) + self._first_leaf)
        self._update_one_by_one(leaves, [value] * len(leaves))

    def _update_one_by_one(self, leaves: list[int], values: list[float]) -> None:
        """`update` in plain Python: faster than NumPy for a few leaves (the same sums).

        Walking up from a leaf, each parent is its two children's sum (in either order: float
        addition commutes) and their minimum (no zero is negative, so equal minima are the same
        number). Once a minimum comes out as the one already stored, those above it stand.
        """
        # memoryviews read and write Python floats, much faster than NumPy scalars
        sums: Any = self._sums.data
        mins: Any = self._mins.data
        for node, value in zip(leaves, values, strict=True):
            sums[node] = mins[node] = total = low = value
            while node > 1:
                sibling = node ^ 1
                total += sums[sibling]
                other = mins[sibling]
                if other < low:
                    low = other
                node >>= 1
                sums[node] = total
                if mins[node] == low:
                    break
                mins[node] = low
            while node > 1:
                total += sums[node ^ 1]
                node >>= 1
                sums[node] = total

    def find(self, prefix_sums: Any) -> np.ndarray:
        """For each s, the index i with sum(values[:i]) <= s < sum(values[:i+1]).

        Values of s at or above the total select the last index with a positive value, so the
        result never points at a zero value, whatever the rounding.
        """
        values = np.array(prefix_sums, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"prefix_sums must be 1-D, got shape {values.shape}")
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError("prefix_sums must be finite and >= 0")
        if self.total <= 0.0:
            raise ValueError("cannot search a sum tree whose values are all 0")
        first = 1 << self._jump_level
        cumulative = np.cumsum(self._sums[first : 2 * first])
        values = np.minimum(values, np.nextafter(cumulative[-1], 0.0))
        node = np.searchsorted(cumulative, values, side="right")
        values -= np.where(node > 0, cumulative[node - 1], 0.0)
        node += first
        for _ in range(self._depth - self._jump_level):
            node <<= 1
            left = self._sums[node]
            # rounding can leave a value just past its subtree's sum: never step into zero mass
            go_right = (values >= left) & (self._sums[node + 1] > 0.0)
            values -= left * go_right
            node += go_right
        return node - self._first_leaf

    def sample(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """`batch_size` indices drawn in proportion to value, one from each of `batch_size`
        equal segments of the total (stratified sampling)."""
        batch_size = positive_int(batch_size, "batch_size")
        segment = self.total / batch_size
        return self.find((np.arange(batch_size) + rng.random(batch_size)) * segment)

    def state_dict(self) -> dict[str, Any]:
        leaves = slice(self._first_leaf, self._first_leaf + self.capacity)
        return {
            "capacity": self.capacity,
            "values": self._sums[leaves].copy(),
            "is_set": np.isfinite(self._mins[leaves]),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["capacity"] != self.capacity:
            raise ValueError(
                f"state holds a sum tree of capacity {state['capacity']}, this one has "
                f"{self.capacity}"
            )
        leaves = slice(self._first_leaf, self._first_leaf + self.capacity)
        self._sums[:] = 0.0
        self._mins[:] = np.inf
        values = np.asarray(state["values"], dtype=np.float64) + 0.0  # as in `update`
        self._sums[leaves] = values
        self._mins[leaves] = np.where(state["is_set"], values, np.inf)
        for level in range(self._depth - 1, -1, -1):
            nodes = slice(1 << level, 2 << level)
            children = slice(2 << level, 4 << level)
            self._sums[nodes] = self._sums[children].reshape(-1, 2).sum(axis=1)
            self._mins[nodes] = self._mins[children].reshape(-1, 2).min(axis=1)

    @property
    def nbytes(self) -> int:
        return self._sums.nbytes + self._mins.nbytes
