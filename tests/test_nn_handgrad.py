"""HandChain: forward and backward by hand give what the module and autograd give."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from rlcourse.nn import (
    MLP,
    FlatParameters,
    HandChain,
    MLPSpec,
    NoisyLinear,
    build_encoder,
    reset_noise,
)
from rlcourse.nn.heads import _stream
from rlcourse.nn.spec import ToFloat


def autograd_grads(module: nn.Module, x: torch.Tensor, upstream: torch.Tensor, rows: int):
    """Parameter gradients (and the input's) of sum(module(x)[:rows] * upstream)."""
    x = x.clone().requires_grad_()
    module.zero_grad()
    (module(x)[:rows] * upstream).sum().backward()
    grads = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in module.parameters()]
    return grads, x.grad


def hand_grads(module: nn.Module, x: torch.Tensor, upstream: torch.Tensor, rows: int):
    chain = HandChain.of(module)
    assert chain is not None
    for p in module.parameters():
        p.grad = torch.full_like(p, 7.0)  # stale values must be overwritten, not added to
    tape: list = []
    out = chain.forward(x, tape)
    torch.testing.assert_close(out, module(x))
    assert not out.requires_grad
    input_grad = chain.backward_to_input(upstream, tape, rows)
    assert tape == []
    return [p.grad.clone() for p in module.parameters()], input_grad


MODULES = {
    "relu mlp": lambda: MLP(5, [16, 8], 3),
    "tanh mlp": lambda: MLP(5, [16], 3, activation="tanh"),
    "noisy stream": lambda: _stream(5, 3, [8], noisy=True),
    "box encoder": lambda: build_encoder(MLPSpec(hidden=[16, 16]), gym.spaces.Box(-1, 1, (5,))),
    "single linear": lambda: nn.Linear(5, 3),
}


@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("rows", [6, 4])
def test_gradients_match_autograd(name, rows):
    torch.manual_seed(0)
    module = MODULES[name]()
    x = torch.randn(6, 5)
    upstream = torch.randn(rows, 3 if name != "box encoder" else 16)
    expected, expected_input = autograd_grads(module, x, upstream, rows)
    got, got_input = hand_grads(module, x, upstream, rows)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)
    if name != "box encoder":  # ToFloat's input gradient is the identity here
        torch.testing.assert_close(got_input, expected_input[:rows])


def test_noisy_layers_in_eval_mode_use_the_mean_weights_and_give_sigma_no_gradient():
    torch.manual_seed(0)
    module = _stream(5, 3, [8], noisy=True).eval()
    x, upstream = torch.randn(4, 5), torch.randn(4, 3)
    expected, _ = autograd_grads(module, x, upstream, 4)
    got, _ = hand_grads(module, x, upstream, 4)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)


def test_the_input_gradient_goes_back_through_scaling_and_flattening():
    torch.manual_seed(0)
    module = nn.Sequential(ToFloat(0.5, flatten=True), nn.Linear(4, 3))
    x, upstream = torch.randn(3, 2, 2), torch.randn(3, 3)
    expected, expected_input = autograd_grads(module, x, upstream, 3)
    got, got_input = hand_grads(module, x, upstream, 3)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(got_input, expected_input)


@pytest.mark.parametrize(
    "module",
    [
        MLP(5, [8], 2, norm="layer"),
        MLP(5, [8], 2, activation="gelu"),
        MLP(5, [8], 2, dropout=0.1),
        nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten()),
        nn.Linear(5, 2, bias=False),
    ],
    ids=["layer norm", "gelu", "dropout", "convolution", "no bias"],
)
def test_unknown_parts_give_none(module):
    assert HandChain.of(module) is None


def test_backward_needs_gradients_to_write_into():
    module = MLP(5, [8], 2)
    chain = HandChain.of(module)
    tape: list = []
    chain.forward(torch.randn(3, 5), tape)
    with pytest.raises(ValueError, match="grad"):
        chain.backward(torch.randn(3, 2), tape)
    with pytest.raises(ValueError, match="tape has 0 entries"):
        chain.backward(torch.randn(3, 2), [])


def test_flat_gradients_are_written_in_place():
    torch.manual_seed(0)
    module = MLP(5, [8], 2)
    reference = copy.deepcopy(module)
    flat = FlatParameters(module)
    x, upstream = torch.randn(4, 5), torch.randn(4, 2)
    chain = HandChain.of(module)
    tape: list = []
    chain.forward(x, tape)
    chain.backward(upstream, tape)
    expected, _ = autograd_grads(reference, x, upstream, 4)
    torch.testing.assert_close(flat.param.grad, torch.cat([g.flatten() for g in expected]))


def test_numpy_forward_matches_and_follows_weight_changes():
    torch.manual_seed(0)
    module = build_encoder(MLPSpec(hidden=[16, 8]), gym.spaces.Box(-1, 1, (5,)))
    FlatParameters(module)
    chain = HandChain.of(module)
    x = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    np.testing.assert_allclose(
        chain.numpy_forward(x), module(torch.as_tensor(x)).detach(), rtol=1e-5, atol=1e-6
    )
    copy_of_x = x.copy()
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(-2.0)  # in place, as an optimiser step or load_state_dict writes
    np.testing.assert_allclose(
        chain.numpy_forward(x), module(torch.as_tensor(x)).detach(), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_array_equal(x, copy_of_x)  # the input is left alone


def test_numpy_forward_of_noisy_layers_reads_the_current_noise():
    torch.manual_seed(0)
    module = _stream(5, 3, [8], noisy=True)
    chain = HandChain.of(module)
    x = np.random.default_rng(0).normal(size=(2, 5)).astype(np.float32)
    for _ in range(2):
        expected = module(torch.as_tensor(x)).detach()
        np.testing.assert_allclose(chain.numpy_forward(x), expected, rtol=1e-5, atol=1e-5)
        reset_noise(module)
    module.eval()  # the mean weights only
    expected = module(torch.as_tensor(x)).detach()
    np.testing.assert_allclose(chain.numpy_forward(x), expected, rtol=1e-5, atol=1e-5)
    assert isinstance(module.layers[0], NoisyLinear)
