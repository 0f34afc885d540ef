"""Go-lite: fast pure rules (C core), the game protocol for search, and a Gymnasium env.

Importing this registers ``rlcourse/Go-v0`` (:class:`envs.go.env.GoEnv`, wrapped in
:class:`envs.go.opponents.AgainstOpponent` when an ``opponent`` is named) and the game ``go``
(:func:`rlcourse.games.make_game`).
"""

from __future__ import annotations

import gymnasium

from envs.go.env import GoEnv
from envs.go.game import GoGame
from envs.go.opponents import AgainstOpponent, GnuGoPlayer, GtpPlayer
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
    gymnasium.register(id="rlcourse/Go-v0", entry_point="envs.go.opponents:make_go_env")

__all__ = [
    "BLACK",
    "EMPTY",
    "WHITE",
    "AgainstOpponent",
    "GnuGoPlayer",
    "GoEnv",
    "GoGame",
    "GoState",
    "GtpPlayer",
    "IllegalMoveError",
    "Rollout",
    "handicap_moves",
    "opponent",
]
