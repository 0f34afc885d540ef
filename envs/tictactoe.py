"""Tic-tac-toe as the small two-player game protocol that MCTS and AlphaZero search through
(:class:`rlcourse.games.Game`, registered on import as the game ``tictactoe``), an exact
minimax solver, and the Gymnasium env ``rlcourse/TicTacToe-v0`` (:class:`TicTacToeEnv`,
registered on import) against a random, minimax or callable opponent.

Cells are numbered ``row * 3 + col`` with row 0 at the top; an action is the cell to mark.
Player 0 (X) moves first. There is no pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.checks import check_choice
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

    def ply(self, state: TicTacToeState) -> int:
        return sum(cell != EMPTY for cell in state.board)

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


# ------------------------------------------------------------------------------- the env

Policy = Callable[[TicTacToeState], int]
AGENT_MARKS = {"x": 0, "o": 1, "random": None}
BUILT_IN_OPPONENTS = ("random", "minimax")
ILLEGAL_MOVE_RULES = ("raise", "lose")


class TicTacToeEnv(gym.Env):
    """Tic-tac-toe against a built-in or callable opponent, or two agents in turn.

    ## Action Space
    ``Discrete(9)``: the cell ``row * 3 + col`` to mark (row 0 at the top).

    ## Observation Space
    ``Dict``:

    - ``"observation"``: ``Box(0, 1, (3, 3, 3), float32)`` planes from the agent's point of
      view (the player to move when two agents take turns): own marks, opponent marks, ones
      when the agent plays X (:meth:`TicTacToe.planes`).
    - ``"action_mask"``: ``Box(0, 1, (9,), int8)``, 1 for empty cells while the game goes on
      (also in ``info["action_mask"]`` as bool).

    ## Rewards
    0 until the game ends, then +1 for a win, -1 for a loss and 0 for a draw [game result],
    from the agent's point of view; with two agents, from the point of view of the player who
    acted. ``info["rewards"]`` names the single term ``outcome``.

    ## Starting State
    An empty board, X to move. Against an opponent that plays X, its first mark is already on
    the board after ``reset``.

    ## Episode End
    Termination: three in a row, a full board, or an illegal action with
    ``illegal_move="lose"`` (the mover loses; ``info["illegal_move"]`` is True). No truncation.

    ## Arguments
    - ``opponent``: ``None`` (two agents take turns), ``"random"`` (a uniformly random empty
      cell), ``"minimax"`` (perfect play: a uniformly random one of the optimal cells, see
      :func:`optimal_actions`), or a callable ``(TicTacToeState) -> cell``. Both built-in
      opponents draw from ``self.np_random``.
    - ``agent_mark``: ``"x"`` (moves first), ``"o"`` or ``"random"`` (drawn at each reset).
    - ``illegal_move``: ``"raise"`` (ValueError naming the cell) or ``"lose"``. An opponent's
      illegal move is judged by the same rule.
    - ``render_mode``: ``None`` or ``"ansi"``.

    ``info`` also holds ``to_play`` (0 for X), ``winner`` (0, 1, or None) and, against an
    opponent, ``agent_mark`` and ``opponent_move``.

    ## Version History
    - v0: Initial version.
    """

    metadata = {  # noqa: RUF012 (gymnasium.Env API; see rlcourse.evaluation for the game keys)
        "render_modes": ["ansi"], "render_fps": 4, "players": 2, "return_range": (-1.0, 1.0),
        "info_labels": ("to_play", "winner", "opponent_move"),
    }  # fmt: skip

    def __init__(
        self,
        opponent: str | Policy | None = "minimax",
        agent_mark: str = "x",
        illegal_move: str = "raise",
        render_mode: str | None = None,
    ) -> None:
        check_choice("agent_mark", agent_mark, AGENT_MARKS)
        check_choice("illegal_move", illegal_move, ILLEGAL_MOVE_RULES)
        check_choice("render_mode", render_mode, self.metadata["render_modes"], optional=True)
        if not (opponent is None or callable(opponent) or opponent in BUILT_IN_OPPONENTS):
            raise ValueError(
                f"opponent must be None, one of {BUILT_IN_OPPONENTS} or a callable policy, "
                f"got {opponent!r}"
            )
        self.game = TicTacToe()
        self.opponent = opponent
        self.agent_mark_choice = agent_mark
        self.illegal_move = illegal_move
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(CELLS)
        self.observation_space = spaces.Dict(
            {
                "observation": spaces.Box(0.0, 1.0, TicTacToe.planes_shape, np.float32),
                "action_mask": spaces.Box(0, 1, (CELLS,), np.int8),
            }
        )
        self.state = self.game.initial_state()
        self.agent = AGENT_MARKS[agent_mark] or 0
        self._illegal = False
        if opponent is not None:  # one agent: outcomes are reported per mark
            self.metadata = {**self.metadata, "side_key": "agent_mark"}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        if options:
            raise ValueError(f"TicTacToeEnv.reset takes no options, got {sorted(options)}")
        choice = AGENT_MARKS[self.agent_mark_choice]
        self.agent = choice if choice is not None else int(self.np_random.integers(2))
        self.state = self.game.initial_state()
        self._illegal = False
        opponent_move = None
        if self.opponent is not None and self.agent == 1:
            opponent_move = self._opponent_turn()
        return self._observation(), self._info(self._perspective(None), opponent_move)

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if self.state.is_terminal:
            raise RuntimeError("step() called on a finished game; call reset()")
        mover = self.state.to_play
        self._play(int(action))
        opponent_move = None
        if self.opponent is not None and not self.state.is_terminal:
            opponent_move = self._opponent_turn()
        perspective = self._perspective(mover)
        info = self._info(perspective, opponent_move)
        return self._observation(), self._outcome(perspective), self.state.is_terminal, False, info

    def render(self) -> Any:  # the board as text ("ansi"), or None without a render mode
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to the env")
            return None
        return str(self.state)

    def _play(self, cell: int) -> None:
        """Mark ``cell`` for the mover; an illegal cell raises or (``"lose"``) loses."""
        if self.illegal_move == "lose" and not (
            0 <= cell < CELLS and self.game.legal_actions(self.state)[cell]
        ):
            self._illegal = True
            self.state = self.state._replace(winner=1 - self.state.to_play)
            return
        self.state = self.game.apply(self.state, cell)

    def _opponent_turn(self) -> int:
        state = self.state
        if callable(self.opponent):
            cell = int(self.opponent(state))
        elif self.opponent == "minimax":
            cell = int(self.np_random.choice(optimal_actions(state)))
        else:
            cell = int(self.np_random.choice(np.flatnonzero(self.game.legal_actions(state))))
        self._play(cell)
        return cell

    def _perspective(self, mover: int | None) -> int:
        """Whose point of view rewards and observations take: the agent's against an
        opponent, else the player who just acted (or is to act, at reset)."""
        if self.opponent is not None:
            return self.agent
        return mover if mover is not None else self.state.to_play

    def _outcome(self, player: int) -> float:
        if self.state.winner is None:
            return 0.0
        return 1.0 if self.state.winner == player else -1.0

    def _observation(self) -> dict[str, np.ndarray]:
        player = self.agent if self.opponent is not None else self.state.to_play
        return {
            "observation": self.game.planes(self.state._replace(to_play=player)),
            "action_mask": self.game.legal_actions(self.state).astype(np.int8),
        }

    def _info(self, perspective: int, opponent_move: int | None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "action_mask": self.game.legal_actions(self.state),
            "to_play": self.state.to_play,
            "winner": self.state.winner,
            "illegal_move": self._illegal,
            "rewards": {"outcome": self._outcome(perspective)},
        }
        if self.opponent is not None:
            info["agent_mark"] = "xo"[self.agent]
            info["opponent_move"] = opponent_move
        return info


def tictactoe_game(config: Any) -> TicTacToe:
    """The game installed as ``tictactoe`` (it reads nothing from the config)."""
    return TicTacToe()


if "rlcourse/TicTacToe-v0" not in gym.registry:
    gym.register(id="rlcourse/TicTacToe-v0", entry_point="envs.tictactoe:TicTacToeEnv")
