"""Running statistics that normalise observations and scale rewards, saved with a checkpoint.

`RunningMeanStd` merges batch moments with Chan et al.'s parallel algorithm.
`ObservationNormalizer` maps observations to ``clip((x - mean) / sqrt(var + eps))``;
`RewardScaler` divides rewards by the standard deviation of the discounted return (as
Stable-Baselines3's VecNormalize does), which keeps the reward's sign and its zero. Both expose
`state_dict`/`load_state_dict`: a policy reloaded without its statistics sees unscaled inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

EPSILON = 1e-8


class RunningMeanStd:
    """Mean and variance of every sample seen so far, per element of `shape`."""

    def __init__(self, shape: Sequence[int] = (), initial_count: float = 1e-4):
        self.mean = np.zeros(shape, dtype=np.float64)
        self.var = np.ones(shape, dtype=np.float64)
        self.count = float(initial_count)

    def update(self, batch: np.ndarray) -> None:
        """Fold in a batch [B, *shape]."""
        batch = np.asarray(batch, dtype=np.float64)
        if batch.shape[1:] != self.mean.shape:
            raise ValueError(
                f"a batch must be [B, *{list(self.mean.shape)}], got {list(batch.shape)}"
            )
        n = batch.shape[0]
        if n == 0:
            return
        # ufunc reductions: ndarray.mean/var cost more than the arithmetic on small batches
        batch_mean = np.add.reduce(batch, axis=0) / n
        centered = batch - batch_mean
        batch_var = np.add.reduce(centered * centered, axis=0) / n
        total = self.count + n
        delta = batch_mean - self.mean
        m2 = self.var * self.count + batch_var * n + delta**2 * self.count * n / total
        self.mean = self.mean + delta * n / total
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": self.count}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        mean = np.asarray(state["mean"], dtype=np.float64)
        if mean.shape != self.mean.shape:
            raise ValueError(
                f"saved statistics have shape {list(mean.shape)}, expected {list(self.mean.shape)}"
            )
        self.mean, self.var = mean.copy(), np.asarray(state["var"], dtype=np.float64).copy()
        self.count = float(state["count"])


class ObservationNormalizer:
    """Observations [B, *shape] -> standardised float32, clipped to [-clip, clip]."""

    def __init__(self, shape: Sequence[int], clip: float = 10.0):
        if clip <= 0:
            raise ValueError(f"clip must be positive, got {clip}")
        self.stats = RunningMeanStd(shape)
        self.clip = clip

    def __call__(self, obs: np.ndarray, update: bool = False) -> np.ndarray:
        """Normalised `obs`; with `update` the batch first joins the statistics."""
        if update:
            self.stats.update(obs)
        scaled = (obs - self.stats.mean) / np.sqrt(self.stats.var + EPSILON)
        return _clip(scaled, self.clip).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        return self.stats.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.stats.load_state_dict(state)


class RewardScaler:
    """Rewards [N] of N envs divided by the running std of their discounted returns."""

    def __init__(self, num_envs: int, gamma: float, clip: float = 10.0):
        if clip <= 0:
            raise ValueError(f"clip must be positive, got {clip}")
        self.stats = RunningMeanStd(())
        self.returns = np.zeros(num_envs, dtype=np.float64)
        self.gamma, self.clip = gamma, clip

    def __call__(self, rewards: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Scaled rewards; `ends` [N] marks envs whose episode ended with this reward."""
        self.returns = self.returns * self.gamma + rewards
        self.stats.update(self.returns)
        scaled = _clip(rewards / np.sqrt(self.stats.var + EPSILON), self.clip)
        self.returns[ends] = 0.0
        return scaled

    def state_dict(self) -> dict[str, Any]:
        return {**self.stats.state_dict(), "returns": self.returns.copy()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.stats.load_state_dict(state)
        self.returns = np.asarray(state["returns"], dtype=np.float64).copy()


def _clip(x: np.ndarray, bound: float) -> np.ndarray:
    """`x` clipped into [-bound, bound] in place (np.clip's dispatch dwarfs a small array)."""
    np.minimum(x, bound, out=x)
    return np.maximum(x, -bound, out=x)
