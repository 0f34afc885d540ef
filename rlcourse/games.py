"""The two-player game protocol that MCTS and AlphaZero search through, its optional
capabilities, and the registry that turns a game's name into a game.

A game is a set of pure functions on immutable states (``envs.go.game.GoGame``,
``envs.tictactoe.TicTacToe``). Player 0 moves first; actions are indices below
``num_actions``. Search code needs only :class:`Game`; a game that can do more says so by
implementing one of the small capability protocols below, checked with ``isinstance``.

Game modules register themselves by name on import (``import envs`` registers ``go`` and
``tictactoe``), so code that only holds a config builds the game with :func:`make_game` and
never imports a concrete game.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

RESIGN = -1  # the action a player answers to resign (never a legal action index)

Player = Callable[[Any], int]  # state -> action (or RESIGN)


class Game(Protocol):
    """The small two-player game protocol."""

    num_actions: int

    def initial_state(self) -> Any: ...
    def current_player(self, state: Any) -> int: ...
    def legal_actions(self, state: Any) -> np.ndarray:
        """[num_actions] bool mask (all False once the game is over)."""
        ...

    def apply(self, state: Any, action: int) -> Any: ...
    def is_terminal(self, state: Any) -> bool: ...
    def returns(self, state: Any) -> tuple[float, float]:
        """(player 0, player 1) returns: +1 win, -1 loss, 0 draw or unfinished."""
        ...

    def planes(self, state: Any) -> np.ndarray:
        """[C, H, W] float32 features from the point of view of the player to move."""
        ...

    def symmetries(
        self, planes: np.ndarray, policy: np.ndarray
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The symmetric images of (planes, policy), identity first."""
        ...

    def ply(self, state: Any) -> int:
        """Moves played to reach ``state``."""
        ...


@runtime_checkable
class FastPlayouts(Protocol):
    """A game with its own random playouts (Go: in C, never filling the mover's own eyes)."""

    def random_action(self, state: Any, rng: np.random.Generator) -> int: ...
    def playout(self, state: Any, seed: int) -> tuple[float, float]:
        """(player 0, player 1) returns of a random playout from ``state``."""
        ...


@runtime_checkable
class Resignable(Protocol):
    """A game whose states record a resignation (Go: a resigned position scores as a loss)."""

    def resign(self, state: Any) -> Any:
        """The terminal state after the player to move resigns."""
        ...


@runtime_checkable
class AreaScored(Protocol):
    """A board game scored by area (Go): who owns each point at the end, and the margin."""

    def area_ownership(self, state: Any) -> np.ndarray:
        """[H, W] float32: +1 where player 0 owns the point, -1 where player 1 does, 0 for a
        neutral point, as the game's own scoring counts it."""
        ...

    def score_margin(self, state: Any) -> float:
        """Player 0's area minus player 1's, komi included [points]."""
        ...


class Example(NamedTuple):
    """A position of a recorded game: the state before the move, the move, and the game's
    outcome for the mover (+1, -1, 0)."""

    state: Any
    move: int
    outcome: float


@runtime_checkable
class GameRecords(Protocol):
    """A game with a record file format (Go: SGF)."""

    def to_sgf(self, start: Any, final: Any, *, black: str, white: str, event: str) -> str:
        """The game from ``start`` to ``final`` as record text."""
        ...

    def examples_from_sgf(self, path: str | Path) -> Sequence[Example]:
        """Every move of the file's main line as an example; raises on a malformed record or
        one that does not fit this game."""
        ...


@runtime_checkable
class OutsideEngine(Protocol):
    """A game an outside program plays (Go: GNU Go over GTP)."""

    def engine_player(self, level: int) -> Player:
        """A player backed by the engine at ``level``; it has a ``close()``."""
        ...


GameFactory = Callable[[Any], Game]  # a game's config (with the fields it reads) -> the game
GAME_ENTRY_POINTS = "rlcourse.games"  # the entry-point group of installed games (pyproject.toml)


def make_game(name: str, config: Any) -> Game:
    """The game installed as ``name`` (an entry point of the group ``rlcourse.games``, such as
    ``go = "envs.go.game:go_game"``), built from ``config`` (its fields: board size, komi...).

    Entry points, not imports, so that the core and the agents name no env package, and any
    process (a Ray worker too) finds the games the installed distributions declare.
    """
    found = {ep.name: ep for ep in entry_points(group=GAME_ENTRY_POINTS)}
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise KeyError(f"no game named {name!r} is installed (installed: {known})")
    factory: GameFactory = found[name].load()
    return factory(config)
