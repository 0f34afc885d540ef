"""The Q network: an observation encoder from `rlcourse.nn` and the head the switches ask for."""

from __future__ import annotations

import gymnasium as gym
import torch
from torch import nn

from agents.dqn.config import DQNConfig
from rlcourse.nn import (
    DistributionalHead,
    DuelingHead,
    QHead,
    build_encoder,
    layers_of,
    reset_noise,
    run_layers,
)


class QNetwork(nn.Module):
    """Observations [B, ...] -> Q values [B, A], or log-probabilities [B, A, Z] with C51."""

    def __init__(
        self,
        config: DQNConfig,
        observation_space: gym.Space,
        n_actions: int,
        generator: torch.Generator,
    ):
        super().__init__()
        self.encoder = build_encoder(config.network, observation_space)
        features = self.encoder.out_features
        self.head: QHead | DuelingHead | DistributionalHead
        if config.distributional:
            self.head = DistributionalHead(
                features,
                n_actions,
                config.atoms,
                config.v_min,
                config.v_max,
                noisy=config.noisy,
                sigma_0=config.noisy_sigma,
                dueling=config.dueling,
            )
        elif config.dueling:
            self.head = DuelingHead(
                features, n_actions, noisy=config.noisy, sigma_0=config.noisy_sigma
            )
        else:
            self.head = QHead(features, n_actions, noisy=config.noisy, sigma_0=config.noisy_sigma)
        self.generator = generator
        # The same modules, called leaf by leaf (see `rlcourse.nn.chain`).
        self._layers = layers_of(self.encoder) + layers_of(self.head)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return run_layers(self._layers, obs)

    def expected(self, out: torch.Tensor) -> torch.Tensor:
        """The Q values [B, A] of an output of this network: the output itself, or with C51
        the expectation over atoms (the head's `q_values`)."""
        if isinstance(self.head, DistributionalHead):
            return self.head.q_values(out)
        return out

    def q_values(self, obs: torch.Tensor) -> torch.Tensor:
        """[B, A] expected returns, whatever the head."""
        return self.expected(self(obs))

    @property
    def support(self) -> torch.Tensor:
        """C51 atom values [Z] (distributional heads only)."""
        if not isinstance(self.head, DistributionalHead):
            raise AttributeError("only a distributional Q network has an atom support")
        return self.head.support

    def reset_noise(self) -> None:
        reset_noise(self, self.generator)
