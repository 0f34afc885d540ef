"""Observation frames in slots that are handed out and given back explicitly.

`write` puts frames (and their action masks) into free slots and returns the slot numbers;
`free` gives slots back for reuse. Whoever holds a slot number decides when it is freed (see
`rlcourse.replay.uniform` for the rule that makes this safe when frames are shared). When no
free slot is left, the arrays grow by a quarter; this happens only when episodes end so often
that their final observations add noticeably to the frame count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

GROWTH = 0.25  # fraction of the current size added when every slot is taken


class FrameStore:
    """`frames[slot]` and, when masks are kept, `masks[slot]`."""

    def __init__(
        self, shape: tuple[int, ...], dtype: np.dtype, slots: int, mask_size: int | None = None
    ):
        self.frames = np.zeros((slots, *shape), dtype=dtype)
        self.masks = None if mask_size is None else np.zeros((slots, mask_size), dtype=bool)
        self._free = np.arange(slots - 1, -1, -1, dtype=np.int64)  # a stack: slot 0 pops first
        self._n_free = slots

    @property
    def slots(self) -> int:
        return len(self.frames)

    @property
    def in_use(self) -> int:
        return self.slots - self._n_free

    @property
    def nbytes(self) -> int:
        masks = 0 if self.masks is None else self.masks.nbytes
        return self.frames.nbytes + masks + self._free.nbytes

    def write(self, frames: np.ndarray, masks: np.ndarray | None = None) -> list[int]:
        """Store `frames` (and their `masks`, else all False) in free slots; the slots, in the
        order of `frames`."""
        count = len(frames)
        if count > self._n_free:
            self._grow(count - self._n_free)
        self._n_free -= count
        if count == 1:  # plain indexing: a fraction of the cost of fancy indexing
            slot = self._free.item(self._n_free)
            self.frames[slot] = frames[0]
            if self.masks is not None:
                self.masks[slot] = False if masks is None else masks[0]
            return [slot]
        slots = self._free[self._n_free : self._n_free + count][::-1]
        self.frames[slots] = frames
        if self.masks is not None:
            self.masks[slots] = False if masks is None else masks
        return slots.tolist()

    def free(self, slots: Sequence[int] | np.ndarray) -> None:
        """Give `slots` back, the first of them to be handed out first; each must have been
        written and not freed since."""
        count = len(slots)
        if count == 1:
            self._free[self._n_free] = slots[0]
        else:
            self._free[self._n_free : self._n_free + count] = slots[::-1]
        self._n_free += count

    def _grow(self, at_least: int) -> None:
        old = self.slots
        new = old + max(at_least, int(old * GROWTH), 1)
        self.frames = _extended(self.frames, new)
        if self.masks is not None:
            self.masks = _extended(self.masks, new)
        free = np.empty(new, dtype=np.int64)
        free[: self._n_free] = self._free[: self._n_free]
        free[self._n_free : self._n_free + new - old] = np.arange(new - 1, old - 1, -1)
        self._free = free
        self._n_free += new - old

    def state_dict(self) -> dict[str, Any]:
        return {
            "frames": self.frames.copy(),
            "masks": None if self.masks is None else self.masks.copy(),
            "free": self._free[: self._n_free].copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        frames = np.asarray(state["frames"])
        if frames.shape[1:] != self.frames.shape[1:] or frames.dtype != self.frames.dtype:
            raise ValueError(
                f"state holds frames of shape {frames.shape[1:]} and dtype {frames.dtype}, "
                f"this store keeps {self.frames.shape[1:]} {self.frames.dtype}"
            )
        if (state["masks"] is None) != (self.masks is None):
            raise ValueError("state and store disagree on whether action masks are kept")
        self.frames = frames.copy()
        self.masks = None if state["masks"] is None else np.array(state["masks"], dtype=bool)
        self._free = np.empty(len(frames), dtype=np.int64)
        self._n_free = len(state["free"])
        self._free[: self._n_free] = state["free"]


def _extended(array: np.ndarray, length: int) -> np.ndarray:
    """`array` padded with zeros along its first axis to `length`."""
    grown = np.zeros((length, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown
