"""The agent contract every algorithm in `agents/` follows (see DESIGN.md, "Agent")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import gymnasium as gym

from rlcourse.config import AgentConfig
from rlcourse.runs import Run

EnvFactory = Callable[[], gym.Env]


@runtime_checkable
class Agent(Protocol):
    """Built as ``cls(config, observation_space, action_space, seed=...)``."""

    Config: ClassVar[type[AgentConfig]]

    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False
    ) -> Any:
        """The action for one observation; `deterministic` picks the greedy/mode action."""

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        """Train within `run`'s budget, logging and checkpointing through `run`."""

    def save(self, path: str | Path) -> None:
        """Write what `act` needs (tables or weights) to the file `path`."""

    def load(self, path: str | Path) -> None:
        """Restore what `save` wrote."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume learning exactly (tables, RNG states, counters)."""

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...
