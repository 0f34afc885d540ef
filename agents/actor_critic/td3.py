"""TD3: DDPG with n critics bootstrapping from the smallest, target policy smoothing and a
delayed actor (the losses are DDPG's with those switches)."""

from __future__ import annotations

from typing import ClassVar

import gymnasium as gym

from agents.actor_critic.config import TD3Config
from agents.actor_critic.ddpg import DDPGAgent
from agents.actor_critic.losses import TargetSmoothing


class TD3Agent(DDPGAgent):
    Config: ClassVar[type[TD3Config]] = TD3Config
    config: TD3Config

    def __init__(
        self,
        config: TD3Config,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        self.n_critics = config.n_critics
        self.policy_delay = config.policy_delay
        self.smoothing = TargetSmoothing(config.target_policy_noise, config.target_noise_clip)
        super().__init__(config, observation_space, action_space, seed)
