"""SAC: a tanh-squashed Gaussian actor, n critics bootstrapping from the smallest soft value,
and an entropy temperature tuned towards a target entropy."""

from __future__ import annotations

import math
from typing import ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from agents.actor_critic.agent import OffPolicyAgent, polyak
from agents.actor_critic.config import SACConfig
from agents.actor_critic.losses import sac_actor_loss, sac_critic_loss, sac_temperature_loss
from agents.actor_critic.networks import GaussianActor
from rlcourse.nn import fused_adam
from rlcourse.replay import ReplayBatch


class Temperature(nn.Module):
    """The entropy temperature alpha, learned as log alpha."""

    def __init__(self, alpha: float):
        super().__init__()
        self.log_alpha = nn.Parameter(torch.tensor(math.log(alpha)))


class SACAgent(OffPolicyAgent):
    Config: ClassVar[type[SACConfig]] = SACConfig
    config: SACConfig

    def __init__(
        self,
        config: SACConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        self.n_critics = config.n_critics
        super().__init__(config, observation_space, action_space, seed)
        self.target_entropy = (
            -float(self.action_dim) if config.target_entropy == "auto" else config.target_entropy
        )
        learned = config.alpha == "auto"
        self.temperature = Temperature(config.alpha_init)  # unused with a fixed alpha
        self.temperature.requires_grad_(learned)
        self.fixed_alpha = None if learned else torch.tensor(float(config.alpha))
        self.alpha_optimizer = (
            fused_adam(list(self.temperature.parameters()), config.lr) if learned else None
        )

    def _build_actor(self) -> nn.Module:
        cfg = self.config
        return GaussianActor(
            cfg.network, self.observation_space, self.action_dim, cfg.log_std_bounds
        )

    @property
    def alpha(self) -> torch.Tensor:
        if self.fixed_alpha is not None:
            return self.fixed_alpha
        return self.temperature.log_alpha.detach().exp()

    def _policy_actions(self, obs: torch.Tensor, deterministic: bool) -> np.ndarray:
        with torch.inference_mode():
            policy = self.actor.module(obs)
            actions = policy.mode() if deterministic else policy.sample(self.torch_rng)
        return actions.numpy()

    def _update(self, batch: ReplayBatch) -> dict[str, torch.Tensor]:
        critic, actor, alpha = self.critic, self.actor, self.alpha
        loss = sac_critic_loss(
            batch, critic.module, self.target_critic, actor.module, alpha, self.torch_rng
        )
        critic.step(loss)
        actor_loss, log_probs = sac_actor_loss(
            torch.as_tensor(batch.observations), actor.module, critic.module, alpha,
            self.torch_rng,
        )  # fmt: skip
        actor.step(actor_loss)
        losses = {"critic_loss": loss, "actor_loss": actor_loss, "alpha": alpha}
        if self.alpha_optimizer is not None:
            alpha_loss = sac_temperature_loss(
                self.temperature.log_alpha, log_probs, self.target_entropy
            )
            self.alpha_optimizer.zero_grad(set_to_none=False)
            alpha_loss.backward()
            self.alpha_optimizer.step()
        polyak(self.target_critic_flat, critic.flat, self.config.tau)
        self.updates += 1
        return losses

    def _networks(self) -> dict[str, nn.Module]:
        return {**super()._networks(), "temperature": self.temperature}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if self.alpha_optimizer is None:
            return super()._optimizers()
        return {**super()._optimizers(), "alpha": self.alpha_optimizer}
