"""Move index <-> GTP vertex and SGF point.

A move is ``row * size + col`` with row 0 the top row, or ``size * size`` for pass. GTP vertices
name the column by letter (A..T, skipping I) and the row by number counting from the bottom
(``"D4"``); SGF points are two letters, column then row, counting from the top-left (``"dd"``).
"""

from __future__ import annotations

GTP_COLUMNS = "ABCDEFGHJKLMNOPQRST"  # no I: GTP skips it
MAX_SIZE = len(GTP_COLUMNS)
SGF_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _check_size(size: int) -> None:
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"board size must be 1..{MAX_SIZE} for coordinates, got {size}")


def _check_move(move: int, size: int) -> None:
    _check_size(size)
    if not 0 <= move <= size * size:
        raise ValueError(f"move {move} is off a {size}x{size} board (0..{size * size})")


def to_gtp(move: int, size: int) -> str:
    """GTP vertex of ``move`` (``"D4"``), or ``"pass"``."""
    _check_move(move, size)
    if move == size * size:
        return "pass"
    row, col = divmod(move, size)
    return f"{GTP_COLUMNS[col]}{size - row}"


def from_gtp(vertex: str, size: int) -> int:
    """Move index of a GTP vertex (case-insensitive); ``"pass"`` gives ``size * size``."""
    _check_size(size)
    text = vertex.strip().upper()
    if text == "PASS":
        return size * size
    if len(text) < 2 or not text[0].isalpha() or not text[1:].isdigit():
        raise ValueError(f"invalid vertex {vertex!r}: expected a column letter and a row number")
    letter, number = text[0], int(text[1:])
    if letter == "I":
        raise ValueError(f"invalid vertex {vertex!r}: GTP columns skip the letter I")
    col = GTP_COLUMNS.find(letter)
    if not 0 <= col < size or not 1 <= number <= size:
        raise ValueError(f"invalid vertex {vertex!r}: off the {size}x{size} board")
    return (size - number) * size + col


def to_sgf(move: int, size: int) -> str:
    """SGF point of ``move`` (``"dd"``), or ``""`` for pass."""
    _check_move(move, size)
    if move == size * size:
        return ""
    row, col = divmod(move, size)
    return SGF_LETTERS[col] + SGF_LETTERS[row]


def from_sgf(point: str, size: int) -> int:
    """Move index of an SGF point; ``""`` (and ``"tt"`` on boards up to 19x19) is pass."""
    _check_size(size)
    if point == "" or (point == "tt" and size <= 19):
        return size * size
    if len(point) != 2 or any(ch not in SGF_LETTERS for ch in point):
        raise ValueError(f"invalid SGF point {point!r}: expected two lowercase letters")
    col, row = SGF_LETTERS.index(point[0]), SGF_LETTERS.index(point[1])
    if col >= size or row >= size:
        raise ValueError(f"invalid SGF point {point!r}: off the {size}x{size} board")
    return row * size + col
