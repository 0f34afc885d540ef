"""Text maps for gridworlds: the file format, its parser and the shipped layouts.

A map file is plain UTF-8 text: optional ``key: value`` header lines, then a line ``grid:``,
then the grid, one line per row, one character per cell. Lines starting with ``#`` before
``grid:`` are comments, as are blank lines there. Example (Sutton & Barto's cliff walk)::

    # Cliff Walking, Sutton & Barto (2018) Example 6.6
    name: Cliff Walking
    step_reward: -1
    cliff_reward: -100
    terminals: G=0
    grid:
    ............
    ............
    ............
    SCCCCCCCCCCG

Header keys (all optional; defaults in brackets):

``name``            free text shown in titles [the file name]
``step_reward``     reward of every move that does not enter a cliff [0]
``slip``            probability that a move from a floor cell slips to one of the two
                    perpendicular directions (rotated ±90°, half each) [0]
``ice_slip``        the same for moves that start on an ice cell [2/3]
``wind``            one integer per column: cells the agent is pushed up after moving
                    (negative pushes down), using the wind of the column it moved from [0 ...]
``stochastic_wind`` ``true``/``false``: in columns with wind, the push is the given strength,
                    one more or one less, each with probability 1/3 [false]
``moves``           4 (up, right, down, left), 8 (plus the diagonals) or 9 (plus stay) [4]
``cliff_reward``    reward for entering a cliff cell, instead of ``step_reward`` [-100]
``hole_reward``     reward for entering a hole, added to ``step_reward`` [0]
``terminals``       terminal letters with their rewards, e.g. ``G=+1 N=-1``; entering one
                    gives ``step_reward`` plus its reward and ends the episode [none]

Numbers may be written as decimals or fractions (``2/3``).

Grid legend:

``.`` floor
``#`` wall: moves into it (or off the grid) leave the agent where it is
``S`` start (a floor cell); with several, the start is drawn uniformly among them
``C`` cliff: entering it gives ``cliff_reward`` and sends the agent back to a start cell
``~`` ice: moves starting here slip with probability ``ice_slip``
``O`` hole: entering it gives ``step_reward + hole_reward`` and ends the episode
``A``-``Z`` (except S, C, O) terminal cells declared in the ``terminals`` header

A move happens in two stages: first the move itself (blocked by walls and the grid's edge),
then the wind push, cell by cell, stopping at walls and the edge. The cell where the agent
ends decides the reward. Every map needs at least one start and at least one terminal cell
(a letter or a hole); whether a goal can be reached is not checked.

Anything else is refused with a :class:`MapError` naming the file, line and column.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

FLOOR = "."
WALL = "#"
START = "S"
CLIFF = "C"
ICE = "~"
HOLE = "O"
RESERVED_LETTERS = frozenset({START, CLIFF, HOLE})


class Cell(enum.IntEnum):
    """Cell types of a parsed grid (the start flag is kept apart: starts are floor cells)."""

    FLOOR = 0
    WALL = 1
    CLIFF = 2
    ICE = 3
    HOLE = 4
    TERMINAL = 5


_CHAR_TO_CELL = {
    FLOOR: Cell.FLOOR,
    START: Cell.FLOOR,
    WALL: Cell.WALL,
    CLIFF: Cell.CLIFF,
    ICE: Cell.ICE,
    HOLE: Cell.HOLE,
}

# Registered layout names -> data files in envs/gridworld/maps/.
LAYOUTS: Mapping[str, str] = MappingProxyType(
    {
        "sutton_barto_4x4": "sutton_barto_4x4.txt",
        "russell_norvig_4x3": "russell_norvig_4x3.txt",
        "cliff": "cliff_walking.txt",
        "windy": "windy_gridworld.txt",
        "windy_kings": "windy_gridworld_kings.txt",
        "windy_kings_stay": "windy_gridworld_kings_stay.txt",
        "windy_stochastic": "windy_gridworld_stochastic.txt",
        "slippery_ice": "slippery_ice.txt",
        "maze100": "maze_100x100.txt",
        "dyna_maze": "dyna_maze.txt",
        "blocking_maze_before": "blocking_maze_before.txt",
        "blocking_maze_after": "blocking_maze_after.txt",
        "shortcut_maze_before": "shortcut_maze_before.txt",
        "shortcut_maze_after": "shortcut_maze_after.txt",
    }
)


class MapError(ValueError):
    """A malformed map; the message reads ``<file>, line L, column C: <what was wrong>``."""

    def __init__(self, source: str, line: int, column: int, reason: str) -> None:
        super().__init__(f"{source}, line {line}, column {column}: {reason}")
        self.source = source
        self.line = line
        self.column = column
        self.reason = reason


@dataclass(frozen=True, eq=False)
class GridMap:
    """A parsed map: the grid rows as text plus the dynamics parameters from the header."""

    rows: tuple[str, ...]
    name: str = "gridworld"
    source: str = "<string>"
    step_reward: float = 0.0
    slip: float = 0.0
    ice_slip: float = 2.0 / 3.0
    wind: tuple[int, ...] = ()
    stochastic_wind: bool = False
    moves: int = 4
    cliff_reward: float = -100.0
    hole_reward: float = 0.0
    terminal_rewards: Mapping[str, float] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return len(self.rows[0])

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_rows, self.n_cols

    def wind_per_column(self) -> np.ndarray:
        """Wind strength per column [cells pushed up], zeros when the map has none."""
        if not self.wind:
            return np.zeros(self.n_cols, dtype=np.int64)
        return np.asarray(self.wind, dtype=np.int64)

    @property
    def has_wind(self) -> bool:
        return any(self.wind)

    def chars(self) -> np.ndarray:
        """The grid as a [rows, cols] array of one-character strings."""
        return np.array([list(row) for row in self.rows], dtype="<U1")

    def cell_types(self) -> np.ndarray:
        """[rows, cols] int8 array of :class:`Cell` values."""
        chars = self.chars()
        cells = np.full(chars.shape, Cell.TERMINAL, dtype=np.int8)
        for char, cell in _CHAR_TO_CELL.items():
            cells[chars == char] = cell
        return cells

    def start_mask(self) -> np.ndarray:
        """[rows, cols] bool array, True on start cells."""
        return self.chars() == START

    def terminal_reward_grid(self) -> np.ndarray:
        """[rows, cols] float64: each terminal letter's reward, 0 elsewhere."""
        chars = self.chars()
        out = np.zeros(chars.shape)
        for letter, reward in self.terminal_rewards.items():
            out[chars == letter] = reward
        return out

    def to_text(self) -> str:
        """The map in the file format; ``parse_map(m.to_text())`` gives back an equal map."""
        lines = [f"name: {self.name}", f"step_reward: {_fmt(self.step_reward)}"]
        if self.slip:
            lines.append(f"slip: {_fmt(self.slip)}")
        if ICE in "".join(self.rows):
            lines.append(f"ice_slip: {_fmt(self.ice_slip)}")
        if self.wind:
            lines.append("wind: " + " ".join(str(w) for w in self.wind))
        if self.stochastic_wind:
            lines.append("stochastic_wind: true")
        if self.moves != 4:
            lines.append(f"moves: {self.moves}")
        if CLIFF in "".join(self.rows):
            lines.append(f"cliff_reward: {_fmt(self.cliff_reward)}")
        if HOLE in "".join(self.rows):
            lines.append(f"hole_reward: {_fmt(self.hole_reward)}")
        if self.terminal_rewards:
            terms = " ".join(f"{k}={_fmt(v)}" for k, v in self.terminal_rewards.items())
            lines.append(f"terminals: {terms}")
        lines.append("grid:")
        lines.extend(self.rows)
        return "\n".join(lines) + "\n"


def _fmt(x: float) -> str:
    return repr(float(x)) if x != int(x) else str(int(x))


# ----------------------------------------------------------------------------------- parsing

_HEADER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*?)\s*$")
_TERMINAL_TOKEN = re.compile(r"^([A-Za-z])=(.+)$")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def _number(text: str) -> float:
    """A finite number from a decimal or a fraction such as ``2/3``; ValueError otherwise."""
    return float(Fraction(text.strip()))


def parse_map(text: str, source: str = "<string>") -> GridMap:
    """Parse map text (see the module docstring) into a :class:`GridMap`.

    ``source`` names the text in error messages (a file path, or ``<string>``).
    Raises :class:`MapError` for anything malformed.
    """
    lines = text.splitlines()
    header: dict[str, tuple[str, int, int]] = {}  # key -> (value, line, value column)
    grid_line = 0
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _HEADER.match(raw)
        if match is None:
            raise MapError(source, number, 1, f"expected 'key: value' or 'grid:', got {raw!r}")
        key = match.group(1)
        value = match.group(2)
        value_col = match.start(2) + 1
        if key == "grid":
            if value:
                raise MapError(source, number, value_col, "nothing may follow 'grid:'")
            grid_line = number
            break
        if key not in _HEADER_KEYS:
            known = ", ".join(sorted(_HEADER_KEYS))
            raise MapError(source, number, 1, f"unknown header key {key!r} (known: {known})")
        if key in header:
            raise MapError(source, number, 1, f"header key {key!r} given twice")
        header[key] = (value, number, value_col)
    if grid_line == 0:
        raise MapError(source, max(len(lines), 1), 1, "no 'grid:' line: the grid is missing")

    rows = _parse_grid(lines, grid_line, source)
    fields = _parse_header(header, source, n_cols=len(rows[0]))
    grid_text = "".join(rows)
    letters = {c for c in grid_text if c.isalpha() and c not in RESERVED_LETTERS}
    terminal_rewards: dict[str, float] = fields.get("terminal_rewards", {})
    for r, row in enumerate(rows):
        for c, char in enumerate(row):
            if char in letters and char not in terminal_rewards:
                raise MapError(
                    source,
                    grid_line + 1 + r,
                    c + 1,
                    f"terminal letter {char!r} has no reward in the 'terminals' header",
                )
    if START not in grid_text:
        raise MapError(source, grid_line, 1, f"the grid has no start cell {START!r}")
    if not letters and HOLE not in grid_text:
        raise MapError(
            source, grid_line, 1, "the grid has no terminal cell (a declared letter or a hole 'O')"
        )
    name = fields.pop("name", None) or (Path(source).stem if source != "<string>" else "gridworld")
    return GridMap(rows=tuple(rows), name=name, source=source, **fields)


def _parse_grid(lines: list[str], grid_line: int, source: str) -> list[str]:
    body = [line.rstrip() for line in lines[grid_line:]]
    while body and not body[-1]:
        body.pop()
    if not body:
        raise MapError(source, grid_line, 1, "the grid is empty")
    width = len(body[0])
    allowed = set(_CHAR_TO_CELL)
    for r, row in enumerate(body):
        number = grid_line + 1 + r
        for c, char in enumerate(row):
            if char not in allowed and not ("A" <= char <= "Z"):
                raise MapError(
                    source,
                    number,
                    c + 1,
                    f"unknown character {char!r} (legend: . floor, # wall, S start, C cliff, "
                    "~ ice, O hole, A-Z terminal letters)",
                )
        if len(row) != width:
            raise MapError(
                source,
                number,
                min(len(row), width) + 1,
                f"ragged grid: row has {len(row)} cells, the first row has {width}",
            )
    return body


def _parse_header(
    header: dict[str, tuple[str, int, int]], source: str, n_cols: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, (value, line, col) in header.items():
        try:
            out[key if key != "terminals" else "terminal_rewards"] = _HEADER_KEYS[key](
                value, n_cols
            )
        except _HeaderValueError as err:
            raise MapError(source, line, col + err.offset, f"{key}: {err}") from None
        except (ValueError, ZeroDivisionError, OverflowError):
            raise MapError(source, line, col, f"{key}: bad value {value!r}") from None
    return out


class _HeaderValueError(ValueError):
    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


def _probability(value: str, n_cols: int) -> float:
    p = _number(value)
    if not 0.0 <= p <= 1.0:
        raise _HeaderValueError(f"probability {value!r} is outside [0, 1]")
    return p


def _reward(value: str, n_cols: int) -> float:
    return _number(value)


def _name(value: str, n_cols: int) -> str:
    if not value:
        raise _HeaderValueError("the name is empty")
    return value


def _moves(value: str, n_cols: int) -> int:
    if value not in {"4", "8", "9"}:
        raise _HeaderValueError(f"moves must be 4, 8 or 9, got {value!r}")
    return int(value)


def _boolean(value: str, n_cols: int) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise _HeaderValueError(f"expected true or false, got {value!r}")


def _tokens(value: str) -> list[tuple[str, int]]:
    """Whitespace- or comma-separated tokens with their 0-based offsets in ``value``."""
    return [(m.group(0), m.start()) for m in re.finditer(r"[^\s,]+", value)]


def _wind(value: str, n_cols: int) -> tuple[int, ...]:
    winds = []
    for token, offset in _tokens(value):
        try:
            winds.append(int(token))
        except ValueError:
            raise _HeaderValueError(f"wind {token!r} is not an integer", offset) from None
    if len(winds) != n_cols:
        raise _HeaderValueError(f"{len(winds)} wind values for a grid of {n_cols} columns")
    return tuple(winds)


def _terminals(value: str, n_cols: int) -> Mapping[str, float]:
    rewards: dict[str, float] = {}
    tokens = _tokens(value)
    if not tokens:
        raise _HeaderValueError("expected letters with rewards such as 'G=+1 N=-1'")
    for token, offset in tokens:
        match = _TERMINAL_TOKEN.match(token)
        if match is None:
            raise _HeaderValueError(f"expected LETTER=REWARD, got {token!r}", offset)
        letter = match.group(1)
        if not letter.isupper() or letter in RESERVED_LETTERS:
            raise _HeaderValueError(
                f"terminal letter {letter!r} must be an uppercase letter other than S, C, O",
                offset,
            )
        if letter in rewards:
            raise _HeaderValueError(f"terminal letter {letter!r} given twice", offset)
        try:
            rewards[letter] = _number(match.group(2))
        except (ValueError, ZeroDivisionError, OverflowError):
            raise _HeaderValueError(f"bad reward {match.group(2)!r}", offset + 2) from None
    return MappingProxyType(rewards)


_HEADER_KEYS = {
    "name": _name,
    "step_reward": _reward,
    "slip": _probability,
    "ice_slip": _probability,
    "wind": _wind,
    "stochastic_wind": _boolean,
    "moves": _moves,
    "cliff_reward": _reward,
    "hole_reward": _reward,
    "terminals": _terminals,
}


# ----------------------------------------------------------------------------------- loading


def load_map(map_: str | os.PathLike[str] | GridMap) -> GridMap:
    """A :class:`GridMap` from a layout name in :data:`LAYOUTS`, a map file path or a GridMap.

    Raises FileNotFoundError for neither a layout nor a file, and :class:`MapError` for a file
    that is not UTF-8 text or not a valid map."""
    if isinstance(map_, GridMap):
        return map_
    if isinstance(map_, str) and map_ in LAYOUTS:
        resource = resources.files("envs.gridworld").joinpath("maps", LAYOUTS[map_])
        return parse_map(resource.read_text(encoding="utf-8"), source=f"maps/{LAYOUTS[map_]}")
    path = Path(map_)
    if not path.is_file():
        names = ", ".join(LAYOUTS)
        raise FileNotFoundError(f"{str(map_)!r} is neither a layout name ({names}) nor a file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        before = data[: err.start].decode("utf-8").split("\n")  # valid up to the bad byte
        raise MapError(str(path), len(before), len(before[-1]) + 1, "not UTF-8 text") from None
    return parse_map(text, source=str(path))


def maze_map(size: int = 100, seed: int = 0, braid: float = 0.1) -> GridMap:
    """A ``size`` x ``size`` maze: a random spanning-tree maze with a fraction ``braid`` of
    its inner walls knocked out (so that there are loops), start top-left, goal ``G`` near the
    centre, step reward -1. Same arguments, same maze. ``maze_map()`` is the ``maze100`` layout.
    """
    if size < 5:
        raise ValueError(f"size must be at least 5, got {size}")
    rng = np.random.default_rng(seed)
    grid = np.full((size, size), WALL, dtype="<U1")
    n = (size + 1) // 2  # lattice cells at even coordinates (2i, 2j)
    visited = np.zeros((n, n), dtype=bool)
    stack = [(0, 0)]
    visited[0, 0] = True
    grid[0, 0] = FLOOR
    steps = ((-1, 0), (0, 1), (1, 0), (0, -1))
    while stack:  # iterative depth-first carving
        i, j = stack[-1]
        options = [
            (i + di, j + dj)
            for di, dj in steps
            if 0 <= i + di < n and 0 <= j + dj < n and not visited[i + di, j + dj]
        ]
        if not options:
            stack.pop()
            continue
        ni, nj = options[rng.integers(len(options))]
        visited[ni, nj] = True
        grid[2 * ni, 2 * nj] = FLOOR
        grid[i + ni, j + nj] = FLOOR  # the wall between (2i, 2j) and (2ni, 2nj)
        stack.append((ni, nj))
    if size % 2 == 0:  # an even size leaves a last row and column: make them a corridor
        grid[-1, :] = FLOOR
        grid[:, -1] = FLOOR
    rr, cc = np.nonzero(grid == WALL)
    between = (rr + cc) % 2 == 1  # walls separating two lattice cells
    candidates = np.flatnonzero(between)
    knock = rng.choice(candidates, size=int(braid * len(candidates)), replace=False)
    grid[rr[knock], cc[knock]] = FLOOR
    grid[0, 0] = START
    centre = 2 * (n // 2)
    grid[centre, centre] = "G"
    return GridMap(
        rows=tuple("".join(row) for row in grid),
        name=f"Maze {size}x{size}",
        step_reward=-1.0,
        terminal_rewards=MappingProxyType({"G": 0.0}),
    )
