"""FlatParameters: the same network, gradients and optimiser steps, in one flat tensor."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from rlcourse.nn import MLP, FlatParameters


def twins() -> tuple[nn.Module, nn.Module, FlatParameters]:
    torch.manual_seed(0)
    plain = nn.Sequential(MLP(3, [16, 16]), nn.Linear(16, 2))
    flat_net = copy.deepcopy(plain)
    return plain, flat_net, FlatParameters(flat_net)


def loss_of(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return net(x).square().sum()


def test_the_network_computes_the_same_and_its_parameters_live_in_the_flat_tensor():
    plain, net, flat = twins()
    x = torch.randn(5, 3)
    torch.testing.assert_close(net(x), plain(x))
    total = sum(p.numel() for p in plain.parameters())
    assert flat.param.shape == (total,)
    weights = flat.param.untyped_storage().data_ptr()
    grads = flat.param.grad.untyped_storage().data_ptr()
    for p in net.parameters():
        assert p.untyped_storage().data_ptr() == weights
        assert p.grad.untyped_storage().data_ptr() == grads


def test_backward_fills_the_flat_gradient_and_adam_steps_match_per_tensor_adam():
    plain, net, flat = twins()
    ours = torch.optim.Adam([flat.param], lr=1e-2)
    theirs = torch.optim.Adam(plain.parameters(), lr=1e-2)
    for step in range(3):
        x = torch.randn(7, 3, generator=torch.Generator().manual_seed(step))
        flat.zero_grad()
        loss_of(net, x).backward()
        theirs.zero_grad()
        loss_of(plain, x).backward()
        expected = torch.cat([p.grad.flatten() for p in plain.parameters()])
        torch.testing.assert_close(flat.param.grad, expected)
        ours.step()
        theirs.step()
    for a, b in zip(net.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_clip_grad_norm_matches_torch_and_leaves_small_gradients_alone():
    plain, net, flat = twins()
    x = torch.randn(4, 3)
    flat.zero_grad()
    loss_of(net, x).backward()
    loss_of(plain, x).backward()
    expected_norm = nn.utils.clip_grad_norm_(plain.parameters(), 0.5)
    norm = flat.clip_grad_norm(0.5)
    torch.testing.assert_close(norm, expected_norm)
    torch.testing.assert_close(
        flat.param.grad, torch.cat([p.grad.flatten() for p in plain.parameters()])
    )
    assert float(torch.linalg.vector_norm(flat.param.grad)) == pytest.approx(0.5, rel=1e-4)
    before = flat.param.grad.clone()
    flat.clip_grad_norm(1e6)
    torch.testing.assert_close(flat.param.grad, before)


def test_load_state_dict_writes_into_the_flat_tensor():
    plain, net, flat = twins()
    with torch.no_grad():
        for p in plain.parameters():
            p.add_(1.0)
    net.load_state_dict(plain.state_dict())
    torch.testing.assert_close(
        flat.param.detach(), torch.cat([p.detach().flatten() for p in plain.parameters()])
    )


def test_a_gradient_set_to_none_elsewhere_is_put_back_by_zero_grad():
    plain, net, flat = twins()
    x = torch.randn(4, 3)
    net.zero_grad(set_to_none=True)
    flat.zero_grad()
    loss_of(net, x).backward()
    loss_of(plain, x).backward()
    torch.testing.assert_close(
        flat.param.grad, torch.cat([p.grad.flatten() for p in plain.parameters()])
    )


def test_a_gradient_free_copy_and_bad_modules():
    _, net, _ = twins()
    target = copy.deepcopy(net).requires_grad_(False)
    frozen = FlatParameters(target, gradients=False)
    assert frozen.param.grad is None and not frozen.param.requires_grad
    with torch.no_grad():
        frozen.param.zero_()
    assert all(float(p.abs().sum()) == 0.0 for p in target.parameters())
    with pytest.raises(ValueError, match="gradients=True"):
        frozen.clip_grad_norm(1.0)
    with pytest.raises(ValueError, match="no parameters"):
        FlatParameters(nn.Tanh())
    mixed = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2).double())
    with pytest.raises(ValueError, match="one dtype"):
        FlatParameters(mixed)
