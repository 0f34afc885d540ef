"""Weight initialisation chosen per module: orthogonal, Xavier/Glorot or He/Kaiming.

``init_module(torso, "orthogonal", gain=math.sqrt(2))`` then
``init_module(policy_head, "orthogonal", gain=0.01)`` is the usual PPO recipe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import torch
from torch import nn

from rlcourse.nn.heads import NoisyLinear

Scheme = Literal[
    "orthogonal", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"
]

#: Modules whose parameters hold weights that `init_module` re-initialises.
WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.RNNBase, nn.MultiheadAttention)


def _initialiser(
    scheme: str, gain: float, generator: torch.Generator | None
) -> Callable[[torch.Tensor], object]:
    if scheme == "orthogonal":
        return lambda w: nn.init.orthogonal_(w, gain=gain, generator=generator)
    if scheme == "xavier_uniform":
        return lambda w: nn.init.xavier_uniform_(w, gain=gain, generator=generator)
    if scheme == "xavier_normal":
        return lambda w: nn.init.xavier_normal_(w, gain=gain, generator=generator)
    if scheme in ("kaiming_uniform", "kaiming_normal"):
        # He et al. (2015): std = gain / sqrt(fan_in); torch's own form takes the slope instead.
        def kaiming(w: torch.Tensor) -> object:
            fan_in = nn.init._calculate_fan_in_and_fan_out(w)[0]
            std = gain / fan_in**0.5
            if scheme == "kaiming_normal":
                return nn.init.normal_(w, 0.0, std, generator=generator)
            return nn.init.uniform_(w, -std * 3**0.5, std * 3**0.5, generator=generator)

        return kaiming
    raise ValueError(f"unknown init scheme {scheme!r}; expected one of {list(get_args(Scheme))}")


def init_module(
    module: nn.Module,
    scheme: str = "orthogonal",
    gain: float = 1.0,
    bias: float = 0.0,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Re-initialise every linear, convolutional, recurrent and attention weight in `module`.

    Weight matrices ([out, in] or conv kernels) get `scheme` with `gain` (He/Kaiming:
    std = gain / sqrt(fan_in), so gain = sqrt(2) for ReLU); their biases are set to `bias`.
    Norm layers keep their ones and zeros; `NoisyLinear` keeps its own initialisation. The
    draws come from `generator` (else torch's global one), so a seeded generator gives the
    same weights without touching the global random state.
    Returns `module`, so it can wrap a constructor call.
    """
    init = _initialiser(scheme, gain, generator)
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, NoisyLinear) or not isinstance(layer, WEIGHTED):
                continue
            for name, param in layer.named_parameters(recurse=False):
                if "weight" in name and param.dim() >= 2:
                    init(param)
                elif "bias" in name:
                    nn.init.constant_(param, bias)
    return module
