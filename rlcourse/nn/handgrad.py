"""Forward and backward passes written out by hand for chains of linear layers.

Autograd records every operation of a forward pass and replays it backwards. For the small
MLPs of RL agents, whose steps are many small operations around a few matrix products, that
bookkeeping is a sizeable share of an update. `HandChain` computes the forward pass of a purely
sequential module tree made of `nn.Linear` and `NoisyLinear` layers, ReLU and Tanh
activations, `nn.Identity` and `ToFloat`, and its backward pass writes each parameter's
gradient straight into the parameter's ``.grad`` (which must exist; `FlatParameters` gives
every parameter one). ``HandChain.of(module)`` is None for any other tree: the caller then
uses autograd. Tests check both against autograd.

Typical use::

    tape = []
    out = chain.forward(x, tape)          # like module(x), remembering what backward needs
    chain.backward(grad_out, tape)        # parameter .grad = d(loss)/d(parameter)

`backward_to_input` also returns the gradient with respect to the input; `numpy_forward` runs
the chain in NumPy on views of the same weights (cheaper per call, for acting).

The forward may run on more rows than carry a gradient (a double-DQN update evaluates the
states and the next states in one pass): ``backward(grad, tape, rows=B)`` uses the first B rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from rlcourse.nn.chain import sequential_modules
from rlcourse.nn.heads import NoisyLinear
from rlcourse.nn.spec import ToFloat

Tape = list[Any]


class _Affine:
    """One `nn.Linear` or `NoisyLinear` (read at call time, so loaded weights are seen)."""

    def __init__(self, layer: nn.Linear | NoisyLinear):
        self.layer = layer

    def weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(weight, bias, noise outer product or None) as the layer's forward uses them."""
        layer = self.layer
        if isinstance(layer, nn.Linear):
            return layer.weight, layer.bias, None
        if not layer.training:
            return layer.weight_mu, layer.bias_mu, None
        noise = torch.outer(layer.eps_out, layer.eps_in)
        weight = torch.addcmul(layer.weight_mu, layer.weight_sigma, noise)
        return weight, torch.addcmul(layer.bias_mu, layer.bias_sigma, layer.eps_out), noise

    def numpy_step(self) -> tuple[str, Any, Any]:
        """This layer for `HandChain.numpy_forward`, as NumPy views of the parameters' (and
        noise buffers') memory: ("affine", weight transposed, bias), or for a noisy layer in
        training mode ("noisy", (mu_w transposed, sigma_w transposed, eps_in, eps_out),
        (mu_b, sigma_b))."""
        layer = self.layer

        def view(t: torch.Tensor) -> np.ndarray:
            return t.detach().numpy()

        if isinstance(layer, nn.Linear):
            return "affine", view(layer.weight).T, view(layer.bias)
        if not layer.training:
            return "affine", view(layer.weight_mu).T, view(layer.bias_mu)
        weights = (view(layer.weight_mu).T, view(layer.weight_sigma).T)
        noise = (view(layer.eps_in), view(layer.eps_out))
        return "noisy", (*weights, *noise), (view(layer.bias_mu), view(layer.bias_sigma))

    def forward(self, x: torch.Tensor, tape: Tape | None) -> torch.Tensor:
        weight, bias, noise = self.weights()
        if tape is not None:
            tape.append((x, weight, noise))
        return torch.addmm(bias, x, weight.t())

    def backward(self, grad: torch.Tensor, saved: Any, rows: int, input_grad: bool):
        x, weight, noise = saved
        x = x[:rows]
        layer = self.layer
        if isinstance(layer, nn.Linear):
            torch.mm(grad.t(), x, out=_grad_of(layer.weight))
            torch.sum(grad, 0, out=_grad_of(layer.bias))
        else:
            weight_grad = torch.mm(grad.t(), x, out=_grad_of(layer.weight_mu))
            bias_grad = torch.sum(grad, 0, out=_grad_of(layer.bias_mu))
            if noise is None:  # eval mode: sigma played no part
                _grad_of(layer.weight_sigma).zero_()
                _grad_of(layer.bias_sigma).zero_()
            else:
                torch.mul(weight_grad, noise, out=_grad_of(layer.weight_sigma))
                torch.mul(bias_grad, layer.eps_out, out=_grad_of(layer.bias_sigma))
        return torch.mm(grad, weight) if input_grad else None


class _Activation:
    def __init__(self, kind: str, in_place: bool):
        self.kind = kind
        self.in_place = in_place  # when its input is the fresh output of a linear layer

    def forward(self, x: torch.Tensor, tape: Tape | None) -> torch.Tensor:
        if self.in_place:
            y = x.relu_() if self.kind == "relu" else x.tanh_()
        else:
            y = x.relu() if self.kind == "relu" else x.tanh()
        if tape is not None:
            tape.append(y)
        return y

    def backward(self, grad: torch.Tensor, saved: Any, rows: int, input_grad: bool):
        y = saved[:rows]
        if self.kind == "relu":
            return torch.ops.aten.threshold_backward(grad, y, 0.0)
        return torch.ops.aten.tanh_backward(grad, y)


class _ToFloat:
    def __init__(self, module: ToFloat):
        self.module = module

    def forward(self, x: torch.Tensor, tape: Tape | None) -> torch.Tensor:
        if tape is not None:
            tape.append(x.shape)
        return self.module(x)

    def backward(self, grad: torch.Tensor, saved: Any, rows: int, input_grad: bool):
        shape = (rows, *saved[1:])
        return grad.reshape(shape) * self.module.scale if input_grad else None


def _step_for(module: nn.Module, after_linear: bool) -> _Affine | _Activation | _ToFloat | None:
    if isinstance(module, NoisyLinear) or (
        isinstance(module, nn.Linear) and module.bias is not None
    ):
        return _Affine(module)
    if isinstance(module, nn.ReLU):
        return _Activation("relu", in_place=after_linear)
    if isinstance(module, nn.Tanh):
        return _Activation("tanh", in_place=after_linear)
    if isinstance(module, ToFloat):
        return _ToFloat(module)
    return None


def _grad_of(param: torch.Tensor) -> torch.Tensor:
    if param.grad is None:
        raise ValueError("HandChain.backward writes into .grad: give every parameter one first")
    return param.grad


class HandChain:
    """A sequential module tree's forward and backward pass by hand (see the module doc)."""

    def __init__(self, steps: list[_Affine | _Activation | _ToFloat]):
        self._steps = steps
        self.parameters = [
            p for step in steps if isinstance(step, _Affine) for p in step.layer.parameters()
        ]
        # What the NumPy views read: the layers' parameters and noise buffers.
        self._viewed = [
            *self.parameters,
            *(b for s in steps if isinstance(s, _Affine) for b in s.layer.buffers()),
        ]
        self._numpy_key: tuple = ()
        self._numpy_program: list[tuple[str, Any, Any]] | None = None  # see `_numpy_steps`

    @classmethod
    def of(cls, module: nn.Module) -> HandChain | None:
        """The hand-differentiated twin of `module`, or None when it has parts this does not
        know (norms, dropout, convolutions, other activations, non-sequential containers)."""
        modules = sequential_modules(module)
        if modules is None:
            return None
        steps: list[_Affine | _Activation | _ToFloat] = []
        for leaf in modules:
            if isinstance(leaf, nn.Identity):
                continue
            step = _step_for(leaf, after_linear=bool(steps) and isinstance(steps[-1], _Affine))
            if step is None:
                return None
            steps.append(step)
        return cls(steps)

    def forward(self, x: torch.Tensor, tape: Tape | None = None) -> torch.Tensor:
        """The module's output for `x`; with a `tape`, what `backward` needs is appended to it.

        Runs without autograd: the output does not require a gradient."""
        with torch.no_grad():
            for step in self._steps:
                x = step.forward(x, tape)
        return x

    def numpy_forward(self, x: np.ndarray) -> np.ndarray:
        """The forward pass in NumPy, whose per-call cost is a fraction of torch's: for acting
        on a few observations. Reads the parameters' and noise buffers' memory directly (no
        copy), so it always sees the current weights and noise. A noisy layer computes
        ``mu_w x + eps_out * (sigma_w (eps_in * x))``, the factorised noise's product without
        forming the noisy weight."""
        for kind, a, b in self._numpy_steps():
            if kind == "affine":
                x = x @ a
                x += b
            elif kind == "noisy":
                mu_t, sigma_t, eps_in, eps_out = a
                noisy = ((x * eps_in) @ sigma_t) * eps_out
                x = x @ mu_t
                x += noisy
                x += b[0] + b[1] * eps_out
            elif kind == "relu":  # a: in place
                x = np.maximum(x, 0.0, out=x if a else None)
            elif kind == "tanh":
                x = np.tanh(x, out=x if a else None)
            else:  # to float: a the scale, b whether to flatten
                x = np.asarray(x, dtype=np.float32)
                x = x.reshape(len(x), -1) if b else x
                x = x * a if a != 1.0 else x
        return x

    def _numpy_steps(self) -> list[tuple[str, Any, Any]]:
        # The views stay valid while every tensor keeps its memory and each layer its mode.
        key = tuple(t.data_ptr() for t in self._viewed) + tuple(
            step.layer.training for step in self._steps if isinstance(step, _Affine)
        )
        if key != self._numpy_key:
            program: list[tuple[str, Any, Any]] = []
            for step in self._steps:
                if isinstance(step, _Affine):
                    program.append(step.numpy_step())
                elif isinstance(step, _Activation):
                    program.append((step.kind, step.in_place, None))
                else:
                    program.append(("float", step.module.scale, step.module.flatten))
            self._numpy_key, self._numpy_program = key, program
        assert self._numpy_program is not None
        return self._numpy_program

    def backward(self, grad: torch.Tensor, tape: Tape, rows: int | None = None) -> None:
        """Set every parameter's ``.grad`` from `grad`, the loss gradient [rows, out] of the
        output of the `forward` that filled `tape` (its first `rows` rows; all by default).
        Consumes the tape."""
        self._backward(grad, tape, rows, input_grad=False)

    def backward_to_input(
        self, grad: torch.Tensor, tape: Tape, rows: int | None = None
    ) -> torch.Tensor:
        """`backward`, also returning the loss gradient with respect to the input rows."""
        input_grad = self._backward(grad, tape, rows, input_grad=True)
        assert input_grad is not None
        return input_grad

    def _backward(
        self, grad: torch.Tensor, tape: Tape, rows: int | None, input_grad: bool
    ) -> torch.Tensor | None:
        if len(tape) != len(self._steps):
            raise ValueError(f"the tape has {len(tape)} entries for a chain of {len(self._steps)}")
        rows = grad.shape[0] if rows is None else rows
        with torch.no_grad():
            last = len(self._steps) - 1
            first_needed = 0 if input_grad else self._first_affine()
            for i in range(last, first_needed - 1, -1):
                saved = tape.pop()
                grad = self._steps[i].backward(grad, saved, rows, input_grad or i > first_needed)
        tape.clear()
        return grad if input_grad else None

    def _first_affine(self) -> int:
        for i, step in enumerate(self._steps):
            if isinstance(step, _Affine):
                return i
        return len(self._steps)
