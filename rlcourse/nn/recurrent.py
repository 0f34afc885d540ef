"""Batch-first LSTM/GRU sequence encoders whose hidden state resets where episodes begin.

For recurrent PPO a rollout segment [B, T] can cross episode boundaries: ``starts[b, t]`` is
True when step t of row b is the first step of an episode, and the hidden state entering that
step is reset to zeros, exactly as if a fresh sequence began there. The sequence is cut only
at time steps where some row starts, so long stretches still run through cuDNN/MKL in one call.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal, TypeAlias

import torch
from torch import nn

from rlcourse.nn.layers import check_positive

#: LSTM: (h, c), each [num_layers, B, H]; GRU: h [num_layers, B, H].
Hidden: TypeAlias = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


def _zero_where(hidden: Hidden, reset: torch.Tensor) -> Hidden:
    """`hidden` with the rows where `reset` [B] is True set to zeros."""
    keep = ~reset.view(1, -1, 1)
    if isinstance(hidden, tuple):
        h, c = hidden
        return torch.where(keep, h, 0.0), torch.where(keep, c, 0.0)
    return torch.where(keep, hidden, 0.0)


class RecurrentEncoder(nn.Module):
    """[B, T, F] -> ([B, T, hidden_size], hidden) through an LSTM or a GRU (batch first)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 128,
        cell: Literal["lstm", "gru"] = "lstm",
        num_layers: int = 1,
    ):
        super().__init__()
        check_positive(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        if cell == "lstm":
            self.rnn: nn.LSTM | nn.GRU = nn.LSTM(
                input_size, hidden_size, num_layers, batch_first=True
            )
        elif cell == "gru":
            self.rnn = nn.GRU(input_size, hidden_size, num_layers, batch_first=True)
        else:
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.out_features = hidden_size

    def initial_state(self, batch_size: int, device: torch.device | str | None = None) -> Hidden:
        """The zero state for `batch_size` sequences."""
        shape = (self.num_layers, batch_size, self.hidden_size)
        h = torch.zeros(shape, device=device)
        return (h, torch.zeros(shape, device=device)) if self.cell == "lstm" else h

    def forward(
        self,
        x: torch.Tensor,
        hidden: Hidden | None = None,
        starts: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Hidden]:
        """Encode `x` [B, T, F] from `hidden` (zeros when None).

        `starts` [B, T] (bool) marks the first step of an episode; the state entering such a
        step is zeroed. Returns outputs [B, T, hidden_size] and the state after the last step.
        """
        if x.dim() != 3:
            raise ValueError(
                f"expected a batch-first sequence [B, T, F], got shape {list(x.shape)}"
            )
        batch, steps = x.shape[0], x.shape[1]
        if hidden is None:
            hidden = self.initial_state(batch, x.device)
        if starts is None:
            return self.rnn(x, hidden)
        if starts.shape != (batch, steps):
            raise ValueError(
                f"starts must have shape [B, T] = {[batch, steps]}, got {list(starts.shape)}"
            )
        starts = starts.to(torch.bool)
        cuts = torch.nonzero(starts[:, 1:].any(dim=0)).flatten().add(1).tolist()
        bounds = [0, *cuts, steps]
        outputs = []
        for lo, hi in pairwise(bounds):
            hidden = _zero_where(hidden, starts[:, lo])
            out, hidden = self.rnn(x[:, lo:hi], hidden)
            outputs.append(out)
        return torch.cat(outputs, dim=1), hidden
