#!/usr/bin/env python
"""Referee games between two GTP engines (ours against GNU Go by default).

    python scripts/gtp_match.py --games 10 --size 9 --komi 7.5 --sgf-dir runs/match
    python scripts/gtp_match.py --engine1 "python scripts/gtp.py --agent random --seed 1" \\
        --engine2 "/usr/games/gnugo --mode gtp --level 1 --chinese-rules" --games 2 --size 7

Both engines get the board size and komi and a cleared board before each game; engine 1 takes
black in odd-numbered games and white in even ones. The referee keeps its own board: it asks
the side to move for ``genmove`` and tells the other side with ``play``, until two passes in a
row, a resignation, an illegal move (a loss by forfeit) or the move cap. Games that end on the
board are decided by Tromp-Taylor area scoring; both engines are then asked for
``final_score`` and the table says whether they agree with it. Each game is written as SGF.

GNU Go runs with ``--chinese-rules --positional-superko --capture-all-dead`` by default: the
same scoring and ko rule as ours, and it captures dead stones before passing, so that the area
count of the final position is the score it reports too.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rlcourse.cli import command
from rlcourse.files import atomic_write_text

if TYPE_CHECKING:
    from envs.go.gtp import GtpClient
    from envs.go.rules import GoState

ROOT = Path(__file__).resolve().parent.parent
OURS = shlex.join(
    [sys.executable, str(ROOT / "scripts" / "gtp.py"), "--agent", "random", "--seed", "0"]
)
# Our rules: area scoring, positional superko. Without --capture-all-dead GNU Go passes with
# dead stones still on the board (it removes them when scoring), so Tromp-Taylor area counting
# of the final position would credit them as alive.
GNUGO = (
    "/usr/games/gnugo --mode gtp --level 1 --chinese-rules --positional-superko --capture-all-dead"
)


@dataclass
class GameResult:
    black: str  # engine names
    white: str
    initial: GoState
    final: GoState
    end: str  # "two passes", "resignation", "forfeit", "move cap"
    result: str  # SGF RE: "B+3.5", "W+R", "B+F", "0"
    area_score: str  # Tromp-Taylor score of the final position, e.g. "W+21.5"
    engine_scores: dict[str, str]  # engine name -> its final_score answer (when asked)

    @property
    def scores_agree(self) -> bool | None:
        """Whether every engine's final_score equals the area score (None: none asked)."""
        if not self.engine_scores:
            return None
        return all(_same_score(s, self.area_score) for s in self.engine_scores.values())

    @property
    def winner(self) -> str | None:
        """The winning engine's name, or None for a draw."""
        if self.result.startswith("B+"):
            return self.black
        if self.result.startswith("W+"):
            return self.white
        return None


def _same_score(a: str, b: str) -> bool:
    from envs.go.sgf import score_value

    va, vb = score_value(a), score_value(b)
    return va is not None and va == vb


def play_game(
    black: GtpClient,
    white: GtpClient,
    names: tuple[str, str],
    size: int,
    komi: float,
    max_moves: int | None = None,
) -> GameResult:
    """One refereed game; ``names`` are (black's, white's) for the record."""
    from envs.go import coords
    from envs.go.gtp import GtpError
    from envs.go.rules import BLACK, WHITE, GoState
    from envs.go.sgf import result_string, score_string

    players = {BLACK: black, WHITE: white}
    for engine in players.values():
        engine.boardsize(size)
        engine.komi(komi)
        engine.clear_board()
    initial = state = GoState.new(size, komi=komi, move_cap=max_moves)
    end = result = ""
    while not state.is_terminal:
        colour = state.to_play
        answer = players[colour].genmove(colour, size)
        if answer == "resign":
            state = state.resign()
            end = "resignation"
            break
        if not state.is_legal(answer):
            end = "forfeit"
            reason = state.illegal_reason(answer)
            name = names[colour - 1]
            print(
                f"{name} played the illegal move {coords.to_gtp(answer, size)} ({reason}) "
                f"at move {len(state.moves) + 1}: it loses by forfeit",
                file=sys.stderr,
            )
            result = "W+F" if colour == BLACK else "B+F"
            break
        state = state.play(answer)
        players[3 - colour].play(colour, answer, size)
    if not end:
        end = "two passes" if state.consecutive_passes >= 2 else "move cap"
    if not result:
        result = result_string(state)
    engine_scores = {}
    if end in ("two passes", "move cap"):
        for colour, engine in players.items():
            try:
                engine_scores[names[colour - 1]] = engine.final_score()
            except GtpError as exc:
                engine_scores[names[colour - 1]] = f"error: {exc.message}"
    return GameResult(
        black=names[0],
        white=names[1],
        initial=initial,
        final=state,
        end=end,
        result=result,
        area_score=score_string(state.score()),
        engine_scores=engine_scores,
    )


def run_match(
    commands: tuple[str, str],
    games: int,
    size: int,
    komi: float,
    max_moves: int | None = None,
    sgf_dir: Path | None = None,
    timeout: float = 60.0,
) -> list[GameResult]:
    """``games`` games between two engine command lines, colours alternating (engine 1 black
    first); each game saved as ``<sgf_dir>/game_<k>.sgf`` when ``sgf_dir`` is given."""
    from envs.go.gtp import GtpClient
    from envs.go.sgf import game_record, save_sgf

    results = []
    with GtpClient(commands[0], timeout) as one, GtpClient(commands[1], timeout) as two:
        names = _distinct_names(one.name(), two.name())
        for k in range(games):
            black, white = (one, two) if k % 2 == 0 else (two, one)
            pair = (names[0], names[1]) if k % 2 == 0 else (names[1], names[0])
            game = play_game(black, white, pair, size, komi, max_moves)
            results.append(game)
            if sgf_dir is not None:
                record = game_record(
                    game.initial,
                    game.final,
                    black=pair[0],
                    white=pair[1],
                    result=game.result,
                    event="gtp_match",
                    game_comment=f"end: {game.end}; final_score "
                    + ", ".join(f"{n}: {s}" for n, s in game.engine_scores.items()),
                )
                save_sgf(record, sgf_dir / f"game_{k + 1:03d}.sgf")
    return results


def runnable(command: str) -> bool:
    """Whether the command line's program exists (a path, or a name on the PATH)."""
    try:
        words = shlex.split(command)
    except ValueError:  # an unclosed quote
        return False
    return bool(words) and shutil.which(words[0]) is not None


def _distinct_names(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a != b else (f"{a} (1)", f"{b} (2)")


def results_table(results: Sequence[GameResult]) -> str:
    """One row per game and a summary of wins and of final_score agreement."""
    header = ("game", "black", "white", "moves", "end", "result", "area", "final_score", "agree")
    rows = [header]
    for k, g in enumerate(results, start=1):
        agree = {None: "-", True: "yes", False: "NO"}[g.scores_agree]
        scores = " / ".join(g.engine_scores.values()) or "-"
        rows.append(
            (
                str(k),
                g.black,
                g.white,
                str(len(g.final.moves)),
                g.end,
                g.result,
                g.area_score,
                scores,
                agree,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    names = sorted({g.black for g in results} | {g.white for g in results})
    for name in names:
        wins = sum(g.winner == name for g in results)
        as_black = sum(g.winner == name for g in results if g.black == name)
        n_black = sum(g.black == name for g in results)
        lines.append(
            f"{name}: won {wins}/{len(results)} (as black {as_black}/{n_black}, "
            f"as white {wins - as_black}/{len(results) - n_black})"
        )
    scored = [g for g in results if g.scores_agree is not None]
    lines.append(
        f"final_score agrees with the area score in {sum(bool(g.scores_agree) for g in scored)}"
        f"/{len(scored)} scored games"
    )
    return "\n".join(lines)


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine1", default=OURS, metavar="CMD", help=f"default: {OURS}")
    parser.add_argument("--engine2", default=GNUGO, metavar="CMD", help=f"default: {GNUGO}")
    parser.add_argument("--games", type=int, default=2)
    parser.add_argument("--size", type=int, default=9, help="board size 5..19")
    parser.add_argument("--komi", type=float, default=7.5)
    parser.add_argument(
        "--max-moves", type=int, default=None, help="move cap (default: 2 * size * size)"
    )
    parser.add_argument("--sgf-dir", type=Path, default=None, help="write each game here as SGF")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per GTP answer")
    parser.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help="also write the results as JSON"
    )
    opts = parser.parse_args(argv)
    if opts.games < 1:
        parser.error(f"--games must be at least 1, got {opts.games}")
    if not 5 <= opts.size <= 19:
        parser.error(f"--size must be 5..19, got {opts.size}")
    if opts.max_moves is not None and opts.max_moves < 1:
        parser.error(f"--max-moves must be at least 1, got {opts.max_moves}")
    for option, engine in (("--engine1", opts.engine1), ("--engine2", opts.engine2)):
        if not runnable(engine):
            parser.error(f"{option} {engine!r}: no such program to run")
    # Imported once the arguments are read, so that --help answers at once.
    from envs.go.gtp import GtpError

    try:
        results = run_match(
            (opts.engine1, opts.engine2),
            opts.games,
            opts.size,
            opts.komi,
            opts.max_moves,
            opts.sgf_dir,
            opts.timeout,
        )
    except GtpError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(results_table(results))
    if opts.json is not None:
        opts.json.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            opts.json,
            json.dumps(
                [
                    {
                        "black": g.black,
                        "white": g.white,
                        "moves": len(g.final.moves),
                        "end": g.end,
                        "result": g.result,
                        "area_score": g.area_score,
                        "final_score": g.engine_scores,
                        "agree": g.scores_agree,
                    }
                    for g in results
                ],
                indent=2,
            )
            + "\n",
        )
    return 0


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
