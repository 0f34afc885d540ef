"""The recurrent student's loss and metric: cross-entropy and agreement over the real steps of
padded episodes (`demonstrations.pad_demonstrations`), for `rlcourse.supervised.fit`."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def sequence_cross_entropy(logits: torch.Tensor, targets: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Mean cross-entropy of logits [E, T, A] against actions [E, T] over the real steps
    (`targets` = (actions, valid [E, T]))."""
    actions, valid = targets
    losses = F.cross_entropy(logits.flatten(0, 1), actions.flatten(), reduction="none")
    return losses[valid.flatten()].mean()


def sequence_accuracy(logits: torch.Tensor, targets: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The fraction of real steps whose argmax is the teacher's action."""
    actions, valid = targets
    hits = (logits.argmax(dim=-1) == actions) & valid
    return hits.sum() / valid.sum()
