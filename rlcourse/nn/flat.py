"""A module's parameters as views of one flat tensor, for cheap optimiser steps on small nets.

An optimiser step, a gradient-norm clip and zeroing the gradients each cost a few operations
per parameter tensor; for the small networks of RL agents (a dozen tensors, a few thousand
numbers) that overhead, not the arithmetic, is most of the step. `FlatParameters` moves every
parameter of a module into one flat tensor and every gradient into one flat gradient (each
parameter and its ``.grad`` become views of them), so that an optimiser over
``[flat.param]`` updates the whole network in one operation and `clip_grad_norm` needs one
norm. The module is used as before: its forward, ``state_dict`` and ``load_state_dict`` (which
copies into the views) are unchanged.

Autograd accumulates into an existing ``.grad`` in place, which keeps the views; call
`zero_grad` (never ``optimizer.zero_grad(set_to_none=True)`` or ``module.zero_grad()``, which
would detach the gradients from the flat one) before each backward pass.
"""

from __future__ import annotations

import torch
from torch import nn


class FlatParameters:
    """The parameters of `module` moved into one flat leaf tensor ``param``."""

    def __init__(self, module: nn.Module) -> None:
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"{type(module).__name__} has no trainable parameters")
        dtypes = {p.dtype for p in params}
        devices = {p.device for p in params}
        if len(dtypes) > 1 or len(devices) > 1:
            raise ValueError(
                f"flat parameters need one dtype and one device, got {sorted(map(str, dtypes))} "
                f"on {sorted(map(str, devices))}"
            )
        total = sum(p.numel() for p in params)
        dtype, device = params[0].dtype, params[0].device
        self.param = nn.Parameter(torch.empty(total, dtype=dtype, device=device))
        self.param.grad = torch.zeros_like(self.param)
        self.params = params
        offset = 0
        with torch.no_grad():
            for p in params:
                size = p.numel()
                view = self.param.data[offset : offset + size].view_as(p)
                view.copy_(p.data)
                p.data = view
                p.grad = self.param.grad[offset : offset + size].view_as(p)
                offset += size

    def zero_grad(self) -> None:
        """Zero every parameter's gradient (one operation on the flat gradient)."""
        grad = self.param.grad
        if grad is None or any(p.grad is None for p in self.params):
            raise RuntimeError(
                "a gradient was set to None: zero gradients with FlatParameters.zero_grad only"
            )
        grad.zero_()

    def clip_grad_norm(self, max_norm: float) -> torch.Tensor:
        """Scale the gradient to a norm of at most `max_norm` (as ``clip_grad_norm_`` does,
        in two operations); returns the norm before clipping."""
        grad = self.param.grad
        assert grad is not None
        norm = torch.linalg.vector_norm(grad)
        grad.mul_((max_norm / (norm + 1e-6)).clamp_(max=1.0))
        return norm
