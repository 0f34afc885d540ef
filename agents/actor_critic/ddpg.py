"""DDPG: a deterministic actor explored with Gaussian or Ornstein-Uhlenbeck noise, one critic,
target networks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from agents.actor_critic.agent import OffPolicyAgent, frozen_copy, polyak
from agents.actor_critic.config import DDPGConfig
from agents.actor_critic.losses import (
    TargetSmoothing,
    deterministic_actor_loss,
    deterministic_critic_loss,
)
from agents.actor_critic.networks import DeterministicActor
from agents.actor_critic.noise import OrnsteinUhlenbeck
from rlcourse.nn import FlatParameters
from rlcourse.replay import ReplayBatch


class DDPGAgent(OffPolicyAgent):
    Config: ClassVar[type[DDPGConfig]] = DDPGConfig
    config: DDPGConfig
    policy_delay = 1  # critic steps per actor step
    smoothing: TargetSmoothing | None = None  # noise on the target action

    def __init__(
        self,
        config: DDPGConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        super().__init__(config, observation_space, action_space, seed)
        self.target_actor = frozen_copy(self.actor.module)
        self.target_actor_flat = FlatParameters(self.target_actor, gradients=False)
        # Ornstein-Uhlenbeck exploration (None: Gaussian): the collector's process, a row per
        # env, and one row of `act`'s own (act takes one observation), which runs on across
        # calls since act sees no episode end
        self.ou_noise = self._ornstein_uhlenbeck(config.num_envs)
        self.acting_ou_noise = self._ornstein_uhlenbeck(1)

    def _ornstein_uhlenbeck(self, rows: int) -> OrnsteinUhlenbeck | None:
        cfg = self.config
        if cfg.exploration != "ornstein_uhlenbeck":
            return None
        shape = (rows, self.action_dim)
        return OrnsteinUhlenbeck(
            shape, theta=cfg.ou_theta, sigma=cfg.exploration_noise, dt=cfg.ou_dt, mu=cfg.ou_mu
        )

    def _build_actor(self) -> nn.Module:
        return DeterministicActor(self.config.network, self.observation_space, self.action_dim)

    def _policy_actions(self, obs: torch.Tensor, deterministic: bool) -> np.ndarray:
        if deterministic:
            return self._actor_actions(obs)
        return self._add_noise(self._actor_actions(obs), self.acting_ou_noise)

    def _exploring_actions(self, obs: torch.Tensor) -> np.ndarray:
        return self._add_noise(self._actor_actions(obs), self.ou_noise)

    def _actor_actions(self, obs: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            return self.actor.module(obs).numpy()

    def _add_noise(self, actions: np.ndarray, ou: OrnsteinUhlenbeck | None) -> np.ndarray:
        """`actions` [N, D] plus the next draw of `ou` (a Gaussian one when None), clipped to
        [-1, 1]."""
        if self.config.exploration_noise == 0:
            return actions
        if ou is None:
            noise = self.rng.normal(0.0, self.config.exploration_noise, size=actions.shape)
        else:
            noise = ou.sample(self.rng)
        return np.clip(actions + noise, -1.0, 1.0)

    def _episodes_ended(self, done: np.ndarray) -> None:
        if self.ou_noise is not None:
            self.ou_noise.reset(done)

    def _update(self, batch: ReplayBatch) -> dict[str, torch.Tensor]:
        critic, actor = self.critic, self.actor
        loss = deterministic_critic_loss(
            batch, critic.module, self.target_critic, self.target_actor, self.smoothing,
            self.torch_rng,
        )  # fmt: skip
        critic.step(loss)
        self.updates += 1
        if self.updates % self.policy_delay:
            return {"critic_loss": loss}
        actor_loss = deterministic_actor_loss(
            torch.as_tensor(batch.observations), actor.module, critic.module
        )
        actor.step(actor_loss)
        polyak(self.target_critic_flat, critic.flat, self.config.tau)
        polyak(self.target_actor_flat, actor.flat, self.config.tau)
        return {"critic_loss": loss, "actor_loss": actor_loss}

    def _networks(self) -> dict[str, nn.Module]:
        return {**super()._networks(), "target_actor": self.target_actor}

    def state_dict(self) -> dict[str, Any]:
        ou = None if self.ou_noise is None else self.ou_noise.state_dict()
        return {**super().state_dict(), "ou_noise": ou}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        if self.ou_noise is not None and state.get("ou_noise") is not None:
            self.ou_noise.load_state_dict(state["ou_noise"])
