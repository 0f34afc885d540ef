"""Which stones are dead at the end of a game, judged by random playouts.

Area scoring (:meth:`GoState.score`) counts every stone on the board as alive; a game that ends
by two passes with dead stones still standing is scored as if they lived. GTP controllers ask an
engine which stones it considers dead (``final_status_list``), and an engine in the cleanup
phase (``kgs-genmove_cleanup``) must capture them. This module decides it the Monte Carlo way:

- From the position, ``PLAYOUTS`` random games are played to the end
  (:meth:`GoState.random_playout`: uniformly random legal moves that never fill the mover's
  own single-point eye; half of them with black moving first, half with white). Each final
  position is owned point by point under the Tromp-Taylor rule (:meth:`GoState.ownership`).
- A chain of stones is **dead** when, averaged over its points and the playouts, the opponent
  owned them more often than the chain's own colour did; otherwise it is alive.

This is a judgement for finished games, where territories are closed off: on GNU Go's own
finished 9x9 games it names the same dead stones as GNU Go's ``final_status_list dead``
(tests/test_gtp_commands.py). Random playouts are weak judges of open fights: a lone stone in a
wide, still open area, or a long wall without eyes yet, can be called either way.

Seki is not told apart from life: random playouts fill shared liberties and so break seki
about as often as not, which makes the estimate unreliable there. Under area scoring seki stones
count like living ones, so listing them as alive changes no score.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from envs.go.rules import BLACK, EMPTY, WHITE, GoState, opponent

PLAYOUTS = 128  # random games per judgement: about 10 ms on 9x9, 50 ms on 19x19


class Chain(NamedTuple):
    """A maximal 4-connected group of one colour's stones."""

    colour: int
    points: np.ndarray  # move indices, ascending


def chains(board: np.ndarray) -> list[Chain]:
    """Every chain on ``board`` ([N, N] EMPTY/BLACK/WHITE), black's first, each in order of its
    lowest point."""
    from scipy import ndimage  # here, not at the top: `import envs` stays light

    found = []
    for colour in (BLACK, WHITE):
        labels, count = ndimage.label(board == colour)  # 4-connectivity by default
        flat = labels.ravel()
        found += [Chain(colour, np.flatnonzero(flat == k)) for k in range(1, count + 1)]
    return found


def liberties(board: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The empty points next to any of ``points`` (move indices), ascending."""
    from scipy import ndimage

    mask = np.zeros(board.shape, dtype=bool)
    mask.flat[points] = True
    grown = ndimage.binary_dilation(mask)  # the cross: each point and its 4 neighbours
    return np.flatnonzero(grown.ravel() & (board.ravel() == EMPTY))


def playout_ownership(state: GoState, playouts: int = PLAYOUTS, seed: int = 0) -> np.ndarray:
    """[N, N] float: mean Tromp-Taylor ownership of the stones of ``state`` played out at random
    ``playouts`` times (+1 black always owned the point, -1 white always did)."""
    if playouts < 1:
        raise ValueError(f"playouts must be at least 1, got {playouts}")
    board = state.board()
    total = np.zeros(board.shape, dtype=np.float64)
    for k in range(playouts):
        # from the stones alone: a finished game (two passes) is played on as if it went on
        start = GoState.from_board(board, to_play=BLACK if k % 2 == 0 else WHITE, komi=state.komi)
        total += start.random_playout(seed + k).ownership()
    return total / playouts


def dead_chains(state: GoState, playouts: int = PLAYOUTS, seed: int = 0) -> list[Chain]:
    """The chains of ``state`` that the playouts judge dead (see the module docstring)."""
    owned = playout_ownership(state, playouts, seed).ravel()
    dead = []
    for chain in chains(state.board()):
        sign = 1.0 if chain.colour == BLACK else -1.0
        if sign * owned[chain.points].mean() < 0:
            dead.append(chain)
    return dead


def cleanup_move(state: GoState, dead: list[Chain]) -> int | None:
    """A move for the player to move that takes a liberty from a dead opposing chain: next to
    the dead chain with the fewest liberties (a capture first), the lowest such point; never a
    fill of its own single-point eye. None when no dead opposing chain has such a liberty."""
    board = state.board()
    allowed = state.legal_mask()[:-1] & ~state.eye_mask(state.to_play)
    targets = [c for c in dead if c.colour == opponent(state.to_play)]
    best: tuple[int, int] | None = None  # (liberties of the chain, move)
    for chain in targets:
        libs = liberties(board, chain.points)
        playable = libs[allowed[libs]]
        if playable.size and (best is None or (libs.size, int(playable[0])) < best):
            best = (libs.size, int(playable[0]))
    return None if best is None else best[1]
