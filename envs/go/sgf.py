"""SGF (Smart Game Format, FF[4]) for Go: read game records, write them, and make training examples.

Two layers:

- the tree syntax: :func:`parse_collection` turns text into :class:`SgfTree` objects (nodes of
  ``{IDENT: [values]}``, escapes undone, lowercase letters of old FF[1-3] idents dropped);
  :func:`format_value` escapes a text value for writing;
- Go games: :func:`read_sgf` / :func:`read_sgf_collection` follow each record's main line
  (first variation) and replay it into an :class:`SgfGame` ``(initial, moves, info)``;
  :func:`format_sgf` / :func:`save_sgf` write one back; :func:`sgf_to_examples` turns a record
  into ``(state, move played, result for the mover)`` triples for supervised learning.

Errors are :class:`SgfError` naming the source (file name or ``<string>``), and the line and
column, property or move number where the record went wrong. Records are untrusted input: the
parser has no recursion, and files, values, nesting and game trees beyond the limits below are
refused before they are read whole; the readers hold one game tree at a time.
"""

from __future__ import annotations

import collections
import datetime
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from envs.go import coords
from envs.go.rules import BLACK, EMPTY, MAX_SIZE, MIN_SIZE, WHITE, GoState, IllegalMoveError
from rlcourse.files import atomic_write_text

if TYPE_CHECKING:
    from envs.go.game import GoGame

APPLICATION = "rlcourse"

# Limits on untrusted records, each far beyond what a real game record needs.
MAX_FILE_BYTES = 64 * 2**20  # [bytes] a file (or text [characters]) larger than this is refused
MAX_VALUE_CHARS = 2**20  # [characters] one property value
MAX_DEPTH = 500  # nested variations (a variation at every move of a long game: a few hundred)
MAX_NODES = 2**18  # nodes in one game tree (a game has hundreds; each node costs ~300 bytes)


class SgfError(ValueError):
    """A malformed or unsupported SGF record; the message names the source and the place."""


# --------------------------------------------------------------------------- tree syntax


@dataclass(slots=True)
class SgfNode:
    """One node: property idents (uppercase) to their unescaped values, in file order."""

    properties: dict[str, list[str]] = field(default_factory=dict)
    line: int = 0  # where the node's ';' stands in the source [1-based]

    def get(self, ident: str) -> str | None:
        """The first value of ``ident``, or None when the node lacks it."""
        values = self.properties.get(ident)
        return values[0] if values else None


@dataclass(slots=True)
class SgfTree:
    """A game tree: a sequence of nodes, then the variations that branch after it."""

    nodes: list[SgfNode]
    variations: list[SgfTree] = field(default_factory=list)

    def main_line(self) -> Iterator[SgfNode]:
        """The nodes of the first variation at every branch, root first."""
        tree: SgfTree | None = self
        while tree is not None:
            yield from tree.nodes
            tree = tree.variations[0] if tree.variations else None


_WHITESPACE = re.compile(r"\s*", re.ASCII)
_IDENT = re.compile(r"[A-Za-z]+")
# "[...]" with "\x" escapes, possessive (*+): the regex engine keeps no state per character
_VALUE = re.compile(r"\[((?:[^\\\]]|\\.)*+)\]", re.DOTALL)
_ESCAPE = re.compile(r"\\(?:\r\n|\n\r|[\r\n]|(.))", re.DOTALL)


def _unescape(raw: str) -> str:
    # A backslash before a line break is a soft break and vanishes; before anything else it
    # keeps that character literally.
    return _ESCAPE.sub(lambda m: m.group(1) or "", raw) if "\\" in raw else raw


_LOWERCASE = re.compile("[a-z]+")


def _ident(raw: str) -> str:
    # FF[1-3] allowed lowercase letters inside idents ("AddBlack" is AB); all-lowercase idents
    # ("b", "w" in some old files) are read as their uppercase form.
    return _LOWERCASE.sub("", raw) or raw.upper()


class _Parser:
    """Reads game trees from ``text`` with an explicit stack of open trees (no recursion)."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.pos = 0
        self._counted = (0, 1)  # (position, its line): line numbers are counted forward once
        self.nodes = 0  # in the game tree being read
        if len(text) > MAX_FILE_BYTES:
            raise self.fail(f"the text is larger than {MAX_FILE_BYTES} characters")

    def line(self) -> int:
        """The line [1-based] of the current position."""
        counted, line = self._counted
        line += self.text.count("\n", counted, self.pos)
        self._counted = (self.pos, line)
        return line

    def where(self, pos: int | None = None) -> str:
        pos = self.pos if pos is None else pos
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return f"{self.source}:{line}:{column}"

    def fail(self, message: str, pos: int | None = None) -> SgfError:
        return SgfError(f"{self.where(pos)}: {message}")

    def skip_space(self) -> None:
        self.pos = _WHITESPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def trees(self) -> Iterator[SgfTree]:
        """The game trees of the collection, each yielded once it is complete; SgfError once the
        text goes wrong, also after the last tree."""
        self.skip_space()
        if self.text.startswith("\ufeff", self.pos):  # a byte-order mark
            self.pos += 1
            self.skip_space()
        if self.peek() != "(":
            raise self.fail("no game tree: an SGF collection starts with '(;'")
        while self.peek() == "(":
            yield self.game_tree()
            self.skip_space()
        if self.peek() == ")":
            raise self.fail("unbalanced parentheses: ')' closes no game tree")
        if self.pos < len(self.text):
            raise self.fail(f"unexpected {self.peek()!r} after the last game tree")

    def game_tree(self) -> SgfTree:
        """The game tree whose '(' is at the current position, variations and all."""
        open_trees: list[tuple[SgfTree, int]] = []  # (tree, where its '(' stands), outermost first
        self.nodes = 0
        while True:
            if self.peek() == "(":
                if len(open_trees) == MAX_DEPTH:
                    raise self.fail(f"variations nested more than {MAX_DEPTH} levels deep")
                opened = self.pos
                self.pos += 1
                self.skip_space()
                if self.peek() != ";":
                    raise self.fail("a game tree must start with a node ';'")
                tree = SgfTree(self.sequence())
                if open_trees:
                    open_trees[-1][0].variations.append(tree)
                open_trees.append((tree, opened))
            elif self.peek() == ")":
                self.pos += 1
                tree, _ = open_trees.pop()
                if not open_trees:
                    return tree
            elif self.pos == len(self.text):
                raise self.fail(
                    "unbalanced parentheses: this '(' is never closed", open_trees[-1][1]
                )
            else:
                raise self.fail(f"unexpected {self.peek()!r} in a game tree")
            self.skip_space()

    def sequence(self) -> list[SgfNode]:
        nodes = []
        while self.peek() == ";":
            nodes.append(self.node())
            self.skip_space()
        return nodes

    def node(self) -> SgfNode:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(f"more than {MAX_NODES} nodes in one game tree")
        node = SgfNode(line=self.line())
        self.pos += 1  # ";"
        self.skip_space()
        while (match := _IDENT.match(self.text, self.pos)) is not None:
            ident = _ident(match.group())
            self.pos = match.end()
            self.skip_space()
            values = []
            while self.peek() == "[":
                values.append(self.value(ident))
                self.skip_space()
            if not values:
                raise self.fail(f"property {ident} has no value")
            if ident in node.properties:
                raise self.fail(f"property {ident} appears twice in one node")
            node.properties[ident] = values
        return node

    def value(self, ident: str) -> str:
        """The unescaped value whose '[' is at the current position; the scan for its ']' stops
        MAX_VALUE_CHARS further on."""
        end = self.pos + MAX_VALUE_CHARS + 2
        match = _VALUE.match(self.text, self.pos, end)
        if match is None:
            if len(self.text) >= end:
                raise self.fail(f"property {ident}: value longer than {MAX_VALUE_CHARS} characters")
            raise self.fail(f"property {ident}: value '[' is never closed by ']'")
        self.pos = match.end()
        return _unescape(match.group(1))


def parse_collection(text: str, source: str = "<string>") -> list[SgfTree]:
    """The game trees of an SGF collection (``(;...)(;...)``); ``source`` names it in errors."""
    return list(_Parser(text, source).trees())


def format_value(text: str) -> str:
    """``text`` as an SGF property value, brackets included (``]`` and ``\\`` escaped)."""
    return "[" + text.replace("\\", "\\\\").replace("]", "\\]") + "]"


# --------------------------------------------------------------------------- Go records


@dataclass(frozen=True)
class GameInfo:
    """The root properties of a record that scripts read and write."""

    board_size: int = 19
    komi: float = 0.0
    black: str = ""  # PB
    white: str = ""  # PW
    result: str = ""  # RE, e.g. "B+R", "W+3.5", "0"
    date: str = ""  # DT, e.g. "2025-03-01"
    rules: str = ""  # RU
    handicap: int = 0  # HA
    event: str = ""  # EV
    game_comment: str = ""  # GC
    comments: Mapping[int, str] = field(default_factory=dict)  # C: after k moves (0: root)
    # indices into SgfGame.moves of passes the record left out (one colour moving twice)
    inserted_passes: tuple[int, ...] = ()


class SgfGame(NamedTuple):
    """A replayable record: the starting position, the moves of the main line, the metadata.

    ``initial.play(moves[0]).play(moves[1])...`` replays the game. Passes are ``size * size``.
    """

    initial: GoState
    moves: list[int]
    info: GameInfo

    def final_state(self) -> GoState:
        state = self.initial
        for move in self.moves:
            state = state.play(move)
        return state


class SgfExample(NamedTuple):
    """One training example: a position, the move played there, the game's result for the mover
    (+1 won, -1 lost, 0 drawn)."""

    state: GoState
    move: int
    outcome: float


def _read_text(source: str | os.PathLike[str]) -> tuple[str, str]:
    """(text, name for errors): a Path or a string naming an existing file is read; a string
    that starts with '(' is SGF text itself."""
    if isinstance(source, str) and source.lstrip("\ufeff \t\r\n").startswith("("):
        return source, "<string>"
    path = Path(source)
    try:
        size = path.stat().st_size
        data = b""
        if size <= MAX_FILE_BYTES:  # refused unread when larger; a device reports no size
            with path.open("rb") as file:
                data = file.read((size or MAX_FILE_BYTES) + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the name
        raise SgfError(
            f"cannot read SGF file {path}: {getattr(exc, 'strerror', 0) or exc}"
        ) from exc
    if max(size, len(data)) > MAX_FILE_BYTES:
        raise SgfError(f"SGF file {path} is larger than {MAX_FILE_BYTES} bytes")
    for encoding in ("utf-8", "latin-1"):  # old records are often latin-1 (no CA property)
        try:
            return data.decode(encoding), str(path)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


def _read_first(source: str | os.PathLike[str]) -> tuple[SgfGame, str]:
    """(the first game, the source's name); the games after it are checked one at a time."""
    text, name = _read_text(source)
    trees = _Parser(text, name).trees()
    game = _game_from_tree(next(trees), name)
    collections.deque(trees, maxlen=0)
    return game, name


def read_sgf(source: str | os.PathLike[str]) -> SgfGame:
    """The first game of an SGF file (a path) or text (a string starting with '('); the rest of
    the collection must be well-formed too."""
    return _read_first(source)[0]


def read_sgf_collection(source: str | os.PathLike[str]) -> list[SgfGame]:
    """Every game of an SGF collection, each following its main line; errors name the game
    ("game 2") when there are several."""
    text, name = _read_text(source)
    trees = _Parser(text, name).trees()  # one tree at a time: a game's nodes go once it is read
    first, second = next(trees), next(trees, None)
    if second is None:
        return [_game_from_tree(first, name)]
    games = [_game_from_tree(first, f"{name} game 1"), _game_from_tree(second, f"{name} game 2")]
    games += (_game_from_tree(tree, f"{name} game {i}") for i, tree in enumerate(trees, start=3))
    return games


def _number(node: SgfNode, ident: str, where: str, kind: type) -> float | int | None:
    value = node.get(ident)
    if value is None or not value.strip():
        return None
    try:
        number = kind(value.strip())
    except ValueError:
        raise SgfError(f"{where}: property {ident}[{value}] is not a number") from None
    if not math.isfinite(number):
        raise SgfError(f"{where}: property {ident}[{value}] is not a finite number")
    return number


def _board_size(root: SgfNode, where: str) -> int:
    value = root.get("SZ")
    if value is None:
        return 19  # the SGF default for Go
    parts = value.split(":", 2)
    try:
        sizes = {int(p) for p in parts}
    except ValueError:
        raise SgfError(f"{where}: property SZ[{value}] is not a board size") from None
    if len(parts) > 2 or len(sizes) != 1:
        raise SgfError(f"{where}: property SZ[{value}]: only square boards are supported")
    (size,) = sizes
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise SgfError(f"{where}: property SZ[{value}]: board size must be {MIN_SIZE}..{MAX_SIZE}")
    return size


def _mark_points(
    board: np.ndarray, values: Sequence[str], colour: int, where: str, ident: str
) -> None:
    """Set the points of a point list to ``colour``, FF[4] compressed rectangles ``aa:cc`` whole."""
    size = board.shape[0]
    for value in values:
        corners = value.split(":", 2)
        try:
            if len(corners) > 2:
                raise ValueError("too many ':'")
            ends = [coords.from_sgf(p, size) for p in corners]
        except ValueError as exc:
            raise SgfError(f"{where}: property {ident}[{value}]: {exc}") from None
        if any(p == size * size for p in ends):
            raise SgfError(f"{where}: property {ident}[{value}] is not a point on the board")
        (r0, c0), (r1, c1) = divmod(ends[0], size), divmod(ends[-1], size)
        board[min(r0, r1) : max(r0, r1) + 1, min(c0, c1) : max(c0, c1) + 1] = colour


def _colour_of(value: str | None, where: str) -> int | None:
    if value is None:
        return None
    upper = value.strip().upper()
    if upper in ("B", "BLACK", "1"):
        return BLACK
    if upper in ("W", "WHITE", "2"):
        return WHITE
    raise SgfError(f"{where}: property PL[{value}] is not a colour (B or W)")


def _node_move(node: SgfNode, size: int, where: str) -> tuple[int, int] | None:
    """(colour, move) of a move node, or None for a node without B/W."""
    has_black, has_white = "B" in node.properties, "W" in node.properties
    if has_black and has_white:
        raise SgfError(f"{where}: a node has both B and W moves")
    if not (has_black or has_white):
        return None
    ident = "B" if has_black else "W"
    value = node.properties[ident][0]
    try:
        move = coords.from_sgf(value.strip(), size)
    except ValueError as exc:
        raise SgfError(f"{where}: property {ident}[{value}]: {exc}") from None
    return (BLACK if has_black else WHITE), move


def _game_from_tree(tree: SgfTree, name: str) -> SgfGame:
    nodes = list(tree.main_line())
    root = nodes[0]
    where = f"{name} (root node, line {root.line})"
    game_type = root.get("GM")
    if game_type is not None and game_type.strip() not in ("", "1"):
        raise SgfError(f"{where}: property GM[{game_type}]: only Go (GM[1]) is supported")
    size = _board_size(root, where)
    komi = float(_number(root, "KM", where, float) or 0.0)
    handicap = int(_number(root, "HA", where, int) or 0)

    board = np.zeros((size, size), dtype=np.int8)
    for ident, colour in (("AB", BLACK), ("AW", WHITE)):
        _mark_points(board, root.properties.get(ident, []), colour, where, ident)
    to_play = _colour_of(root.get("PL"), where)
    if to_play is None:  # the first mover's colour, else white after handicap stones
        first = next(
            (
                BLACK if "B" in n.properties else WHITE
                for n in nodes[1:]
                if "B" in n.properties or "W" in n.properties
            ),
            None,
        )
        to_play = first or (WHITE if handicap >= 2 and board.any() else BLACK)
    try:
        initial = GoState.from_board(board, to_play=to_play, komi=komi)
    except ValueError as exc:
        raise SgfError(f"{where}: setup stones AB/AW: {exc}") from None

    comments: dict[int, list[str]] = collections.defaultdict(list)  # joined at the end
    if (text := root.get("C")) is not None:
        comments[0].append(text)
    state = initial
    moves: list[int] = []
    inserted: list[int] = []  # indices of passes the record left out
    for number, node in enumerate(nodes[1:], start=1):
        node_where = f"{name} (node {number}, line {node.line})"
        for ident in ("AB", "AW", "AE"):
            if ident in node.properties:
                raise SgfError(
                    f"{node_where}: setup property {ident} after the root is not supported"
                )
        played = _node_move(node, size, node_where)
        if played is not None:
            colour, move = played
            if colour != state.to_play:
                # GoState alternates colours: a colour moving twice means the other side passed.
                inserted.append(len(moves))
                state = _play(state, moves, state.pass_move, node_where, implicit=True)
            state = _play(state, moves, move, node_where)
        if (text := node.get("C")) is not None:  # nodes without a move add to the last one
            comments[len(moves)].append(text)
    info = GameInfo(
        board_size=size,
        komi=komi,
        black=root.get("PB") or "",
        white=root.get("PW") or "",
        result=(root.get("RE") or "").strip(),
        date=root.get("DT") or "",
        rules=root.get("RU") or "",
        handicap=handicap,
        event=root.get("EV") or "",
        game_comment=root.get("GC") or "",
        comments={k: "\n".join(texts) for k, texts in comments.items()},
        inserted_passes=tuple(inserted),
    )
    return SgfGame(initial, moves, info)


def _play(
    state: GoState, moves: list[int], move: int, where: str, implicit: bool = False
) -> GoState:
    """``state.play(move)``, with ``move`` appended to ``moves``; SgfError if illegal."""
    try:
        after = state.play(move)
    except IllegalMoveError as exc:
        what = "the pass implied by a colour moving twice" if implicit else "move"
        raise SgfError(f"{where}: {what} {len(moves) + 1} is illegal: {exc}") from None
    moves.append(move)
    return after


def result_string(state: GoState) -> str:
    """SGF RE value of a finished (or abandoned) game: "B+R", "W+3.5", "0"; by area score when
    nobody resigned."""
    if state.resigned is not None:
        return "W+R" if state.resigned == BLACK else "B+R"
    return score_string(state.score())


def score_string(score: float) -> str:
    """A black-minus-white score as "B+3.5", "W+0.5" or "0" (the SGF and GTP notation)."""
    if score == 0:
        return "0"
    return f"{'B' if score > 0 else 'W'}+{abs(score):g}"


def score_value(text: str) -> float | None:
    """The number a score like "B+3.5" (3.5), "W+0.5" (-0.5) or "0" stands for; None for
    anything else ("B+R", "?")."""
    text = text.strip().upper()
    if text in ("0", "DRAW", "JIGO"):
        return 0.0
    if text[:2] not in ("B+", "W+"):
        return None
    try:
        value = float(text[2:])
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return value if text[0] == "B" else -value


def result_winner(result: str) -> int | None:
    """BLACK, WHITE or EMPTY (a draw) for an RE value; None when it names no winner ("?",
    "Void", "")."""
    text = result.strip().upper()
    if text.startswith("B+"):
        return BLACK
    if text.startswith("W+"):
        return WHITE
    if text in ("0", "DRAW", "JIGO"):
        return EMPTY
    return None


def format_sgf(game: SgfGame, moves_per_line: int = 10) -> str:
    """The record as FF[4] SGF text: root (FF GM CA AP SZ KM RU PB PW DT RE HA EV GC, setup
    stones AB/AW with PL), then one node per move, pass as an empty value."""
    initial, info = game.initial, game.info
    size = initial.board_size
    if info.board_size != size:
        raise ValueError(f"info.board_size {info.board_size} differs from the board's {size}")
    root: list[tuple[str, list[str]]] = [
        ("FF", ["4"]),
        ("GM", ["1"]),
        ("CA", ["UTF-8"]),
        ("AP", [APPLICATION]),
        ("SZ", [str(size)]),
        ("KM", [f"{initial.komi:g}"]),
        ("RU", [info.rules or "Chinese"]),
    ]
    for ident, value in (
        ("PB", info.black),
        ("PW", info.white),
        ("DT", info.date),
        ("RE", info.result),
        ("EV", info.event),
        ("GC", info.game_comment),
    ):
        if value:
            root.append((ident, [value]))
    if info.handicap:
        root.append(("HA", [str(info.handicap)]))
    board = initial.board()
    for ident, colour in (("AB", BLACK), ("AW", WHITE)):
        points = [coords.to_sgf(int(m), size) for m in np.flatnonzero(board.ravel() == colour)]
        if points:
            root.append((ident, points))
    if board.any() or initial.to_play != BLACK:
        root.append(("PL", ["B" if initial.to_play == BLACK else "W"]))
    if 0 in info.comments:
        root.append(("C", [info.comments[0]]))

    parts = [
        "(;" + "".join(ident + "".join(format_value(v) for v in values) for ident, values in root)
    ]
    colour = initial.to_play
    line: list[str] = []
    for k, move in enumerate(game.moves, start=1):
        node = f";{'B' if colour == BLACK else 'W'}[{coords.to_sgf(int(move), size)}]"
        if k in info.comments:
            node += "C" + format_value(info.comments[k])
        line.append(node)
        if len(line) == moves_per_line:
            parts.append("".join(line))
            line = []
        colour = 3 - colour
    if line:
        parts.append("".join(line))
    return "\n".join(parts) + ")\n"


def game_record(
    initial: GoState,
    final: GoState,
    *,
    black: str = "",
    white: str = "",
    result: str | None = None,
    date: str | None = None,
    handicap: int = 0,
    event: str = "",
    game_comment: str = "",
    comments: Mapping[int, str] | None = None,
) -> SgfGame:
    """An :class:`SgfGame` for a game played from ``initial`` to ``final`` (``final.moves``
    extends ``initial.moves``). RE defaults to :func:`result_string` once the game is over, DT
    to today."""
    if list(final.moves[: len(initial.moves)]) != list(initial.moves):
        raise ValueError("final is not a continuation of initial")
    if result is None:
        result = result_string(final) if final.is_terminal else ""
    info = GameInfo(
        board_size=initial.board_size,
        komi=initial.komi,
        black=black,
        white=white,
        result=result,
        date=date if date is not None else datetime.date.today().isoformat(),
        rules="Chinese",
        handicap=handicap,
        event=event,
        game_comment=game_comment,
        comments=dict(comments or {}),
    )
    return SgfGame(initial, list(final.moves[len(initial.moves) :]), info)


def save_sgf(game: SgfGame, path: str | os.PathLike[str]) -> Path:
    """Write ``game`` to ``path`` (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, format_sgf(game))
    return path


def sgf_to_examples(
    source: str | os.PathLike[str] | SgfGame, game: GoGame | None = None
) -> list[SgfExample]:
    """``(state before the move, move, outcome for the mover)`` for every move of the main line
    (passes the record left out are not examples).

    The outcome comes from RE (B+..., W+..., 0/Draw); a record without a decisive RE uses the
    winner of its final position when that position is over (two passes or the move cap), and
    is refused otherwise. With ``game``, the record must match its board size and komi.
    """
    record, name = (source, "<record>") if isinstance(source, SgfGame) else _read_first(source)
    if game is not None:
        if record.info.board_size != game.board_size:
            raise SgfError(
                f"{name}: board size {record.info.board_size} differs from the game's "
                f"{game.board_size}"
            )
        if record.initial.komi != game.komi:
            raise SgfError(
                f"{name}: komi {record.initial.komi:g} differs from the game's {game.komi:g}"
            )
    winner = result_winner(record.info.result)
    start = record.initial
    if game is not None and start.to_play == BLACK and not start.board().any():
        start = game.initial_state()  # the game's own start (its move cap)
    states = [start]
    for k, move in enumerate(record.moves):
        try:
            states.append(states[-1].play(move))
        except IllegalMoveError as exc:
            raise SgfError(f"{name}: move {k + 1} is illegal in this game: {exc}") from None
    if winner is None:
        if not states[-1].is_terminal:
            raise SgfError(f"{name}: no result (RE[{record.info.result}]) and the game is not over")
        winner = states[-1].winner
    examples = []
    skipped = set(record.info.inserted_passes)
    for k, (state, move) in enumerate(zip(states, record.moves, strict=False)):
        if k in skipped:
            continue
        outcome = 0.0 if winner == EMPTY else (1.0 if winner == state.to_play else -1.0)
        examples.append(SgfExample(state, move, outcome))
    return examples
