"""The multi-layer perceptron: Linear -> norm -> activation -> dropout, repeated."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from rlcourse.nn.layers import LinearFactory, check_positive, make_activation, make_norm


class MLP(nn.Module):
    """Maps [..., in_features] to [..., out_features].

    Each width in `hidden` adds ``linear -> norm -> activation -> dropout``. With `out_features`
    a final linear layer (no activation) follows; without it the last hidden layer is the
    output. With neither, the MLP is the identity and ``out_features == in_features``.
    `linear` builds every linear layer (`nn.Linear`, or `NoisyLinear` for noisy nets).
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (64, 64),
        out_features: int | None = None,
        activation: str = "relu",
        norm: str | None = None,
        dropout: float = 0.0,
        linear: LinearFactory = nn.Linear,
    ):
        super().__init__()
        check_positive(in_features=in_features)
        for width in hidden:
            check_positive(hidden_width=width)
        if out_features is not None:
            check_positive(out_features=out_features)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        layers: list[nn.Module] = []
        width = in_features
        for next_width in hidden:
            layers.append(linear(width, next_width))
            if norm is not None:
                layers.append(make_norm(norm, next_width))
            layers.append(make_activation(activation))
            if dropout > 0.0:
                layers.append(nn.Dropout(dropout))
            width = next_width
        if out_features is not None:
            layers.append(linear(width, out_features))
            width = out_features
        self.layers = nn.Sequential(*layers)
        self.in_features = in_features
        self.out_features = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[..., in_features] -> [..., out_features]."""
        return self.layers(x)
