"""Library backends: Stable-Baselines3 (`sb3.py`) and RLlib (`rllib.py`) trained from our configs.

Each writes our run directory (config.yaml, TensorBoard events, checkpoints/, eval.json from
`rlcourse.evaluation`) and is loaded back by `agents.training.load_agent`. The libraries are
imported only when a config asks for them, after `versions.require` has checked their versions.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

from agents.backends.versions import BackendVersionError, require
from rlcourse.config import ConfigError, ExperimentConfig

__all__ = [
    "BackendVersionError",
    "accepted_keywords",
    "backend_module",
    "check_backend",
    "require",
    "unknown_keys",
]

# backend name -> the distributions its module imports
LIBRARIES: dict[str, tuple[str, ...]] = {"sb3": ("stable-baselines3",), "rllib": ("ray",)}


def backend_module(name: str) -> ModuleType:
    """`agents.backends.<name>`, imported once its libraries' versions have been checked."""
    for distribution in LIBRARIES[name]:
        require(distribution)
    return importlib.import_module(f"agents.backends.{name}")


def check_backend(config: ExperimentConfig, source: str) -> None:
    """Refuse library settings the installed library would not accept (ConfigError naming the
    key), or a library outside its tested range (BackendVersionError)."""
    if config.backend.name not in LIBRARIES:
        return
    problems = backend_module(config.backend.name).backend_problems(config)
    if problems:
        raise ConfigError(source, problems)


def accepted_keywords(*functions: Callable[..., Any]) -> set[str]:
    """The named parameters of `functions` together (``self`` and ``**kwargs`` excluded)."""
    names: set[str] = set()
    for fn in functions:
        for name, p in inspect.signature(fn).parameters.items():
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                names.add(name)
    return names


def unknown_keys(
    given: Mapping[str, Any] | Iterable[str], allowed: set[str], where: str, what: str
) -> list[str]:
    """One problem line per key of `given` outside `allowed`, with the closest valid key."""
    problems = []
    for key in given:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(f"{where}.{key}: {what} takes no argument {key!r}{hint}")
    return problems
