"""A model summary: each layer's output shape and parameter count, and the totals.

``print(summary(model, torch.zeros(1, 4)))`` runs one forward pass (in eval mode, without
gradients) and lists every leaf module and every module that owns parameters directly, in the
order they were first called. Each row counts the parameters its module owns directly, so
(without tied weights) the rows add up to the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class LayerRow:
    name: str  # dotted path inside the model
    kind: str  # class name
    output_shape: str  # e.g. "[1, 8]"; several outputs are listed in parentheses
    params: int  # parameters the module owns directly


@dataclass(frozen=True)
class ModelSummary:
    rows: list[LayerRow]
    total_params: int
    trainable_params: int

    def __str__(self) -> str:
        header = ("layer", "type", "output shape", "params")
        lines = [(r.name, r.kind, r.output_shape, f"{r.params:,}") for r in self.rows]
        widths = [max(len(row[i]) for row in [header, *lines]) for i in range(4)]

        def fmt(row: Sequence[str]) -> str:
            cells = [row[i].ljust(widths[i]) for i in range(3)] + [row[3].rjust(widths[3])]
            return "  ".join(cells).rstrip()

        rule = "-" * len(fmt(header))
        body = [fmt(header), rule, *(fmt(line) for line in lines), rule]
        body.append(f"total params: {self.total_params:,}")
        body.append(f"trainable params: {self.trainable_params:,}")
        body.append(f"non-trainable params: {self.total_params - self.trainable_params:,}")
        return "\n".join(body)


def _shape_of(output: Any) -> str:
    if isinstance(output, torch.Tensor):
        return str(list(output.shape))
    if isinstance(output, Sequence) and not isinstance(output, str):
        shapes = [_shape_of(o) for o in output]
        return "(" + ", ".join(s for s in shapes if s) + ")"
    if isinstance(output, torch.distributions.Distribution):
        return f"{type(output).__name__}{list(output.batch_shape)}"
    return ""


def _owns_parameters(module: nn.Module) -> bool:
    return any(True for _ in module.parameters(recurse=False))


def _call(model: nn.Module, example_input: Any) -> Any:
    if isinstance(example_input, Mapping):
        return model(**example_input)
    if isinstance(example_input, tuple | list):
        return model(*example_input)
    return model(example_input)


def summary(model: nn.Module, example_input: Any) -> ModelSummary:
    """Summarise `model` on `example_input` (a tensor; a tuple/list of positional arguments;
    or a mapping of keyword arguments)."""
    shapes: dict[str, str] = {}
    order: list[str] = []
    handles = []
    for name, module in model.named_modules():
        owns = _owns_parameters(module)
        is_leaf = not any(True for _ in module.children())
        if not (owns or is_leaf) or (module is model and not owns):
            continue

        def hook(_module: nn.Module, _args: Any, output: Any, name: str = name) -> None:
            if name not in shapes:
                shapes[name] = _shape_of(output)
                order.append(name)

        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            _call(model, example_input)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    modules = dict(model.named_modules())
    called = order + [  # modules the forward pass never reached still own parameters
        n for n, m in modules.items() if n not in shapes and _owns_parameters(m)
    ]
    rows = [
        LayerRow(
            n or "(model)",
            type(modules[n]).__name__,
            shapes.get(n, "(not called)"),
            sum(p.numel() for p in modules[n].parameters(recurse=False)),
        )
        for n in called
    ]
    unique = {id(p): p for p in model.parameters()}.values()
    return ModelSummary(
        rows,
        total_params=sum(p.numel() for p in unique),
        trainable_params=sum(p.numel() for p in unique if p.requires_grad),
    )
