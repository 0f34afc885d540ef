"""The game a config names, built through the game registry (``rlcourse.games``)."""

from __future__ import annotations

from agents.alphazero.config import GameConfig
from rlcourse import games
from rlcourse.games import Game


def make_game(config: GameConfig) -> Game:
    """The registered game ``config.name`` (Go-lite with the config's board size, komi,
    history planes and move cap, or tic-tac-toe); ``import envs`` registers both."""
    return games.make_game(config.name, config)
