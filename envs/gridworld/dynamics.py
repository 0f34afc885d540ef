"""Gridworld dynamics: every (state, action) outcome of a :class:`GridMap`, computed at once.

The outcome arrays are the single source of truth: the env's ``P`` dict, its
:class:`TabularMDP` and the tables ``step`` samples from are all built from them.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

import numpy as np

from envs.gridworld.maps import Cell, GridMap


class Action(enum.IntEnum):
    """Moves, clockwise from up; the diagonals follow, then STAY (9-move maps only)."""

    UP = 0
    RIGHT = 1
    DOWN = 2
    LEFT = 3
    UP_RIGHT = 4
    DOWN_RIGHT = 5
    DOWN_LEFT = 6
    UP_LEFT = 7
    STAY = 8


# (row, col) change per action; rows grow downwards.
DELTAS = np.array(
    [(-1, 0), (0, 1), (1, 0), (0, -1), (-1, 1), (1, 1), (1, -1), (-1, -1), (0, 0)], dtype=np.int64
)


class Outcome(enum.IntEnum):
    """What a transition did, which decides how its reward splits into named terms."""

    MOVE = 0  # an ordinary move (possibly blocked): the step reward
    CLIFF = 1  # fell off the cliff: cliff reward, back to a start cell
    TERMINAL = 2  # entered a terminal letter: step reward + its reward, episode ends
    HOLE = 3  # fell into a hole: step reward + hole reward, episode ends
    ABSORBED = 4  # from a terminal or an unoccupiable cell: reward 0, terminated


class Outcomes(NamedTuple):
    """Flat outcome arrays, sorted by row ``sa = s * n_actions + a``, identical outcomes merged."""

    sa: np.ndarray  # [N] int64
    next_state: np.ndarray  # [N] int64
    prob: np.ndarray  # [N] float64
    reward: np.ndarray  # [N] float64
    terminated: np.ndarray  # [N] bool
    kind: np.ndarray  # [N] int8 Outcome
    row_ptr: np.ndarray  # [S*A + 1] int64: outcomes of row sa are [row_ptr[sa], row_ptr[sa+1])


def absorbing_mask(cells: np.ndarray) -> np.ndarray:
    """States that only loop onto themselves: terminals, holes and cells nobody can occupy
    (walls, and cliff cells, which send the agent back to the start before it stands there)."""
    return np.isin(cells, (Cell.WALL, Cell.CLIFF, Cell.HOLE, Cell.TERMINAL))


def build_outcomes(grid: GridMap) -> Outcomes:
    """All transition outcomes of ``grid`` (see the map format in :mod:`envs.gridworld.maps`)."""
    n_rows, n_cols = grid.shape
    n_states = n_rows * n_cols
    n_actions = grid.moves
    cells = grid.cell_types().ravel()
    starts = np.flatnonzero(grid.start_mask().ravel())
    terminal_reward = grid.terminal_reward_grid().ravel()
    wind = grid.wind_per_column()
    absorbing = absorbing_mask(cells)
    live = np.flatnonzero(~absorbing)

    # Branches per (live state, action): 3 slip directions x (3 or 1) wind strengths.
    deltas = DELTAS[:n_actions]
    clockwise = np.stack([deltas[:, 1], -deltas[:, 0]], axis=1)
    counter = np.stack([-deltas[:, 1], deltas[:, 0]], axis=1)
    directions = np.stack([deltas, clockwise, counter], axis=1)  # [A, 3, 2]
    p_slip = np.where(cells[live] == Cell.ICE, grid.ice_slip, grid.slip)
    p_direction = np.stack([1.0 - p_slip, p_slip / 2, p_slip / 2], axis=1)  # [L, 3]
    column_wind = wind[live % n_cols]
    if grid.stochastic_wind:
        offsets = np.array([-1, 0, 1])
        windy = (column_wind != 0)[:, None]
        push = column_wind[:, None] + offsets  # [L, 3]
        p_push = np.where(windy, 1.0 / 3.0, np.array([0.0, 1.0, 0.0]))
    else:
        push = column_wind[:, None]
        p_push = np.ones_like(push, dtype=np.float64)
    n_live, n_push = push.shape
    shape = (n_live, n_actions, 3, n_push)

    state: np.ndarray = np.broadcast_to(live[:, None, None, None], shape).ravel()
    action: np.ndarray = np.broadcast_to(np.arange(n_actions)[None, :, None, None], shape).ravel()
    d_row: np.ndarray = np.broadcast_to(directions[None, :, :, 0, None], shape).ravel()
    d_col: np.ndarray = np.broadcast_to(directions[None, :, :, 1, None], shape).ravel()
    prob: np.ndarray = np.broadcast_to(
        p_direction[:, None, :, None] * p_push[:, None, None, :], shape
    ).ravel()
    up: np.ndarray = np.broadcast_to(push[:, None, None, :], shape).ravel()
    keep = prob > 0
    state, action, d_row, d_col, prob, up = (
        x[keep] for x in (state, action, d_row, d_col, prob, up)
    )

    row, col = np.divmod(state, n_cols)
    # The move itself: blocked by the edge and by walls.
    new_row, new_col = row + d_row, col + d_col
    ok = (new_row >= 0) & (new_row < n_rows) & (new_col >= 0) & (new_col < n_cols)
    target = np.where(ok, new_row * n_cols + new_col, 0)
    ok &= cells[target] != Cell.WALL
    row = np.where(ok, new_row, row)
    col = np.where(ok, new_col, col)
    # Then the wind, one cell at a time, stopping at the edge or a wall.
    step = -np.sign(up)
    remaining = np.abs(up)
    for _ in range(int(remaining.max(initial=0))):
        candidate = row + step
        ok = (remaining > 0) & (candidate >= 0) & (candidate < n_rows)
        ok &= cells[np.where(ok, candidate * n_cols + col, 0)] != Cell.WALL
        row = np.where(ok, candidate, row)
        remaining = np.where(ok, remaining - 1, 0)
    landed: np.ndarray = row * n_cols + col
    landed_cell = cells[landed]

    kind: np.ndarray = np.full(landed.shape, Outcome.MOVE, dtype=np.int8)
    kind[landed_cell == Cell.CLIFF] = Outcome.CLIFF
    kind[landed_cell == Cell.TERMINAL] = Outcome.TERMINAL
    kind[landed_cell == Cell.HOLE] = Outcome.HOLE
    reward: np.ndarray = np.full(landed.shape, grid.step_reward)
    reward[kind == Outcome.CLIFF] = grid.cliff_reward
    reward += np.where(kind == Outcome.TERMINAL, terminal_reward[landed], 0.0)
    reward += np.where(kind == Outcome.HOLE, grid.hole_reward, 0.0)
    terminated: np.ndarray = (kind == Outcome.TERMINAL) | (kind == Outcome.HOLE)
    sa: np.ndarray = state * n_actions + action

    # A cliff sends the agent to a start cell, uniformly when there are several.
    fell = kind == Outcome.CLIFF
    if fell.any():
        n_starts = len(starts)
        sa = np.concatenate([sa[~fell], np.repeat(sa[fell], n_starts)])
        landed = np.concatenate([landed[~fell], np.tile(starts, int(fell.sum()))])
        prob = np.concatenate([prob[~fell], np.repeat(prob[fell] / n_starts, n_starts)])
        reward = np.concatenate([reward[~fell], np.repeat(reward[fell], n_starts)])
        terminated = np.concatenate([terminated[~fell], np.repeat(terminated[fell], n_starts)])
        kind = np.concatenate([kind[~fell], np.repeat(kind[fell], n_starts)])

    # Absorbing states loop onto themselves with reward 0, terminated.
    dead = np.flatnonzero(absorbing)
    dead_sa = (dead[:, None] * n_actions + np.arange(n_actions)).ravel()
    sa = np.concatenate([sa, dead_sa])
    landed = np.concatenate([landed, np.repeat(dead, n_actions)])
    prob = np.concatenate([prob, np.ones(len(dead_sa))])
    reward = np.concatenate([reward, np.zeros(len(dead_sa))])
    terminated = np.concatenate([terminated, np.ones(len(dead_sa), dtype=bool)])
    kind = np.concatenate([kind, np.full(len(dead_sa), Outcome.ABSORBED, dtype=np.int8)])

    # Merge identical (row, next state, reward, terminated) outcomes.
    order = np.lexsort((terminated, reward, landed, sa))
    sa, landed, prob, reward, terminated, kind = (
        x[order] for x in (sa, landed, prob, reward, terminated, kind)
    )
    new = np.ones(len(sa), dtype=bool)
    new[1:] = (
        (sa[1:] != sa[:-1])
        | (landed[1:] != landed[:-1])
        | (reward[1:] != reward[:-1])
        | (terminated[1:] != terminated[:-1])
    )
    first = np.flatnonzero(new)
    prob = np.add.reduceat(prob, first)
    sa, landed, reward, terminated, kind = (
        x[first] for x in (sa, landed, reward, terminated, kind)
    )
    row_ptr = np.searchsorted(sa, np.arange(n_states * n_actions + 1))
    return Outcomes(sa, landed, prob, reward, terminated, kind, row_ptr)


def reward_terms(grid: GridMap, outcomes: Outcomes) -> tuple[tuple[str, ...], np.ndarray]:
    """Names of the reward terms this map uses and their values per outcome ([N, terms]);
    each row sums to the outcome's reward."""
    text = "".join(grid.rows)
    kind = outcomes.kind
    columns = {"step": np.where(kind <= Outcome.HOLE, grid.step_reward, 0.0)}
    columns["step"][kind == Outcome.CLIFF] = 0.0
    if "C" in text:
        columns["cliff"] = np.where(kind == Outcome.CLIFF, grid.cliff_reward, 0.0)
    if grid.terminal_rewards:
        columns["terminal"] = np.where(
            kind == Outcome.TERMINAL, outcomes.reward - grid.step_reward, 0.0
        )
    if "O" in text:
        columns["hole"] = np.where(kind == Outcome.HOLE, grid.hole_reward, 0.0)
    names = tuple(columns)
    return names, np.stack([columns[n] for n in names], axis=1)
