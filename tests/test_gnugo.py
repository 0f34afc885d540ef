"""Held against GNU Go: it speaks GTP with our client, its Chinese-rules final_score equals our
Tromp-Taylor score on played-out positions, and the referee plays whole games against it."""

import importlib.util
import shlex
import sys
from pathlib import Path

import pytest

from envs.go import coords
from envs.go.gtp import GtpClient, GtpError
from envs.go.rules import BLACK, WHITE, GoState
from envs.go.sgf import read_sgf, result_string, score_string

ROOT = Path(__file__).resolve().parent.parent
GNUGO_BIN = Path("/usr/games/gnugo")
pytestmark = pytest.mark.skipif(
    not GNUGO_BIN.exists(),
    reason="needs GNU Go at /usr/games/gnugo (.ci/run installs the Debian package gnugo)",
)
GNUGO = f"{GNUGO_BIN} --mode gtp --level 1 --chinese-rules --positional-superko"


def referee():
    spec = importlib.util.spec_from_file_location(
        "script_gtp_match", ROOT / "scripts" / "gtp_match.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gnugo():
    with GtpClient(GNUGO) as client:
        yield client


def gnugo_score(gnugo, state):
    """GNU Go's final_score for the moves of ``state`` played on an empty board."""
    size = state.board_size
    gnugo.boardsize(size)
    gnugo.komi(state.komi)
    gnugo.clear_board()
    colour = BLACK
    for move in state.moves:
        gnugo.play(colour, move, size)
        colour = 3 - colour
    return gnugo.final_score()


def test_gnugo_speaks_gtp_through_our_client(gnugo):
    assert gnugo.name() == "GNU Go"
    gnugo.boardsize(5)
    gnugo.komi(0.5)
    gnugo.clear_board()
    gnugo.play(BLACK, coords.from_gtp("C3", 5), 5)
    reply = gnugo.genmove(WHITE, 5)
    assert isinstance(reply, int) and 0 <= reply <= 25 and reply != 12
    with pytest.raises(GtpError):
        gnugo.play(BLACK, coords.from_gtp("C3", 5), 5)  # occupied


@pytest.mark.parametrize(
    ("size", "games"),
    [
        (5, 12),
        (7, 8),
        (9, 4),
        pytest.param(5, 200, marks=pytest.mark.slow),
        pytest.param(7, 200, marks=pytest.mark.slow),
        pytest.param(9, 100, marks=pytest.mark.slow),
    ],
)
def test_area_score_agrees_with_gnugo_on_played_out_games(gnugo, size, games):
    """Random games (never filling own eyes) end when no other legal move is left: no dead
    stones remain, so Chinese counting and Tromp-Taylor must give the same number exactly.
    Positions cut halfway are reported only: GNU Go then estimates territory."""
    played_out = 0
    early_agree = 0
    for seed in range(games):
        final = GoState.new(size, komi=7.5).random_playout(seed)
        if final.consecutive_passes == 2:  # not stopped by the move cap
            played_out += 1
            assert gnugo_score(gnugo, final) == score_string(final.score()), f"seed {seed}"
        half = GoState.new(size, komi=7.5)
        for move in final.moves[: len(final.moves) // 2]:
            half = half.play(move)
        early_agree += gnugo_score(gnugo, half) == score_string(half.score())
    assert played_out >= games // 2
    print(
        f"\n{size}x{size}: exact agreement on {played_out}/{played_out} played-out games; "
        f"on positions cut halfway {early_agree}/{games}"
    )


def test_referee_plays_ours_against_gnugo(tmp_path):
    match = referee()
    script = shlex.quote(str(ROOT / "scripts" / "gtp.py"))
    ours = f"{shlex.quote(sys.executable)} {script} --agent random --seed 1"
    (game,) = match.run_match((ours, match.GNUGO), games=1, size=7, komi=7.5, sgf_dir=tmp_path)
    assert (game.black, game.white) == ("rlcourse", "GNU Go")
    assert game.end == "two passes"
    assert game.scores_agree is True
    assert game.result == game.area_score == result_string(game.final)
    record = read_sgf(tmp_path / "game_001.sgf")
    assert (record.info.black, record.info.white, record.info.result) == (
        "rlcourse",
        "GNU Go",
        game.result,
    )
    replayed = record.final_state()
    assert replayed.is_terminal and replayed.hash == game.final.hash
    assert score_string(replayed.score()) == game.result


def test_referee_command_line_prints_the_table(tmp_path, capsys):
    out = tmp_path / "results.json"
    assert referee().main(["--games", "2", "--size", "5", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "GNU Go: won" in table and "rlcourse: won" in table
    assert "final_score agrees with the area score in 2/2 scored games" in table
    assert out.read_text().count('"agree": true') == 2
