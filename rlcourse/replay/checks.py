"""Argument checks shared by the replay modules; each error names the argument at fault."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np


def positive_int(value: Any, name: str) -> int:
    """`value` as an int, or a ValueError naming `name` unless it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def in_range(value: Any, name: str, low: float, high: float) -> float:
    """`value` as a float, or a ValueError naming `name` unless low <= value <= high."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    if not low <= float(value) <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    return float(value)


def index_array(indices: Any, name: str, size: int) -> np.ndarray:
    """`indices` as a 1-D int64 array, or a ValueError unless every entry is in [0, size)."""
    array = np.asarray(indices)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False)
    if array.size and (array.min() < 0 or array.max() >= size):
        raise ValueError(
            f"{name} must lie in [0, {size}), got values from {array.min()} to {array.max()}"
        )
    return array
