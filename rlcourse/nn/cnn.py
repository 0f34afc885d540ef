"""Convolutional encoders for channels-first images: the Nature-DQN stack and a small-grid one.

Both return flattened features [B, out_features]; dense layers after them come from an `MLP`
(the Nature-DQN torso is `NatureCNN` followed by ``MLP(hidden=[512])``). Inputs are float
images; scaling uint8 pixels to [0, 1] is the observation encoder's job (`rlcourse.nn.spec`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from rlcourse.nn.layers import check_positive, make_activation

#: The smallest side the Nature stack accepts: 8x8/4 then 4x4/2 then 3x3/1 leaves 1x1 at 36.
NATURE_MIN_SIZE = 36


def _flat_size(body: nn.Module, in_channels: int, height: int, width: int) -> int:
    with torch.no_grad():
        return int(body(torch.zeros(1, in_channels, height, width)).shape[1])


class NatureCNN(nn.Module):
    """Mnih et al. (2015): conv 32x8x8/4, conv 64x4x4/2, conv 64x3x3/1, each + activation.

    [B, C, H, W] -> [B, out_features]; 84x84 frames give 64 * 7 * 7 = 3136 features.
    """

    def __init__(self, in_channels: int, height: int, width: int, activation: str = "relu"):
        super().__init__()
        check_positive(in_channels=in_channels, height=height, width=width)
        if min(height, width) < NATURE_MIN_SIZE:
            raise ValueError(
                f"NatureCNN needs images of at least {NATURE_MIN_SIZE}x{NATURE_MIN_SIZE}, got "
                f"{height}x{width}; use GridCNN for small images"
            )
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=8, stride=4),
            make_activation(activation),
            nn.Conv2d(32, 64, kernel_size=4, stride=2),
            make_activation(activation),
            nn.Conv2d(64, 64, kernel_size=3, stride=1),
            make_activation(activation),
            nn.Flatten(),
        )
        self.out_features = _flat_size(self.body, in_channels, height, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W] -> [B, out_features]."""
        return self.body(x)


class GridCNN(nn.Module):
    """Same-padded k x k convolutions that keep H x W, for boards and gridworld images.

    Each entry of `channels` adds ``conv -> (BatchNorm) -> activation``;
    [B, C, H, W] -> [B, channels[-1] * H * W].
    """

    def __init__(
        self,
        in_channels: int,
        height: int,
        width: int,
        channels: Sequence[int] = (32, 32),
        kernel_size: int = 3,
        activation: str = "relu",
        batch_norm: bool = False,
    ):
        super().__init__()
        check_positive(in_channels=in_channels, height=height, width=width)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
        if not channels:
            raise ValueError("GridCNN needs at least one convolution (channels is empty)")
        layers: list[nn.Module] = []
        previous = in_channels
        for out in channels:
            check_positive(channels=out)
            layers.append(
                nn.Conv2d(previous, out, kernel_size, padding=kernel_size // 2, bias=not batch_norm)
            )
            if batch_norm:
                layers.append(nn.BatchNorm2d(out))
            layers.append(make_activation(activation))
            previous = out
        layers.append(nn.Flatten())
        self.body = nn.Sequential(*layers)
        self.out_features = previous * height * width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W] -> [B, out_features]."""
        return self.body(x)
