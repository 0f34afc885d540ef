"""The Go Text Protocol (GTP version 2): serve any policy as an engine, and talk to outside ones.

- :class:`GtpEngine` answers GTP commands for a ``policy(state) -> move | "resign"``; its
  ``serve`` loop is what ``scripts/gtp.py`` runs on stdin/stdout.
- :class:`GtpClient` drives an external engine (GNU Go) as a subprocess.
- :class:`RandomPolicy` plays uniformly among legal moves that do not fill its own single-point
  eyes, and passes when none is left.

Vertices follow GTP: columns A..T skipping I, rows counted from the bottom (``envs.go.coords``).
"""

from __future__ import annotations

import collections
import contextlib
import importlib.metadata
import math
import queue
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np

from envs.go import coords
from envs.go.life import chains, cleanup_move, dead_chains
from envs.go.rules import (
    BLACK,
    COLOUR_NAMES,
    MAX_SIZE,
    MIN_SIZE,
    WHITE,
    GoState,
    IllegalMoveError,
    handicap_moves,
    opponent,
)
from envs.go.sgf import (
    GameInfo,
    SgfError,
    SgfGame,
    format_sgf,
    read_sgf,
    result_string,
    score_string,
)

Policy = Callable[[GoState], "int | str"]  # a move index, or "resign"

ENGINE_MOVE_CAP = 100_000  # GTP has no move cap: the controller ends games


# --------------------------------------------------------------------------- protocol text


class GtpCommand(NamedTuple):
    id: int | None
    name: str
    args: list[str]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ID = re.compile(r"[0-9]{1,18}")  # a 64-bit integer; a longer number is read as a command name


def parse_command(line: str) -> GtpCommand | None:
    """One command line, preprocessed as GTP says (control characters dropped, tabs as spaces,
    ``#`` comments cut); None for a line with nothing left."""
    line = _CONTROL.sub("", line.replace("\t", " ").split("#", 1)[0])
    words = line.split()
    if not words:
        return None
    command_id = None
    if _ID.fullmatch(words[0]):
        command_id = int(words[0])
        words = words[1:]
        if not words:
            return GtpCommand(command_id, "", [])
    return GtpCommand(command_id, words[0], words[1:])


def format_response(command_id: int | None, text: str, ok: bool = True) -> str:
    """``=[id] text`` or ``?[id] text``, ended by an empty line; blank lines after the first
    line of ``text`` are dropped because an empty line ends a GTP response."""
    first, *rest = text.split("\n")
    body = "\n".join([first, *(line for line in rest if line.strip())])
    return f"{'=' if ok else '?'}{'' if command_id is None else command_id} {body}\n\n"


def parse_colour(word: str) -> int:
    """BLACK or WHITE for "b", "black", "w", "white" (any case)."""
    lower = word.lower()
    if lower in ("b", "black"):
        return BLACK
    if lower in ("w", "white"):
        return WHITE
    raise ValueError(f"invalid colour {word!r}: expected b, black, w or white")


def colour_letter(colour: int) -> str:
    return "b" if colour == BLACK else "w"


class GtpError(Exception):
    """An engine answered ``? message`` (or never answered) to ``command``."""

    def __init__(self, command: str, message: str) -> None:
        super().__init__(f"GTP command {command!r} failed: {message}")
        self.command = command
        self.message = message


# --------------------------------------------------------------------------- policies


class RandomPolicy:
    """A uniformly random legal move that does not fill one of the mover's own single-point
    eyes (``GoState.eye_mask``, the rule random playouts use); pass when no such move is left.
    Never resigns."""

    def __init__(self, seed: int | np.random.Generator | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def candidates(self, state: GoState) -> np.ndarray:
        """Move indices the policy chooses among (empty: it passes)."""
        legal = state.legal_mask()[:-1]
        eyes = state.eye_mask(state.to_play)
        return np.flatnonzero(legal & ~eyes)

    def __call__(self, state: GoState) -> int:
        moves = self.candidates(state)
        return int(self.rng.choice(moves)) if moves.size else state.pass_move


# --------------------------------------------------------------------------- engine


def _engine_version() -> str:
    try:
        return importlib.metadata.version("rlcourse")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class TimeSettings(NamedTuple):
    """GTP ``time_settings``: ``main_time`` then Canadian byo-yomi of ``byo_yomi_time`` per
    ``byo_yomi_stones`` stones [s]. Stones 0 with a byo-yomi time above 0 means no time limit."""

    main_time: int  # [s]
    byo_yomi_time: int  # [s]
    byo_yomi_stones: int


class TimeLeft(NamedTuple):
    """GTP ``time_left``: ``seconds`` left in the current period, ``stones`` still to play in
    it (0 while in main time)."""

    seconds: int  # [s]
    stones: int


STATUSES = ("alive", "seki", "dead")  # final_status_list's argument


class GtpEngine:
    """Serves GTP version 2 for one policy: keeps a board, a colour to play and an undo stack.

    GoState alternates colours; a ``play`` or ``genmove`` for the colour not to move is taken
    as the other side passing first. Where that pass would end the game (the other side just
    passed too), or a game already over gets another move, play continues from the same stones
    with a fresh position history (superko then forgets the earlier positions).

    Beyond the required commands:

    - ``fixed_handicap N`` puts black stones on GTP's fixed points (:func:`handicap_moves`);
      ``place_free_handicap N`` lets the policy choose each stone in turn, as black to move
      on the stones placed so far, and stops early (fewer stones, as GTP allows) where the
      policy passes or resigns; ``set_free_handicap V...`` takes the controller's points. All
      three need an empty board and leave white to play.
    - ``final_status_list alive|dead|seki`` lists one chain per line; dead stones are judged by
      random playouts (:mod:`envs.go.life`) and seki is never reported (seki stones are listed
      as alive, which area scoring counts the same). ``kgs-genmove_cleanup`` is ``genmove``
      except that a pass is replaced by a move that takes a liberty from a dead opposing
      chain while one stands (:func:`envs.go.life.cleanup_move`), as GNU Go does in KGS's
      cleanup phase.
    - ``time_settings`` and ``time_left`` are checked and kept (``clock``, ``time_left``) but
      do not change how the policy plays: it spends its own fixed search (simulations per
      move) on every move, and keeping the game's time is the controller's business.
    - ``loadsgf FILE [MOVE_NUMBER]`` reads the first game of an SGF file through
      :func:`envs.go.sgf.read_sgf` (with that reader's limits on untrusted files), takes its
      board size, komi and setup stones, and plays its main line up to just before move
      ``MOVE_NUMBER`` (counting the record's moves from 1; all of them when it is left out or
      beyond the end); the answer is the colour to play, as GNU Go answers. ``undo`` can step
      back through the loaded moves. ``printsgf`` answers the game as SGF text (GNU Go's
      ``printsgf FILE`` form, which writes a file the controller names, is refused).
    """

    COMMANDS = (
        "protocol_version",
        "name",
        "version",
        "known_command",
        "list_commands",
        "boardsize",
        "clear_board",
        "komi",
        "fixed_handicap",
        "place_free_handicap",
        "set_free_handicap",
        "play",
        "genmove",
        "kgs-genmove_cleanup",
        "undo",
        "time_settings",
        "time_left",
        "final_score",
        "final_status_list",
        "loadsgf",
        "printsgf",
        "showboard",
        "quit",
    )

    def __init__(
        self,
        policy: Policy,
        name: str = "rlcourse",
        version: str | None = None,
        board_size: int = 9,
        komi: float = 7.5,
    ) -> None:
        if not MIN_SIZE <= board_size <= MAX_SIZE:
            raise ValueError(f"board_size must be {MIN_SIZE}..{MAX_SIZE}, got {board_size}")
        self.policy = policy
        self.name = name
        self.version = version if version is not None else _engine_version()
        self.board_size = board_size
        self.komi = float(komi)
        self.setup = np.zeros((board_size, board_size), dtype=np.int8)  # the starting stones
        self.setup_to_play = BLACK
        self.handicap = 0  # handicap stones in the setup (0: none placed by a command)
        self.state = self._new_state()
        self.undo_stack: list[GoState] = []  # the state before each move played
        self.played: list[tuple[int, int]] = []  # (colour, move) of each move played
        self.clock: TimeSettings | None = None  # None: no time_settings received
        self.time_left: dict[int, TimeLeft] = {}  # by colour, from the latest time_left
        self.quit_requested = False

    def _new_state(self) -> GoState:
        """The starting position: the setup stones with the setup colour to play."""
        return GoState.from_board(
            self.setup, to_play=self.setup_to_play, komi=self.komi, move_cap=ENGINE_MOVE_CAP
        )

    # --------------------------------------------------------------------- dispatch

    def handle(self, line: str) -> str:
        """The full response to one command line ("" for an empty or comment-only line)."""
        command = parse_command(line)
        if command is None:
            return ""
        handler = (
            getattr(self, "cmd_" + command.name.replace("-", "_"), None)
            if command.name in self.COMMANDS
            else None
        )
        if handler is None:
            return format_response(command.id, "unknown command", ok=False)
        try:
            return format_response(command.id, handler(command.args))
        except _Failure as failure:
            return format_response(command.id, str(failure), ok=False)

    def serve(self, stdin: IO[str] | IO[bytes], stdout: IO[str]) -> None:
        """Answer commands from ``stdin`` until ``quit`` or the end of input.

        A stream with a byte buffer (``sys.stdin``) is read through it, each line decoded as
        UTF-8 with undecodable bytes replaced: GTP is ASCII, and no input may stop the engine.
        """
        for raw in getattr(stdin, "buffer", stdin):
            line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
            response = self.handle(line)
            if response:
                stdout.write(response)
                stdout.flush()
            if self.quit_requested:
                return

    # --------------------------------------------------------------------- administration

    def cmd_protocol_version(self, args: list[str]) -> str:
        return "2"

    def cmd_name(self, args: list[str]) -> str:
        return self.name

    def cmd_version(self, args: list[str]) -> str:
        return self.version

    def cmd_known_command(self, args: list[str]) -> str:
        _expect(args, 1)
        return "true" if args[0] in self.COMMANDS else "false"

    def cmd_list_commands(self, args: list[str]) -> str:
        return "\n".join(self.COMMANDS)

    def cmd_quit(self, args: list[str]) -> str:
        self.quit_requested = True
        return ""

    # --------------------------------------------------------------------- setting up

    def cmd_boardsize(self, args: list[str]) -> str:
        _expect(args, 1)
        size = _integer(args[0])
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise _Failure("unacceptable size")
        self.board_size = size
        self._clear()
        return ""

    def cmd_clear_board(self, args: list[str]) -> str:
        self._clear()
        return ""

    def cmd_komi(self, args: list[str]) -> str:
        _expect(args, 1)
        try:
            komi = float(args[0])
        except ValueError:
            raise _Failure("syntax error") from None
        if not math.isfinite(komi):
            raise _Failure("syntax error")
        self.komi = komi
        self._replay(list(self.played))  # the same game, scored with the new komi
        return ""

    def cmd_fixed_handicap(self, args: list[str]) -> str:
        _expect(args, 1)
        stones = _integer(args[0])
        self._check_empty()
        try:
            points = handicap_moves(stones, self.board_size)
        except ValueError:
            raise _Failure("invalid number of stones") from None
        self._place_handicap(points)
        return _vertices(points, self.board_size)

    def cmd_place_free_handicap(self, args: list[str]) -> str:
        _expect(args, 1)
        stones = _integer(args[0])
        if not 2 <= stones < self.board_size**2:
            raise _Failure("invalid number of stones")
        self._check_empty()
        board = np.zeros((self.board_size, self.board_size), dtype=np.int8)
        points: list[int] = []
        for _ in range(stones):
            state = GoState.from_board(board, to_play=BLACK, komi=self.komi)
            choice = self._ask(state)
            if choice == "resign" or choice == state.pass_move:
                break
            if not state.is_legal(int(choice)):
                raise _Failure(f"the policy chose an illegal handicap point: {choice}")
            board.flat[int(choice)] = BLACK
            points.append(int(choice))
        if len(points) < 2:
            raise _Failure(f"the policy placed {len(points)} handicap stones; GTP needs 2")
        self._place_handicap(points)
        return _vertices(points, self.board_size)

    def cmd_set_free_handicap(self, args: list[str]) -> str:
        self._check_empty()
        size = self.board_size
        try:
            points = [coords.from_gtp(vertex, size) for vertex in args]
        except ValueError:
            raise _Failure("syntax error") from None
        if (
            not 2 <= len(points) < size * size
            or len(set(points)) != len(points)
            or size * size in points
        ):
            raise _Failure("bad vertex list")
        self._place_handicap(points)
        return ""

    def cmd_loadsgf(self, args: list[str]) -> str:
        _expect(args, 1)
        before = _integer(args[1]) if len(args) > 1 else None
        if before is not None and before < 1:
            raise _Failure("syntax error")
        try:
            record = read_sgf(Path(args[0]))  # a Path: a name starting with '(' is not SGF text
        except SgfError as exc:
            raise _Failure(f"cannot load file: {exc}") from None
        initial = record.initial
        colour, played = initial.to_play, []
        for move in _moves_before(record, before):
            played.append((colour, move))
            colour = opponent(colour)
        self.board_size, self.komi = initial.board_size, initial.komi
        self.handicap = record.info.handicap
        self._start_from(initial.board(), initial.to_play, played)
        return COLOUR_NAMES[self.state.to_play]

    def cmd_time_settings(self, args: list[str]) -> str:
        _expect(args, 3)
        self.clock = TimeSettings(*(_integer(word) for word in args[:3]))
        self.time_left = {}
        return ""

    def cmd_time_left(self, args: list[str]) -> str:
        _expect(args, 3)
        colour = _colour(args[0])
        self.time_left[colour] = TimeLeft(_integer(args[1]), _integer(args[2]))
        return ""

    # --------------------------------------------------------------------- playing

    def cmd_play(self, args: list[str]) -> str:
        _expect(args, 2)
        colour = _colour(args[0])
        try:
            move = coords.from_gtp(args[1], self.board_size)
        except ValueError:
            raise _Failure("syntax error") from None
        try:
            self._apply(colour, move)
        except IllegalMoveError:
            raise _Failure("illegal move") from None
        return ""

    def cmd_genmove(self, args: list[str]) -> str:
        return self._genmove(args, cleanup=False)

    def cmd_kgs_genmove_cleanup(self, args: list[str]) -> str:
        return self._genmove(args, cleanup=True)

    def cmd_undo(self, args: list[str]) -> str:
        if not self.undo_stack:
            raise _Failure("cannot undo")
        self.state = self.undo_stack.pop()
        self.played.pop()
        return ""

    # --------------------------------------------------------------------- scoring and display

    def cmd_final_score(self, args: list[str]) -> str:
        return score_string(self.state.score())

    def cmd_final_status_list(self, args: list[str]) -> str:
        _expect(args, 1)
        status = args[0].lower()
        if status not in STATUSES:
            raise _Failure("invalid status")
        if status == "seki":
            return ""  # never told apart from life (see envs.go.life)
        dead = {int(chain.points[0]) for chain in dead_chains(self.state)}
        listed = [
            chain
            for chain in chains(self.state.board())
            if (int(chain.points[0]) in dead) == (status == "dead")
        ]
        return "\n".join(_vertices(chain.points, self.board_size) for chain in listed)

    def cmd_showboard(self, args: list[str]) -> str:
        # The board starts on the line after "= ", as GTP controllers expect.
        return f"\n{self.state}\nkomi {self.state.komi:g}"

    def cmd_printsgf(self, args: list[str]) -> str:
        if args:  # GNU Go writes to a named file; an engine a server drives should not
            raise _Failure("printsgf FILE is not supported: printsgf answers the SGF text")
        return format_sgf(self._record()).rstrip("\n")

    # --------------------------------------------------------------------- state handling

    def _clear(self) -> None:
        size = self.board_size
        self.handicap = 0
        self._start_from(np.zeros((size, size), dtype=np.int8), BLACK, [])

    def _start_from(self, board: np.ndarray, to_play: int, played: list[tuple[int, int]]) -> None:
        """A new game from the stones ``board`` with ``to_play`` to move, then ``played``."""
        self.setup, self.setup_to_play = board, to_play
        self._replay(played)

    def _replay(self, played: list[tuple[int, int]]) -> None:
        """Start a new game and play ``played`` again (moves that were legal stay legal)."""
        self.state = self._new_state()
        self.undo_stack = []
        self.played = []
        for colour, move in played:
            self._apply(colour, move)

    def _check_empty(self) -> None:
        if self.state.board().any():
            raise _Failure("board not empty")

    def _place_handicap(self, points: list[int]) -> None:
        board = np.zeros((self.board_size, self.board_size), dtype=np.int8)
        board.flat[points] = BLACK
        self.handicap = len(points)
        self._start_from(board, WHITE, [])

    def _apply(self, colour: int, move: int) -> None:
        after = self._turn_of(colour).play(move)  # raises IllegalMoveError
        self.undo_stack.append(self.state)
        self.played.append((colour, move))
        self.state = after

    def _turn_of(self, colour: int) -> GoState:
        """The current position with ``colour`` to move (see the class docstring)."""
        state = self.state
        if state.to_play == colour and not state.is_terminal:
            return state
        if not state.is_terminal and state.consecutive_passes == 0:
            return state.play(state.pass_move)
        return GoState.from_board(
            state.board(), to_play=colour, komi=state.komi, move_cap=ENGINE_MOVE_CAP
        )

    def _ask(self, state: GoState) -> int | str:
        """The policy's move index for ``state``, or "resign"."""
        try:
            choice = self.policy(state)
        except ValueError as exc:  # it cannot play here, e.g. a network for another board size
            raise _Failure(f"the policy cannot play this position: {exc}") from None
        if isinstance(choice, str) and choice != "resign":
            raise _Failure(f"the policy answered {choice!r}: neither a move nor 'resign'")
        return choice if isinstance(choice, str) else int(choice)

    def _genmove(self, args: list[str], cleanup: bool) -> str:
        _expect(args, 1)
        colour = _colour(args[0])
        before = self._turn_of(colour)
        choice = self._ask(before)
        if choice == "resign":
            return "resign"
        move = int(choice)
        if cleanup and move == before.pass_move:
            capture = cleanup_move(before, dead_chains(before))
            move = move if capture is None else capture
        try:
            self._apply(colour, move)
        except IllegalMoveError as exc:
            raise _Failure(f"the policy chose an illegal move: {exc}") from None
        return coords.to_gtp(move, self.board_size)

    def _record(self) -> SgfGame:
        """The game since the setup as an SGF record, a pass inserted wherever a colour moved
        out of turn."""
        start = self._new_state()
        moves, to_play = [], start.to_play
        for colour, move in self.played:
            if colour != to_play:
                moves.append(start.pass_move)
            moves.append(move)
            to_play = opponent(colour)
        info = GameInfo(
            board_size=self.board_size,
            komi=self.komi,
            result=result_string(self.state) if self.state.is_terminal else "",
            rules="Chinese",
            handicap=self.handicap,
        )
        return SgfGame(start, moves, info)


class _Failure(Exception):
    """A GTP error response; its text is the message after '?'."""


def _expect(args: list[str], count: int) -> None:
    if len(args) < count:
        raise _Failure("syntax error")


def _integer(word: str) -> int:
    # ASCII digits only, and few enough that int() takes them (Python refuses 4,300 and more)
    if not re.fullmatch(r"\+?[0-9]{1,18}", word):
        raise _Failure("syntax error")
    return int(word)


def _colour(word: str) -> int:
    try:
        return parse_colour(word)
    except ValueError:
        raise _Failure("syntax error") from None


def _vertices(points: Sequence[int] | np.ndarray, size: int) -> str:
    return " ".join(coords.to_gtp(int(point), size) for point in points)


def _moves_before(record: SgfGame, number: int | None) -> list[int]:
    """The record's moves (passes it left out included) played before its move ``number``
    (counted from 1 over the moves the record holds); all of them when ``number`` is None or
    beyond the end. A left-out pass just before that move is kept, so that its colour is to
    play."""
    left_out = set(record.info.inserted_passes)
    kept = seen = 0
    for index in range(len(record.moves)):
        if index not in left_out:
            seen += 1
            if seen == number:
                break
        kept = index + 1
    return record.moves[:kept]


# --------------------------------------------------------------------------- client


_RESPONSE_START = re.compile(r"^([=?])(\d*)(?:\s(.*))?$")


class GtpClient:
    """Drives an external GTP engine over its stdin/stdout.

    Every command is sent with a numeric id and the answer's id is checked; ``timeout`` [s]
    bounds the wait for each answer. Use as a context manager or call ``close``.
    """

    def __init__(self, command: str | Sequence[str], timeout: float = 30.0) -> None:
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.argv:
            raise ValueError("empty engine command")
        self.timeout = timeout
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
        except OSError as exc:
            raise GtpError(shlex.join(self.argv), f"cannot start the engine: {exc}") from exc
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._next_id = 1
        self._exited = False  # stdout reached its end: the engine is gone
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\r\n"))
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line.rstrip("\r\n"))

    def _dead(self, command: str, why: str) -> GtpError:
        self._exited = True
        with contextlib.suppress(subprocess.TimeoutExpired):  # let its last words arrive
            self.process.wait(timeout=2)
        self._readers[1].join(timeout=1)
        tail = "; ".join(self._stderr)
        code = self.process.poll()
        status = f" (exit status {code})" if code is not None else ""
        return GtpError(command, f"{why}{status}" + (f"; stderr: {tail}" if tail else ""))

    def send(self, command: str) -> str:
        """The engine's answer to ``command`` without the leading ``=``/id; raises GtpError on a
        ``?`` answer, a timeout or a dead engine."""
        if self._exited:
            raise self._dead(command, "the engine has exited")
        command_id = self._next_id
        self._next_id += 1
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(f"{command_id} {command}\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):  # it died before reading the command
            raise self._dead(command, "the engine exited") from None
        deadline = time.monotonic() + self.timeout
        lines: list[str] = []
        start: re.Match[str] | None = None
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise GtpError(command, f"no answer within {self.timeout:g} s") from None
            if line is None:
                raise self._dead(command, "the engine exited")
            if start is None:
                start = _RESPONSE_START.match(line)
                if start is None:
                    continue  # text outside a response (a banner): not part of the protocol
                lines.append((start.group(3) or "").rstrip())
            elif line.strip():
                lines.append(line)
            elif start.group(2) and int(start.group(2)) < command_id:
                start, lines = None, []  # the late answer to a command that timed out
            else:
                break
        if start.group(2) and int(start.group(2)) != command_id:
            raise GtpError(command, f"answer carries id {start.group(2)}, expected {command_id}")
        text = "\n".join(lines).strip("\n")
        if start.group(1) == "?":
            raise GtpError(command, text)
        return text

    def boardsize(self, n: int) -> None:
        self.send(f"boardsize {n}")

    def komi(self, k: float) -> None:
        self.send(f"komi {k:g}")

    def clear_board(self) -> None:
        self.send("clear_board")

    def name(self) -> str:
        return self.send("name")

    def play(self, colour: int, move: int, size: int) -> None:
        self.send(f"play {colour_letter(colour)} {coords.to_gtp(move, size)}")

    def genmove(self, colour: int, size: int) -> int | str:
        """The engine's move for ``colour`` (a move index, pass = size * size) or "resign"."""
        command = f"genmove {colour_letter(colour)}"
        answer = self.send(command)
        if answer.strip().lower() == "resign":
            return "resign"
        try:
            return coords.from_gtp(answer.strip(), size)
        except ValueError as exc:
            raise GtpError(command, f"answer {answer!r} is not a vertex: {exc}") from None

    def final_score(self) -> str:
        return self.send("final_score")

    def close(self) -> None:
        """Send ``quit`` (if the engine still runs) and wait for it to exit."""
        if self.process.poll() is None and not self._exited:
            with contextlib.suppress(GtpError):
                self.send("quit")
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()  # the end of input stops engines that ignore quit
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for reader in self._readers:  # they stop at the end of the engine's output
            reader.join(timeout=1)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> GtpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
