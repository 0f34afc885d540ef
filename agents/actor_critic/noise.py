"""Temporally correlated exploration noise: an Ornstein-Uhlenbeck process, one row per env.

DDPG (Lillicrap et al. 2016) explores with an Ornstein-Uhlenbeck process (theta 0.15,
sigma 0.2) and gives no time step. This is the Euler-Maruyama step that OpenAI Baselines and
Stable-Baselines3 use, with their dt of 1e-2::

    x <- x + theta * (mu - x) * dt + sigma * sqrt(dt) * N(0, 1)

Its stationary variance is ``sigma^2 dt / (1 - (1 - theta dt)^2)``, close to the continuous
process's ``sigma^2 / (2 theta)`` when ``theta * dt`` is small (0.1334 against 0.1333 with the
defaults), and successive draws are correlated over about ``1 / (theta * dt)`` steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


class OrnsteinUhlenbeck:
    """An Ornstein-Uhlenbeck process with a state of shape `shape` ([num_envs, action_dim]).

    Every row starts at rest (0) and steps once per `sample`; `reset(mask)` puts the rows of
    envs whose episode ended back to 0, as Baselines and SB3 do.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        theta: float = 0.15,
        sigma: float = 0.2,
        dt: float = 1e-2,
        mu: float = 0.0,
    ):
        if not (theta > 0 and dt > 0 and sigma >= 0):
            raise ValueError(f"need theta > 0, dt > 0, sigma >= 0; got {theta}, {dt}, {sigma}")
        self.theta, self.sigma, self.dt, self.mu = theta, sigma, dt, mu
        self.state = np.zeros(shape)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """Step every row once; the new state (a copy), shaped like the state."""
        shock = self.sigma * np.sqrt(self.dt) * rng.standard_normal(self.state.shape)
        self.state = self.state + self.theta * (self.mu - self.state) * self.dt + shock
        return self.state.copy()

    def reset(self, mask: np.ndarray | None = None) -> None:
        """Put the rows where `mask` [rows] is true (every row without one) back to 0."""
        if mask is None:
            self.state[:] = 0.0
        else:
            self.state[np.asarray(mask, dtype=bool)] = 0.0

    def stationary_variance(self) -> float:
        """The variance each entry settles to under this discretisation."""
        decay = 1.0 - self.theta * self.dt
        return self.sigma**2 * self.dt / (1.0 - decay**2)

    def state_dict(self) -> dict[str, Any]:
        return {"state": self.state.copy()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        saved = np.asarray(state["state"], dtype=np.float64)
        if saved.shape != self.state.shape:
            raise ValueError(
                f"the saved Ornstein-Uhlenbeck state has shape {saved.shape}, this process "
                f"{self.state.shape} (rows are envs: was num_envs changed?)"
            )
        self.state = saved.copy()
