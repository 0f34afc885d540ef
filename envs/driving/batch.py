"""`DrivingBatch`: many independent driving scenes stepped together, for vectorised training.

Like Gymnasium's vector envs in ``SAME_STEP`` autoreset mode: when a scene's episode ends,
``step`` already returns the first observation of its next episode, and ``infos`` carries
the true last observation in ``final_obs`` (rows of finished scenes only) and the finished
episode's metrics in ``final_metrics``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.driving.scenarios import DrivingConfig
from envs.driving.simulation import DrivingSim


class DrivingBatch:
    """``num_envs`` scenes of one :class:`DrivingConfig`, all randomness from one seeded
    generator (same seed, same batch of episodes)."""

    def __init__(self, config: DrivingConfig, num_envs: int, seed: int | None = None) -> None:
        self.config = config
        self.num_envs = num_envs
        self.sim = DrivingSim(config, scenes=num_envs)
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start every scene again (re-seeding the generator when ``seed`` is given)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.sim.reset(self.rng)
        return self.sim.observation(), self.sim.info()

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every scene; returns ``obs, rewards, terminated, truncated, infos`` (arrays
        with a leading ``num_envs`` axis), finished scenes already restarted."""
        result = self.sim.step(actions)
        done = result.terminated | result.truncated
        obs = result.observation
        infos: dict[str, Any] = {"rewards": result.rewards}
        mask = result.action_mask  # of the stepped states: restarted scenes need theirs
        if done.any():
            rows = np.flatnonzero(done)
            infos["final_obs"] = {int(i): obs[i].copy() for i in rows}
            metrics = self.sim.metrics()
            infos["final_metrics"] = {name: value[rows] for name, value in metrics.items()}
            infos["final_rows"] = rows
            self.sim.reset(self.rng, rows)
            obs = self.sim.observation()
            mask = None
        infos.update(self.sim.info(mask))
        return obs, result.reward, result.terminated, result.truncated, infos
