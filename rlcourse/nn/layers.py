"""Small building blocks the networks share: activations by name, norms, linear factories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import torch
from torch import nn

Activation = Literal["relu", "tanh", "elu", "gelu", "silu", "leaky_relu"]
Norm = Literal["layer", "batch"]

#: Builds a linear layer ``(in_features, out_features) -> module``; `nn.Linear` or `NoisyLinear`.
LinearFactory = Callable[[int, int], nn.Module]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name (one of `Activation`)."""
    if name not in _ACTIVATIONS:
        raise ValueError(
            f"unknown activation {name!r}; expected one of {list(get_args(Activation))}"
        )
    return _ACTIVATIONS[name]()


class BatchNormLastDim(nn.Module):
    """BatchNorm over the last dimension of [..., F] inputs (statistics over all leading dims)."""

    def __init__(self, features: int):
        super().__init__()
        self.norm = nn.BatchNorm1d(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[..., F] -> [..., F]."""
        return self.norm(x.reshape(-1, x.shape[-1])).reshape(x.shape)


def make_norm(kind: str | None, features: int) -> nn.Module:
    """LayerNorm, BatchNorm over the last dimension, or the identity for None."""
    if kind is None:
        return nn.Identity()
    if kind == "layer":
        return nn.LayerNorm(features)
    if kind == "batch":
        return BatchNormLastDim(features)
    raise ValueError(f"unknown norm {kind!r}; expected one of {list(get_args(Norm))} or None")


def check_positive(**values: int) -> None:
    """Raise a ValueError naming the first argument that is not a positive integer."""
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
