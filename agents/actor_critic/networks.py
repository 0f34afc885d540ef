"""The networks of DDPG, TD3 and SAC: the critic ensemble and the two kinds of actor.

Actions are in [-1, 1] here (`ActionScale` maps them to the env's bounds). The actors read
observations through an `rlcourse.nn` encoder; the critics read the flattened observation and
the action side by side.
"""

from __future__ import annotations

import itertools
import math

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from rlcourse.nn import (
    DiagGaussian,
    GaussianPolicyHead,
    MLPSpec,
    NetworkSpec,
    build_encoder,
    layers_of,
    make_activation,
    run_layers,
)


class ActionScale:
    """The one place where actions change units: [-1, 1] for the networks and the replay,
    the Box's [low, high] for the env (an affine map per dimension)."""

    def __init__(self, space: gym.spaces.Box):
        low, high = np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise ValueError(f"the action space needs finite bounds to rescale into, got {space}")
        self.low, self.high, self.dtype = low, high, space.dtype

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Actions [..., D] in [-1, 1] -> the env's units, clipped into [low, high]."""
        scaled = self.low + (np.asarray(actions, np.float64) + 1.0) * 0.5 * (self.high - self.low)
        return np.clip(scaled, self.low, self.high).astype(self.dtype)


class QEnsemble(nn.Module):
    """`n` independent critics Q_i(s, a), each an MLP over [flattened obs, action], computed
    together: their layers are stacked, one batched operation per layer for all of them.
    Observations [B, ...] and actions [B, D] -> Q values [n, B]."""

    def __init__(
        self, n: int, obs_features: int, action_dim: int, mlp: MLPSpec, generator: torch.Generator
    ):
        super().__init__()
        if mlp.norm is not None or mlp.dropout:
            raise ValueError("the critics take an mlp without norm or dropout")
        widths = [obs_features + action_dim, *mlp.hidden, 1]
        self.n = n
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in itertools.pairwise(widths):
            bound = 1.0 / math.sqrt(fan_in)  # nn.Linear's default, drawn from `generator`
            weight, bias = torch.empty(n, fan_in, fan_out), torch.empty(n, 1, fan_out)
            self.weights.append(nn.Parameter(weight.uniform_(-bound, bound, generator=generator)))
            self.biases.append(nn.Parameter(bias.uniform_(-bound, bound, generator=generator)))
        self.activation = make_activation(mlp.activation)

    def forward(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return self._run(obs, actions, self.n, detach=False)

    def without_weight_grads(
        self, obs: torch.Tensor, actions: torch.Tensor, members: int | None = None
    ) -> torch.Tensor:
        """Q values [members, B] of the first `members` critics (all by default), whose
        gradient reaches the actions but not the critics' weights (what an actor loss needs,
        without computing weight gradients it would throw away)."""
        return self._run(obs, actions, self.n if members is None else members, detach=True)

    def _run(self, obs: torch.Tensor, actions: torch.Tensor, n: int, detach: bool) -> torch.Tensor:
        x = torch.cat([obs.flatten(1).float(), actions], dim=1).expand(n, -1, -1)
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            if n < self.n:
                weight, bias = weight[:n], bias[:n]
            if detach:
                weight, bias = weight.detach(), bias.detach()
            x = affine(x, weight, bias)
            if i < last:
                x = self.activation(x)
        return x.squeeze(-1)


def affine(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """bias + x @ weight for each of n stacked layers: x [n, B, in], weight [n, in, out],
    bias [n, 1, out] -> [n, B, out]. A one-column weight (the Q value's layer) is multiplied and
    summed instead: torch's batched matrix product is several times slower for that shape on a
    CPU (171 µs against 45 µs for two 256 x 256 batches by one column each)."""
    if weight.shape[-1] == 1:
        return (x * weight.mT).sum(dim=-1, keepdim=True) + bias
    return torch.baddbmm(bias, x, weight)


class DeterministicActor(nn.Module):
    """Observations [B, ...] -> actions [B, D] in [-1, 1]: encoder, linear, tanh."""

    def __init__(self, network: NetworkSpec, observation_space: gym.Space, action_dim: int):
        super().__init__()
        self.encoder = build_encoder(network, observation_space)
        self.head = nn.Linear(self.encoder.out_features, action_dim)
        self._layers = [*layers_of(self.encoder), self.head.forward, torch.tanh]

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return run_layers(self._layers, obs)


class GaussianActor(nn.Module):
    """Observations [B, ...] -> a tanh-squashed diagonal Gaussian over actions in (-1, 1),
    its log-std a second output of the head (state dependent, as in SAC)."""

    def __init__(
        self,
        network: NetworkSpec,
        observation_space: gym.Space,
        action_dim: int,
        log_std_bounds: tuple[float, float],
    ):
        super().__init__()
        self.encoder = build_encoder(network, observation_space)
        self.head = GaussianPolicyHead(
            self.encoder.out_features, action_dim, state_dependent_std=True,
            log_std_bounds=log_std_bounds, squash=True,
        )  # fmt: skip
        self._layers = layers_of(self.encoder)

    def forward(self, obs: torch.Tensor) -> DiagGaussian:
        return self.head(run_layers(self._layers, obs))
