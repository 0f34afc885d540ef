"""Go-lite: fast pure rules (C core), the game protocol for search, and a Gymnasium env.

Importing this registers ``rlcourse/Go-v0`` (:class:`envs.go.env.GoEnv`) and the game ``go``
(:func:`rlcourse.games.make_game`).
"""

from __future__ import annotations

import gymnasium

from envs.go.env import GoEnv
from envs.go.game import GoGame
from envs.go.rules import (
    BLACK,
    EMPTY,
    WHITE,
    GoState,
    IllegalMoveError,
    Rollout,
    handicap_moves,
    opponent,
)

if "rlcourse/Go-v0" not in gymnasium.registry:
    gymnasium.register(id="rlcourse/Go-v0", entry_point="envs.go.env:GoEnv")

__all__ = [
    "BLACK",
    "EMPTY",
    "WHITE",
    "GoEnv",
    "GoGame",
    "GoState",
    "IllegalMoveError",
    "Rollout",
    "handicap_moves",
    "opponent",
]
