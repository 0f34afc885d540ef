"""The AlphaZero-style residual tower: a conv stem, then residual blocks with BatchNorm.

Silver et al. (2017): stem ``conv 3x3 -> BN -> ReLU``; each block
``conv 3x3 -> BN -> ReLU -> conv 3x3 -> BN``, plus the block's input, then ReLU. Every
convolution is same-padded, so the board keeps its H x W; policy and value heads go on top.
"""

from __future__ import annotations

import torch
from torch import nn

from rlcourse.nn.layers import check_positive


def _conv_bn(in_channels: int, out_channels: int, kernel_size: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
    ]


class ResidualBlock(nn.Module):
    """[B, F, H, W] -> [B, F, H, W]: relu(x + BN(conv(relu(BN(conv(x))))))."""

    def __init__(self, filters: int, kernel_size: int = 3):
        super().__init__()
        self.body = nn.Sequential(
            *_conv_bn(filters, filters, kernel_size),
            nn.ReLU(),
            *_conv_bn(filters, filters, kernel_size),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


class ResNetTower(nn.Module):
    """[B, C, H, W] -> [B, filters, H, W] through a stem and `blocks` residual blocks."""

    def __init__(self, in_channels: int, filters: int = 64, blocks: int = 5, kernel_size: int = 3):
        super().__init__()
        check_positive(in_channels=in_channels, filters=filters)
        if blocks < 0:
            raise ValueError(f"blocks must be >= 0, got {blocks}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
        self.stem = nn.Sequential(*_conv_bn(in_channels, filters, kernel_size), nn.ReLU())
        self.blocks = nn.Sequential(*(ResidualBlock(filters, kernel_size) for _ in range(blocks)))
        self.filters = filters

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W] -> [B, filters, H, W]."""
        return self.blocks(self.stem(x))
