"""Network specs from config, and observation encoders built from them and an observation space.

In an agent's config section::

    network:
      mlp: {hidden: [64, 64], activation: relu, norm: null, dropout: 0.0}
      cnn: {kind: auto, channels: [32, 32]}      # used only for image observations
      attention: {embed_dim: 64, num_heads: 4}   # optional: entity observations [N, F]
      text: {embed_dim: 32, hidden_size: 64}     # optional: token-id observations [T]

`build_encoder(spec, observation_space)` returns an `ObservationEncoder` mapping a batch of
observations to features [B, out_features]:

- ``Discrete(n)``: one-hot [B, n], then the MLP.
- ``MultiDiscrete(nvec)``: concatenated one-hots [B, sum(nvec)], then the MLP.
- ``Box`` with 3 dimensions: a channels-first image [B, C, H, W] (uint8 scaled by 1/255),
  then the CNN (``auto``: `NatureCNN` from 36x36 up, `GridCNN` below), then the MLP over the
  flattened CNN features (Nature-DQN: ``mlp.hidden: [512]``).
- ``Box`` with 2 dimensions [N, F] when ``attention`` is set: N entities (vehicles, slots) of F
  features, column ``attention.presence_feature`` a presence flag (> 0.5: present); the
  `EntityAttentionEncoder`'s pooled embedding, then the MLP.
- ``Box`` with 1 dimension [T] and an integer dtype when ``text`` is set: token ids from
  0 to ``high`` (0 is padding, found only after the last token); embedded, read by a GRU or
  LSTM, whose output after the last token goes to the MLP.
- any other ``Box`` or ``MultiBinary``: flattened to [B, prod(shape)] floats, then the MLP.

`as_batch(observations, space)` turns a sequence of env observations into the tensor the
encoder expects (integers for discrete spaces, uint8 kept for images, float32 otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, PositiveInt, field_validator, model_validator
from torch import nn

from rlcourse.nn.attention import EntityAttentionEncoder, Pooling
from rlcourse.nn.cnn import NATURE_MIN_SIZE, GridCNN, NatureCNN
from rlcourse.nn.layers import Activation, LinearFactory, Norm
from rlcourse.nn.mlp import MLP
from rlcourse.schedules import FrozenModel

UINT8_SCALE = 1.0 / 255.0


class MLPSpec(FrozenModel):
    hidden: tuple[PositiveInt, ...] = Field(default=(64, 64), description="hidden layer widths")
    activation: Activation = "relu"
    norm: Norm | None = Field(default=None, description="layer, batch or null")
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0

    def build(
        self, in_features: int, out_features: int | None = None, linear: LinearFactory = nn.Linear
    ) -> MLP:
        return MLP(
            in_features, self.hidden, out_features, self.activation, self.norm, self.dropout, linear
        )


class CNNSpec(FrozenModel):
    kind: Literal["auto", "nature", "grid"] = "auto"
    channels: tuple[PositiveInt, ...] = Field(
        default=(32, 32), min_length=1, description="grid: output channels of each convolution"
    )
    kernel_size: PositiveInt = Field(default=3, description="grid: odd kernel size (same padding)")
    batch_norm: bool = Field(default=False, description="grid: BatchNorm after each convolution")
    activation: Activation = "relu"

    @field_validator("kernel_size")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError("must be odd so that same padding keeps H x W")
        return value

    def build(self, in_channels: int, height: int, width: int) -> NatureCNN | GridCNN:
        kind = self.kind
        if kind == "auto":
            kind = "nature" if min(height, width) >= NATURE_MIN_SIZE else "grid"
        if kind == "nature":
            return NatureCNN(in_channels, height, width, self.activation)
        return GridCNN(
            in_channels, height, width, self.channels, self.kernel_size, self.activation,
            self.batch_norm,
        )  # fmt: skip


class AttentionSpec(FrozenModel):
    embed_dim: PositiveInt = 64
    num_heads: PositiveInt = 4
    num_layers: Annotated[int, Field(ge=0)] = 1
    pooling: Pooling = Field(default="first", description="mean, max or first (the ego entity)")
    presence_feature: Annotated[int, Field(ge=0)] = Field(
        default=0, description="column of the presence flag in each entity's features"
    )

    @model_validator(mode="after")
    def _heads_divide(self) -> AttentionSpec:
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"embed_dim ({self.embed_dim}) must be divisible by num_heads ({self.num_heads})"
            )
        return self


class TextSpec(FrozenModel):
    embed_dim: PositiveInt = 32
    hidden_size: PositiveInt = 64
    cell: Literal["gru", "lstm"] = "gru"


class NetworkSpec(FrozenModel):
    mlp: MLPSpec = MLPSpec()
    cnn: CNNSpec = CNNSpec()
    attention: AttentionSpec | None = None
    text: TextSpec | None = None


# ----------------------------------------------------------------------------- preprocessing


class OneHot(nn.Module):
    """Integers [B] in [start, start + n) -> one-hot floats [B, n]."""

    def __init__(self, n: int, start: int = 0):
        super().__init__()
        self.n, self.start = n, start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.one_hot(x.long() - self.start, self.n).float()


class MultiOneHot(nn.Module):
    """Integers [B, K] with x[:, k] in [start_k, start_k + nvec[k]) -> floats [B, sum(nvec)]."""

    def __init__(self, nvec: Sequence[int], start: Sequence[int]):
        super().__init__()
        self.nvec, self.start = [int(n) for n in nvec], [int(s) for s in start]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.long()
        parts = [
            F.one_hot(x[:, k] - s, n)
            for k, (n, s) in enumerate(zip(self.nvec, self.start, strict=True))
        ]
        return torch.cat(parts, dim=-1).float()


class ToFloat(nn.Module):
    """Any numeric [B, ...] -> float32 times `scale`, flattened to [B, -1] if `flatten`."""

    def __init__(self, scale: float = 1.0, flatten: bool = True):
        super().__init__()
        self.scale, self.flatten = scale, flatten

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if self.scale != 1.0:
            x = x * self.scale
        return x.flatten(1) if self.flatten else x

    def extra_repr(self) -> str:
        return f"scale={self.scale:g}, flatten={self.flatten}"


class EntityTorso(nn.Module):
    """Entities [B, N, F] with a presence column -> the attention encoder's pooled [B, D]."""

    def __init__(self, spec: AttentionSpec, entity_features: int):
        super().__init__()
        if spec.presence_feature >= entity_features:
            raise ValueError(
                f"attention.presence_feature is {spec.presence_feature} but entities have "
                f"only {entity_features} features"
            )
        self.presence_feature = spec.presence_feature
        self.attention = EntityAttentionEncoder(
            entity_features, spec.embed_dim, spec.num_heads, spec.num_layers,
            pooling=spec.pooling,
        )  # fmt: skip
        self.out_features = spec.embed_dim

    def forward(self, entities: torch.Tensor) -> torch.Tensor:
        present = entities[..., self.presence_feature] > 0.5
        return self.attention(entities, present).pooled


class TokenTorso(nn.Module):
    """Token ids [B, T] (0: padding after the last token) -> the recurrent output after each
    row's last token [B, hidden_size] (a row of padding only reads as its first position)."""

    def __init__(self, spec: TextSpec, vocabulary_size: int):
        super().__init__()
        self.embed = nn.Embedding(vocabulary_size, spec.embed_dim, padding_idx=0)
        cell = nn.GRU if spec.cell == "gru" else nn.LSTM
        self.rnn = cell(spec.embed_dim, spec.hidden_size, batch_first=True)
        self.out_features = spec.hidden_size

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        tokens = tokens.long()
        last = (tokens != 0).sum(dim=1).clamp(min=1) - 1  # [B]
        outputs, _ = self.rnn(self.embed(tokens))  # [B, T, H]
        return outputs[torch.arange(tokens.shape[0], device=tokens.device), last]


class ObservationEncoder(nn.Module):
    """Observations [B, ...] -> features [B, out_features]: preprocess, then torso."""

    def __init__(self, preprocess: nn.Module, torso: nn.Module, out_features: int):
        super().__init__()
        self.preprocess, self.torso, self.out_features = preprocess, torso, out_features

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.torso(self.preprocess(obs))


def build_encoder(
    spec: NetworkSpec | MLPSpec, observation_space: gym.Space[Any]
) -> ObservationEncoder:
    """The encoder `spec` describes for observations from `observation_space` (see module doc)."""
    if isinstance(spec, MLPSpec):
        spec = NetworkSpec(mlp=spec)
    space = observation_space
    preprocess: nn.Module
    if isinstance(space, gym.spaces.Discrete):
        preprocess, width = OneHot(int(space.n), int(space.start)), int(space.n)
    elif isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
        preprocess = MultiOneHot(space.nvec.tolist(), space.start.tolist())
        width = int(space.nvec.sum())
    elif isinstance(space, gym.spaces.Box) and len(space.shape) == 3:
        channels, height, width_px = space.shape
        scale = UINT8_SCALE if space.dtype == np.uint8 else 1.0
        cnn = spec.cnn.build(channels, height, width_px)
        mlp = spec.mlp.build(cnn.out_features)
        torso = nn.Sequential(cnn, mlp)
        return ObservationEncoder(ToFloat(scale, flatten=False), torso, mlp.out_features)
    elif isinstance(space, gym.spaces.Box) and len(space.shape) == 1 and spec.text:
        if not np.issubdtype(space.dtype, np.integer) or space.low.min() < 0:
            raise TypeError(
                f"the text encoder needs token ids (a non-negative integer Box), got {space}"
            )
        tokens = TokenTorso(spec.text, int(space.high.max()) + 1)
        mlp = spec.mlp.build(tokens.out_features)
        return ObservationEncoder(nn.Identity(), nn.Sequential(tokens, mlp), mlp.out_features)
    elif isinstance(space, gym.spaces.Box) and len(space.shape) == 2 and spec.attention:
        entities = EntityTorso(spec.attention, space.shape[1])
        mlp = spec.mlp.build(entities.out_features)
        torso = nn.Sequential(entities, mlp)
        return ObservationEncoder(ToFloat(1.0, flatten=False), torso, mlp.out_features)
    elif isinstance(space, gym.spaces.Box | gym.spaces.MultiBinary):
        preprocess, width = ToFloat(1.0, flatten=True), math.prod(space.shape)
    else:
        raise TypeError(
            f"no encoder for observation space {space}; supported: Discrete, MultiDiscrete, "
            "MultiBinary and Box (flatten Dict/Tuple spaces with "
            "gymnasium.wrappers.FlattenObservation)"
        )
    mlp = spec.mlp.build(width)
    return ObservationEncoder(preprocess, mlp, mlp.out_features)


def as_batch(
    observations: Sequence[Any] | np.ndarray,
    space: gym.Space[Any],
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Stack env observations into a [B, *space.shape] tensor for `build_encoder`'s encoders."""
    array = np.asarray(observations)
    expected = tuple(space.shape or ())
    if array.shape[1:] != expected:
        raise ValueError(f"observations have shape {array.shape}; {space} expects [B, *{expected}]")
    if isinstance(space, gym.spaces.Discrete | gym.spaces.MultiDiscrete):
        dtype = torch.int64
    elif isinstance(space, gym.spaces.Box) and space.dtype == np.uint8:
        dtype = torch.uint8
    else:
        dtype = torch.float32
    return torch.as_tensor(array, device=device).to(dtype)
