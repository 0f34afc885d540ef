"""Argument checks the environments share, with errors that name the argument and the choices."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def check_choice(name: str, value: Any, choices: Collection[Any], optional: bool = False) -> None:
    """ValueError unless `value` is one of `choices` (or None, when `optional`)."""
    if optional and value is None:
        return
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
