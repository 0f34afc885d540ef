"""DDPG: a deterministic actor explored with Gaussian noise, one critic, target networks."""

from __future__ import annotations

from typing import ClassVar

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

    def _build_actor(self) -> nn.Module:
        return DeterministicActor(self.config.network, self.observation_space, self.action_dim)

    def _policy_actions(self, obs: torch.Tensor, deterministic: bool) -> np.ndarray:
        with torch.inference_mode():
            actions = self.actor.module(obs).numpy()
        if deterministic or self.config.exploration_noise == 0:
            return actions
        noise = self.rng.normal(0.0, self.config.exploration_noise, size=actions.shape)
        return np.clip(actions + noise, -1.0, 1.0)

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
