"""`GoGame`: the small two-player game protocol (:class:`rlcourse.games.Game`) that MCTS and
AlphaZero search through, with Go's capabilities: C playouts, final area ownership and margin,
resignation, SGF records and GNU Go as an outside engine. ``import envs.go`` registers it as the
game ``go``.

States are :class:`GoState` values; actions are move indices (``N * N`` is pass). Player 0 is
black and player 1 white.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from envs.go.rules import BLACK, EMPTY, WHITE, GoState
from rlcourse.games import Example, Player

NUM_SYMMETRIES = 8


def transform_board(array: np.ndarray, k: int) -> np.ndarray:
    """Dihedral transform ``k`` (0..7) of the last two axes: ``k % 4`` quarter turns
    counter-clockwise, then a transpose when ``k >= 4``; 0 is the identity."""
    if not 0 <= k < NUM_SYMMETRIES:
        raise ValueError(f"symmetry index must be 0..7, got {k}")
    out = np.rot90(array, k % 4, axes=(-2, -1))
    if k >= 4:
        out = np.swapaxes(out, -2, -1)
    return np.ascontiguousarray(out)


def symmetry_maps(size: int) -> np.ndarray:
    """[8, N*N] int: ``maps[k][i]`` is the point that lands on point ``i`` under transform k."""
    points = np.arange(size * size).reshape(size, size)
    return np.stack([transform_board(points, k).ravel() for k in range(NUM_SYMMETRIES)])


def transform_policy(policy: np.ndarray, k: int, size: int) -> np.ndarray:
    """Transform ``k`` of a vector over the N*N points and pass (the pass entry stays put)."""
    if policy.shape[-1] != size * size + 1:
        raise ValueError(f"policy must have {size * size + 1} entries, got {policy.shape[-1]}")
    points = policy[..., : size * size].reshape(*policy.shape[:-1], size, size)
    moved = transform_board(points, k).reshape(*policy.shape[:-1], size * size)
    return np.concatenate([moved, policy[..., size * size :]], axis=-1)


def transform_move(move: int, k: int, size: int) -> int:
    """Where ``move`` lands under transform ``k`` (pass stays pass)."""
    if move == size * size:
        return move
    return int(np.flatnonzero(symmetry_maps(size)[k] == move)[0])


class GoGame:
    """Go as the search protocol: initial state, legal actions, apply, terminal, returns,
    planes from the mover's point of view, the 8 board symmetries and the ply; and as
    :class:`rlcourse.games.FastPlayouts`, ``AreaScored``, ``Resignable``, ``GameRecords`` and
    ``OutsideEngine``.

    ``history``: past positions in the planes (``5 + 2 * history`` planes, see
    :meth:`GoState.planes`).
    """

    num_players = 2

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        history: int = 3,
        move_cap: int | None = None,
    ) -> None:
        if history < 0:
            raise ValueError(f"history must be >= 0, got {history}")
        self.start = GoState.new(board_size, komi, move_cap)
        self.board_size = board_size
        self.komi = komi
        self.history = history
        self.num_actions = board_size * board_size + 1
        self.planes_shape = (5 + 2 * history, board_size, board_size)

    def initial_state(self) -> GoState:
        return self.start

    def current_player(self, state: GoState) -> int:
        """0 when black is to move, 1 for white."""
        return 0 if state.to_play == BLACK else 1

    def legal_actions(self, state: GoState) -> np.ndarray:
        """[num_actions] bool mask (all False once the game is over)."""
        return state.legal_mask()

    def apply(self, state: GoState, action: int) -> GoState:
        return state.play(action)

    def is_terminal(self, state: GoState) -> bool:
        return state.is_terminal

    def returns(self, state: GoState) -> tuple[float, float]:
        """(black, white): +1 for the winner, -1 for the loser, zeros for a draw or an
        unfinished game."""
        winner = state.winner
        if winner == BLACK:
            return (1.0, -1.0)
        if winner == WHITE:
            return (-1.0, 1.0)
        return (0.0, 0.0)

    def planes(self, state: GoState) -> np.ndarray:
        """[5 + 2 * history, N, N] float32 features from the mover's point of view."""
        return state.planes(self.history)

    def symmetries(
        self, planes: np.ndarray, policy: np.ndarray
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The 8 dihedral images of (planes [C, N, N], policy [N*N + 1]), identity first; the
        same transform moves the planes and the policy, and pass stays put."""
        n = self.board_size
        if planes.shape[-2:] != (n, n):
            raise ValueError(f"planes must end in ({n}, {n}), got {planes.shape}")
        if policy.shape != (self.num_actions,):
            raise ValueError(f"policy must have shape ({self.num_actions},), got {policy.shape}")
        return [
            (transform_board(planes, k), transform_policy(policy, k, n))
            for k in range(NUM_SYMMETRIES)
        ]

    def ply(self, state: GoState) -> int:
        return len(state.moves)

    # ------------------------------------------------------------------ capabilities

    def random_action(self, state: GoState, rng: np.random.Generator) -> int:
        """A uniformly random legal move that does not fill the mover's own eye (pass when
        there is none)."""
        moves = np.flatnonzero(state.legal_mask()[:-1] & ~state.eye_mask(state.to_play))
        return int(rng.choice(moves)) if moves.size else state.pass_move

    def playout(self, state: GoState, seed: int) -> tuple[float, float]:
        """(black, white) returns of a random playout played in C (:meth:`GoState.rollout`)."""
        winner = state.rollout(seed).winner
        if winner == EMPTY:
            return (0.0, 0.0)
        return (1.0, -1.0) if winner == BLACK else (-1.0, 1.0)

    def area_ownership(self, state: GoState) -> np.ndarray:
        """[N, N] float32 Tromp-Taylor ownership, the one :meth:`GoState.score` counts: +1
        black's stones and territory, -1 white's, 0 neutral (every stone counts as alive)."""
        return state.ownership().astype(np.float32)

    def score_margin(self, state: GoState) -> float:
        """Black's area minus white's, minus komi [points]."""
        return float(state.score())

    def resign(self, state: GoState) -> GoState:
        return state.resign()

    def to_sgf(self, start: GoState, final: GoState, *, black: str, white: str, event: str) -> str:
        """The game from ``start`` to ``final`` as SGF text (no date)."""
        from envs.go.sgf import format_sgf, game_record

        record = game_record(start, final, black=black, white=white, event=event, date="")
        return format_sgf(record)

    def examples_from_sgf(self, path: str | Path) -> list[Example]:
        """Every move of the main line of the file's first game; a record whose board size or
        komi differs from this game's raises :class:`envs.go.sgf.SgfError` naming the file."""
        from envs.go.sgf import sgf_to_examples

        return [Example(e.state, e.move, e.outcome) for e in sgf_to_examples(path, self)]

    def engine_player(self, level: int) -> Player:
        """GNU Go at ``level`` over GTP (:class:`envs.go.opponents.GnuGoPlayer`)."""
        from envs.go.opponents import GnuGoPlayer

        return GnuGoPlayer(self.board_size, self.komi, level)


def go_game(config: Any) -> GoGame:
    """The game registered as ``go``: from a config's ``board_size``, ``komi``, ``history`` and
    ``move_cap``."""
    return GoGame(config.board_size, config.komi, config.history, config.move_cap)
