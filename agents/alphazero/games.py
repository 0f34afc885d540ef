"""The game a config names, built as the small game protocol search code plays."""

from __future__ import annotations

from agents.alphazero.config import GameConfig
from agents.alphazero.mcts import Game
from envs.go.game import GoGame
from envs.tictactoe import TicTacToe


def make_game(config: GameConfig) -> Game:
    """Go-lite with the config's board size, komi, history planes and move cap, or
    tic-tac-toe."""
    if config.name == "tictactoe":
        return TicTacToe()
    return GoGame(config.board_size, config.komi, config.history, config.move_cap)
