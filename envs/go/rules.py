"""Go rules on an immutable state value: area scoring, positional superko, captures, passes.

The rules (Tromp-Taylor with a move cap):

- Boards are 5x5 to 19x19. Black moves first, or white after handicap stones.
- A move places a stone on an empty point, then removes opposing groups left without liberties.
  Suicide (a move whose own group ends with no liberty and captures nothing) is illegal.
- Positional superko: a move may not recreate any earlier position of the game (stones only,
  whoever is to play). Positions are compared by 64-bit Zobrist hash and a hash match is
  confirmed against the stored stones, so the decision is exact.
- Passing is always legal. The game ends after two consecutive passes, on resignation, or when
  ``move_cap`` moves (passes included) have been played.
- Score: area = stones + empty regions reaching only that colour; black wins when
  ``black area - white area - komi > 0``, white when it is negative, and it is a draw at 0.

Moves are ints: ``row * size + col`` with row 0 the top row, and ``size * size`` for pass
(``state.pass_move``). The rules run in the C extension :mod:`envs.go._core`; ``GoState`` adds
constructors and numpy views.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from envs.go import _core
from envs.go.coords import GTP_COLUMNS, to_gtp

EMPTY, BLACK, WHITE = 0, 1, 2
COLOUR_NAMES = {EMPTY: "empty", BLACK: "black", WHITE: "white"}
MIN_SIZE, MAX_SIZE = _core.MIN_SIZE, _core.MAX_SIZE
ILLEGAL_REASONS = ("occupied", "suicide", "superko", "off board", "game over")
STONE_CHARS = {EMPTY: ".", BLACK: "X", WHITE: "O"}


def opponent(colour: int) -> int:
    """The other colour: BLACK <-> WHITE."""
    return 3 - colour


class IllegalMoveError(ValueError):
    """A move the rules forbid; ``reason`` is one of :data:`ILLEGAL_REASONS`.

    ``move`` is the move index (None for a resignation after the game ended). ``str(err)``
    names the move in GTP form and the colour, e.g. ``"illegal move D4 for black: occupied"``.
    """

    def __init__(self, move: int | None, reason: str, colour: int, board_size: int) -> None:
        super().__init__(move, reason, colour, board_size)
        self.move, self.reason, self.colour, self.board_size = move, reason, colour, board_size

    def __str__(self) -> str:
        size = self.board_size
        if self.move is None:
            where = "resign"
        elif 0 <= self.move <= size * size:
            where = to_gtp(self.move, size)
        else:
            where = str(self.move)
        return f"illegal move {where} for {COLOUR_NAMES[self.colour]}: {self.reason}"


_core.setup(IllegalMoveError, np)


class Rollout(NamedTuple):
    """The outcome of a random playout."""

    winner: int  # BLACK, WHITE or EMPTY (draw)
    score: float  # black area - white area - komi of the final position [points]
    moves: int  # moves the playout played, passes included


def handicap_moves(stones: int, size: int) -> list[int]:
    """GTP ``fixed_handicap`` points for ``stones`` handicap stones, in GTP's order.

    Corners sit on the third line on boards up to 11x11 and on the fourth line from 12x12;
    7x7 and even sizes allow up to 4 stones, odd sizes from 9x9 up to 9.
    """
    if size < 7:
        raise ValueError(f"no fixed handicap on a {size}x{size} board (7x7 or larger needed)")
    most = 4 if size == 7 or size % 2 == 0 else 9
    if not 2 <= stones <= most:
        raise ValueError(
            f"handicap must be 0 or 2..{most} on a {size}x{size} board (GTP fixed_handicap), "
            f"got {stones}"
        )
    edge = 2 if size <= 11 else 3  # 0-based line of the corner points
    low, mid, high = edge, size // 2, size - 1 - edge
    # (row, col) with row 0 at the top: lower-left, upper-right, upper-left, lower-right, ...
    corners = [(high, low), (low, high), (low, low), (high, high)]
    sides = {
        "left": (mid, low), "right": (mid, high), "top": (low, mid), "bottom": (high, mid),
    }  # fmt: skip
    centre = (mid, mid)
    layout = {
        2: corners[:2],
        3: corners[:3],
        4: corners,
        5: [*corners, centre],
        6: [*corners, sides["left"], sides["right"]],
        7: [*corners, sides["left"], sides["right"], centre],
        8: [*corners, sides["left"], sides["right"], sides["top"], sides["bottom"]],
        9: [*corners, sides["left"], sides["right"], sides["top"], sides["bottom"], centre],
    }[stones]
    return [row * size + col for row, col in layout]


class GoState(_core.State):
    """A Go position with its game history; every method leaves the state unchanged.

    Attributes (read-only): ``board_size``, ``komi``, ``to_play``, ``move_number``,
    ``move_cap``, ``consecutive_passes``, ``last_move`` (None before the first move),
    ``moves`` (moves played since creation, passes included), ``captures`` (stones captured
    by black, by white), ``is_terminal``, ``winner`` (BLACK/WHITE/EMPTY once terminal, else
    None), ``resigned``, ``hash`` (Zobrist hash of the stones) and ``pass_move``.

    Implemented in C (see :mod:`envs.go._core`, each with its docstring): ``play(move)``,
    ``is_legal(move)``, ``illegal_reason(move)``, ``legal_mask()``, ``legal_moves()``,
    ``board()``, ``eye_mask(colour)``, ``ownership()``, ``planes(history, perspective)``,
    ``resign()``, ``copy()``, ``area()``, ``score()``, ``initial()`` and ``random_playout(seed)``.
    """

    __slots__ = ()

    # ------------------------------------------------------------------------ creation

    @classmethod
    def new(
        cls,
        board_size: int = 9,
        komi: float = 7.5,
        move_cap: int | None = None,
        handicap: int = 0,
    ) -> GoState:
        """An empty board (black to play), or ``handicap`` GTP fixed-handicap black stones
        with white to play. ``move_cap`` defaults to ``2 * board_size**2``."""
        if not MIN_SIZE <= board_size <= MAX_SIZE:
            raise ValueError(f"board size must be {MIN_SIZE}..{MAX_SIZE}, got {board_size}")
        board = np.zeros((board_size, board_size), dtype=np.int8)
        if handicap == 0:
            return cls.from_board(board, BLACK, komi, move_cap)
        for move in handicap_moves(handicap, board_size):
            board.flat[move] = BLACK
        return cls.from_board(board, WHITE, komi, move_cap)

    @classmethod
    def from_board(
        cls,
        board: np.ndarray | Any,
        to_play: int = BLACK,
        komi: float = 7.5,
        move_cap: int | None = None,
    ) -> GoState:
        """A state with the given stones ([N, N] of EMPTY/BLACK/WHITE, row 0 at the top) as
        the initial position; refuses boards with a group that has no liberty."""
        cells = np.asarray(board)
        if cells.ndim != 2 or cells.shape[0] != cells.shape[1]:
            raise ValueError(f"board must be a square [N, N] array, got shape {cells.shape}")
        if not np.issubdtype(cells.dtype, np.integer):
            raise ValueError(f"board must hold integers EMPTY/BLACK/WHITE, got {cells.dtype}")
        bad = (cells < EMPTY) | (cells > WHITE)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"board value {cells[row, col]} at row {row}, col {col} is not "
                "EMPTY (0), BLACK (1) or WHITE (2)"
            )
        size = cells.shape[0]
        if not math.isfinite(komi):
            raise ValueError(f"komi must be finite, got {komi}")
        cap = 2 * size * size if move_cap is None else int(move_cap)
        data = np.ascontiguousarray(cells, dtype=np.uint8).tobytes()
        return _core.new_state(cls, size, float(komi), cap, data, int(to_play))

    # ------------------------------------------------------------------------ playouts

    def rollout(self, seed: int) -> Rollout:
        """Play a random game to the end in C and return its outcome (no states built).

        Uniformly random legal moves for each side, never filling the mover's own
        single-point eyes (all neighbours its own, fewer than two opposing diagonals, none
        on the edge); a side passes only when no such move is left. Superko is checked by
        64-bit position hash. Same seed, same game.
        """
        winner, score, moves = super().rollout(seed)
        return Rollout(winner, score, moves)

    # -------------------------------------------------------------------------- display

    def __str__(self) -> str:
        n = self.board_size
        board = self.board()
        letters = "   " + " ".join(GTP_COLUMNS[:n])
        lines = [letters]
        for row in range(n):
            label = n - row
            stones = " ".join(STONE_CHARS[int(v)] for v in board[row])
            lines.append(f"{label:2d} {stones} {label}")
        lines.append(letters)
        if self.is_terminal:
            status = "game over: " + self._result_text()
        else:
            status = f"{COLOUR_NAMES[self.to_play]} to play"
        black, white = self.captures
        lines.append(f"move {self.move_number}, {status}, captures black {black} white {white}")
        return "\n".join(lines)

    def _result_text(self) -> str:
        if self.resigned is not None:
            return f"{COLOUR_NAMES[opponent(self.resigned)]} wins by resignation"
        score = self.score()
        if score == 0:
            return "draw"
        return f"{'B' if score > 0 else 'W'}+{abs(score):g}"

    def __repr__(self) -> str:
        return (
            f"GoState(board_size={self.board_size}, komi={self.komi}, "
            f"move_number={self.move_number}, to_play={COLOUR_NAMES[self.to_play]}, "
            f"hash={self.hash:#018x})"
        )

    # ---------------------------------------------------------------- copying, pickling

    def __copy__(self) -> GoState:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> GoState:
        return self.copy()

    def __reduce__(self) -> tuple[Any, ...]:
        data = self.state_data()
        return (_replay, (type(self), *data.values()))

    def state_data(self) -> dict[str, Any]:
        """This state as plain data (how checkpoints keep an env's position, see
        `rlcourse.env_state`); `from_state_data` rebuilds it."""
        start = self.initial()
        return {
            "board": start.board(),
            "to_play": start.to_play,
            "komi": self.komi,
            "move_cap": self.move_cap,
            "moves": tuple(self.moves),
            "resigned": self.resigned is not None,
        }

    @classmethod
    def from_state_data(cls, data: dict[str, Any]) -> GoState:
        keys = ("board", "to_play", "komi", "move_cap", "moves", "resigned")
        return _replay(cls, *(data[key] for key in keys))


def _replay(
    cls: type[GoState],
    board: np.ndarray,
    to_play: int,
    komi: float,
    move_cap: int,
    moves: tuple[int, ...],
    resigned: bool,
) -> GoState:
    """Rebuild a state from its initial position and moves (how states unpickle)."""
    state = cls.from_board(board, to_play, komi, move_cap)
    for move in moves:
        state = state.play(move)
    return state.resign() if resigned else state
