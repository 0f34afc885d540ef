"""Leaf-by-leaf calls compute what the module computes, and fall back where not sequential."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from rlcourse.nn import (
    DuelingHead,
    MLPSpec,
    QHead,
    build_encoder,
    layers_of,
    run_layers,
    sequential_leaves,
)


def test_an_encoder_and_q_head_run_leaf_by_leaf_as_modules_do():
    torch.manual_seed(0)
    space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    encoder = build_encoder(MLPSpec(hidden=[8, 8]), space)
    head = QHead(encoder.out_features, 3, hidden=[5])
    x = torch.randn(6, 4)
    layers = layers_of(encoder) + layers_of(head)
    assert all(not isinstance(layer, torch.nn.Module) for layer in layers)  # leaves only
    torch.testing.assert_close(run_layers(layers, x), head(encoder(x)))


def test_a_head_that_is_not_sequential_is_called_whole():
    head = DuelingHead(8, 3)
    assert sequential_leaves(head) is None
    assert layers_of(head) == [head]
    x = torch.randn(2, 8)
    torch.testing.assert_close(run_layers(layers_of(head), x), head(x))
