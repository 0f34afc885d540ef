"""A module's parameters as views of one flat tensor, for cheap optimiser steps on small nets.

An optimiser step, a gradient-norm clip and zeroing the gradients each cost a few operations
per parameter tensor; for the small networks of RL agents (a dozen tensors, a few thousand
numbers) that overhead, not the arithmetic, is most of the step. `FlatParameters` moves every
parameter of a module into one flat tensor and every gradient into one flat gradient (each
parameter and its ``.grad`` become views of them), so that an optimiser over
``[flat.param]`` updates the whole network in one operation and `clip_grad_norm` needs one
norm. The module is used as before: its forward, ``state_dict`` and ``load_state_dict`` (which
copies into the views) are unchanged.

Autograd accumulates into an existing ``.grad`` in place, which keeps the views. Call
`zero_grad` before each backward pass: it also puts back any gradient that other code set to
None or replaced (``module.zero_grad()``, another optimiser), so the flat gradient stays whole.
"""

from __future__ import annotations

import torch
from torch import nn


class FlatParameters:
    """The parameters of `module` moved into one flat leaf tensor ``param``.

    With ``gradients=False`` (a target network, say) no gradient is kept and ``param`` does
    not require one: the flat tensor is then just one tensor to copy or interpolate.
    """

    def __init__(self, module: nn.Module, gradients: bool = True) -> None:
        params = list(module.parameters())
        if not params:
            raise ValueError(f"{type(module).__name__} has no parameters")
        dtypes = {p.dtype for p in params}
        devices = {p.device for p in params}
        if len(dtypes) > 1 or len(devices) > 1:
            raise ValueError(
                f"flat parameters need one dtype and one device, got {sorted(map(str, dtypes))} "
                f"on {sorted(map(str, devices))}"
            )
        total = sum(p.numel() for p in params)
        dtype, device = params[0].dtype, params[0].device
        self.param = nn.Parameter(
            torch.empty(total, dtype=dtype, device=device), requires_grad=gradients
        )
        self.params = params
        self._grad_views: list[torch.Tensor] = []
        flat_grad = torch.zeros_like(self.param) if gradients else None
        offset = 0
        with torch.no_grad():
            for p in params:
                size = p.numel()
                view = self.param.data[offset : offset + size].view_as(p)
                view.copy_(p.data)
                p.data = view
                if flat_grad is not None:
                    self._grad_views.append(flat_grad[offset : offset + size].view_as(p))
                offset += size
        self.param.grad = flat_grad
        self.zero_grad()

    def zero_grad(self) -> None:
        """Zero every parameter's gradient (one operation on the flat gradient)."""
        for p, view in zip(self.params, self._grad_views, strict=False):
            if p.grad is not view:  # set to None or replaced elsewhere: put the view back
                p.grad = view
        if self.param.grad is not None:
            self.param.grad.zero_()

    def clip_grad_norm(self, max_norm: float) -> torch.Tensor:
        """Scale the gradient to a norm of at most `max_norm` (as ``clip_grad_norm_`` does,
        in two operations); returns the norm before clipping."""
        grad = self.param.grad
        if grad is None:
            raise ValueError("clip_grad_norm needs FlatParameters(..., gradients=True)")
        norm = torch.linalg.vector_norm(grad)
        grad.mul_((max_norm / (norm + 1e-6)).clamp_(max=1.0))
        return norm


def fused_adam(params: list[torch.Tensor], lr: float, eps: float = 1e-8) -> torch.optim.Adam:
    """Adam in one fused kernel where torch has one for these tensors, else multi-tensor."""
    try:
        return torch.optim.Adam(params, lr=lr, eps=eps, fused=True)
    except RuntimeError:  # no fused Adam for this device or dtype
        return torch.optim.Adam(params, lr=lr, eps=eps, foreach=True)
