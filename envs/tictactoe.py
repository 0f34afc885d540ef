"""Tic-tac-toe as the small two-player game protocol that MCTS and AlphaZero search through
(the same protocol as :class:`envs.go.game.GoGame`), and an exact minimax solver.

Cells are numbered ``row * 3 + col`` with row 0 at the top; an action is the cell to mark.
Player 0 (X) moves first. There is no pass.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from envs.go.game import NUM_SYMMETRIES, transform_board

SIZE = 3
CELLS = SIZE * SIZE
EMPTY, X, O = 0, 1, 2  # cell contents; player p marks with p + 1
LINES = (
    (0, 1, 2), (3, 4, 5), (6, 7, 8),  # rows
    (0, 3, 6), (1, 4, 7), (2, 5, 8),  # columns
    (0, 4, 8), (2, 4, 6),  # diagonals
)  # fmt: skip


class TicTacToeState(NamedTuple):
    """A position: ``board`` holds 9 cells of EMPTY/X/O, ``to_play`` is 0 (X) or 1 (O),
    ``winner`` the player with three in a row (None while nobody has)."""

    board: tuple[int, ...]
    to_play: int
    winner: int | None = None

    @property
    def is_terminal(self) -> bool:
        return self.winner is not None or EMPTY not in self.board

    def __str__(self) -> str:
        marks = {EMPTY: ".", X: "X", O: "O"}
        rows = [" ".join(marks[c] for c in self.board[r * SIZE : (r + 1) * SIZE]) for r in range(3)]
        return "\n".join(rows)


def _three_in_a_row(board: tuple[int, ...], mark: int) -> bool:
    return any(board[a] == board[b] == board[c] == mark for a, b, c in LINES)


class TicTacToe:
    """Tic-tac-toe through the search protocol: initial state, legal actions, apply, terminal,
    returns, planes from the mover's point of view and the 8 board symmetries."""

    num_players = 2
    num_actions = CELLS
    board_size = SIZE
    planes_shape = (3, SIZE, SIZE)

    def initial_state(self) -> TicTacToeState:
        return TicTacToeState((EMPTY,) * CELLS, 0)

    def state_from_board(self, board: str) -> TicTacToeState:
        """A position from 9 characters of ``.XO`` (row by row, whitespace ignored); the mover
        follows from the counts (X moves first)."""
        cells = "".join(board.split())
        if len(cells) != CELLS or set(cells) - set(".XO"):
            raise ValueError(f"a board is 9 characters of '.', 'X', 'O', got {board!r}")
        xs, os_ = cells.count("X"), cells.count("O")
        if xs - os_ not in (0, 1):
            raise ValueError(f"X moves first, so X count - O count must be 0 or 1 in {board!r}")
        marks = tuple({".": EMPTY, "X": X, "O": O}[c] for c in cells)
        x_won, o_won = _three_in_a_row(marks, X), _three_in_a_row(marks, O)
        if x_won and o_won:
            raise ValueError(f"both players have three in a row in {board!r}")
        winner = 0 if x_won else 1 if o_won else None
        return TicTacToeState(marks, xs - os_, winner)

    def current_player(self, state: TicTacToeState) -> int:
        return state.to_play

    def legal_actions(self, state: TicTacToeState) -> np.ndarray:
        """[9] bool mask of the empty cells (all False once the game is over)."""
        if state.is_terminal:
            return np.zeros(CELLS, dtype=bool)
        return np.array(state.board, dtype=np.int8) == EMPTY

    def apply(self, state: TicTacToeState, action: int) -> TicTacToeState:
        action = int(action)
        if not 0 <= action < CELLS:
            raise ValueError(f"tic-tac-toe action must be a cell 0..8, got {action}")
        if state.is_terminal:
            raise ValueError(f"cell {action}: the game is over")
        if state.board[action] != EMPTY:
            raise ValueError(f"cell {action} is already marked")
        mark = state.to_play + 1
        board = (*state.board[:action], mark, *state.board[action + 1 :])
        winner = state.to_play if _three_in_a_row(board, mark) else None
        return TicTacToeState(board, 1 - state.to_play, winner)

    def is_terminal(self, state: TicTacToeState) -> bool:
        return state.is_terminal

    def returns(self, state: TicTacToeState) -> tuple[float, float]:
        """(X, O): +1 for the winner and -1 for the loser; zeros for a draw or an unfinished
        game."""
        if state.winner == 0:
            return (1.0, -1.0)
        if state.winner == 1:
            return (-1.0, 1.0)
        return (0.0, 0.0)

    def planes(self, state: TicTacToeState) -> np.ndarray:
        """[3, 3, 3] float32: the mover's marks, the opponent's marks, ones when X is to move."""
        board = np.array(state.board, dtype=np.int8).reshape(SIZE, SIZE)
        me = state.to_play + 1
        out = np.empty(self.planes_shape, dtype=np.float32)
        out[0] = board == me
        out[1] = board == 3 - me
        out[2] = state.to_play == 0
        return out

    def symmetries(
        self, planes: np.ndarray, policy: np.ndarray
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The 8 dihedral images of (planes [C, 3, 3], policy [9]), identity first; the same
        transform moves the planes and the policy."""
        if planes.shape[-2:] != (SIZE, SIZE):
            raise ValueError(f"planes must end in (3, 3), got {planes.shape}")
        if policy.shape != (CELLS,):
            raise ValueError(f"policy must have shape (9,), got {policy.shape}")
        grid = policy.reshape(SIZE, SIZE)
        return [
            (transform_board(planes, k), transform_board(grid, k).reshape(CELLS))
            for k in range(NUM_SYMMETRIES)
        ]


# ------------------------------------------------------------------------------- minimax


@functools.cache
def minimax_value(state: TicTacToeState) -> int:
    """The game-theoretic value for the player to move: +1 win, 0 draw, -1 loss."""
    if state.winner is not None:
        return 1 if state.winner == state.to_play else -1
    if state.is_terminal:
        return 0
    game = TicTacToe()
    return max(-minimax_value(game.apply(state, a)) for a in range(CELLS) if not state.board[a])


def optimal_actions(state: TicTacToeState) -> list[int]:
    """The cells whose value for the mover equals the position's minimax value."""
    if state.is_terminal:
        raise ValueError("no actions in a finished game")
    game, best = TicTacToe(), minimax_value(state)
    return [a for a in range(CELLS) if not state.board[a]
            and -minimax_value(game.apply(state, a)) == best]  # fmt: skip
