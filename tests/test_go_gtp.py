"""GTP: the engine command by command (responses, ids, errors), coordinates, undo, showboard,
whole games in process, the client over a subprocess, and scripts/gtp.py's options."""

import importlib.util
import io
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

from envs.go import coords
from envs.go.gtp import (
    GtpClient,
    GtpEngine,
    GtpError,
    RandomPolicy,
    format_response,
    parse_command,
)
from envs.go.rules import BLACK, WHITE, GoState
from envs.go.sgf import read_sgf, score_string

ROOT = Path(__file__).resolve().parent.parent
GTP_SCRIPT = ROOT / "scripts" / "gtp.py"


def first_legal(state):
    """A deterministic policy: the lowest legal point, else pass."""
    return int(np.flatnonzero(state.legal_mask())[0])


@pytest.fixture
def engine():
    return GtpEngine(first_legal, name="tester", version="1.2", board_size=5, komi=7.5)


def answers(engine, *lines):
    return [engine.handle(line) for line in lines]


# ----------------------------------------------------------------------------- protocol


def test_parse_command_preprocessing():
    assert parse_command("  \t ") is None
    assert parse_command("# just a comment") is None
    assert parse_command("12 play\tB  d4 # hello\r") == (12, "play", ["B", "d4"])
    assert parse_command("genmove w") == (None, "genmove", ["w"])
    assert format_response(3, "a\n\nb") == "=3 a\nb\n\n"  # no empty line inside a response


def test_administrative_commands(engine):
    assert answers(engine, "protocol_version", "name", "version") == [
        "= 2\n\n",
        "= tester\n\n",
        "= 1.2\n\n",
    ]
    assert engine.handle("known_command genmove") == "= true\n\n"
    assert engine.handle("known_command kgs-chat") == "= false\n\n"
    listed = engine.handle("list_commands")
    assert listed.startswith("= ") and listed.endswith("\n\n")
    assert listed[2:-2].split("\n") == list(GtpEngine.COMMANDS)


def test_ids_are_echoed_on_success_and_failure(engine):
    assert engine.handle("5 name") == "=5 tester\n\n"
    assert engine.handle("7 frobnicate") == "?7 unknown command\n\n"
    assert engine.handle("8 boardsize 3") == "?8 unacceptable size\n\n"
    assert engine.handle("9 clear_board") == "=9 \n\n"


def test_error_responses_for_bad_input(engine):
    assert engine.handle("frobnicate") == "? unknown command\n\n"
    assert engine.handle("boardsize 20") == "? unacceptable size\n\n"
    assert engine.handle("boardsize nine") == "? syntax error\n\n"
    assert engine.handle("boardsize") == "? syntax error\n\n"
    assert engine.handle("komi lots") == "? syntax error\n\n"
    assert engine.handle("komi nan") == "? syntax error\n\n"
    assert engine.handle("play purple C3") == "? syntax error\n\n"
    assert engine.handle("play b I3") == "? syntax error\n\n"  # GTP has no column I
    assert engine.handle("play b F3") == "? syntax error\n\n"  # off a 5x5 board
    assert engine.handle("play b") == "? syntax error\n\n"
    assert engine.handle("genmove") == "? syntax error\n\n"
    assert engine.handle("undo") == "? cannot undo\n\n"
    assert engine.handle("play b C3") == "= \n\n"
    assert engine.handle("play w C3") == "? illegal move\n\n"
    assert engine.state.moves == (12,)  # the refused move changed nothing


def test_colours_are_case_insensitive(engine):
    for colour, expected in (("B", BLACK), ("black", BLACK), ("W", WHITE), ("WHITE", WHITE)):
        engine.handle("clear_board")
        engine.handle(f"play {colour} c3")
        assert engine.state.board()[2, 2] == expected


@pytest.mark.parametrize(
    ("vertex", "size", "row", "col"),
    [
        ("A1", 19, 18, 0),  # bottom left
        ("T19", 19, 0, 18),  # top right: T is the 19th column letter once I is skipped
        ("J9", 19, 10, 8),  # J is the 9th column (A..H then J); row 9 from the bottom is row 10
        ("H8", 9, 1, 7),
        ("J1", 9, 8, 8),
        ("e5", 5, 0, 4),
    ],
)
def test_vertices_skip_the_letter_i(vertex, size, row, col):
    engine = GtpEngine(first_legal, board_size=size)
    assert engine.handle(f"play b {vertex}") == "= \n\n"
    assert engine.state.board()[row, col] == BLACK
    assert coords.to_gtp(row * size + col, size) == vertex.upper()


def test_boardsize_and_komi_reset_and_rescore(engine):
    engine.handle("play b C3")
    assert engine.handle("boardsize 7") == "= \n\n"
    assert engine.state.board_size == 7 and engine.state.moves == ()
    engine.handle("play b D4")
    # komi may change mid-game: the moves stay and the score uses the new komi
    assert engine.handle("komi 0.5") == "= \n\n"
    assert engine.state.moves == (24,) and engine.state.komi == 0.5
    assert engine.handle("final_score") == "= B+48.5\n\n"  # 49 points to 0, minus 0.5


def test_final_score_by_area(engine):
    # Black walls column C, white column D on 5x5: black owns A-C (15), white D-E (10).
    for row in range(1, 6):
        engine.handle(f"play b C{row}")
        engine.handle(f"play w D{row}")
    assert engine.handle("final_score") == "= W+2.5\n\n"  # 15 - 10 - 7.5
    engine.handle("komi 0.5")
    assert engine.handle("final_score") == "= B+4.5\n\n"
    engine.handle("komi 5")
    assert engine.handle("final_score") == "= 0\n\n"


def test_genmove_plays_for_the_colour_asked(engine):
    assert engine.handle("genmove b") == "= A5\n\n"  # the lowest point, row 0 column 0
    assert engine.handle("genmove w") == "= B5\n\n"
    # out of turn: white again is taken as black passing first
    assert engine.handle("genmove w") == "= C5\n\n"
    assert engine.state.moves == (0, 1, 25, 2)
    assert engine.state.to_play == BLACK


def test_out_of_turn_after_a_pass_continues_from_the_stones(engine):
    engine.handle("play b C3")
    engine.handle("play w pass")
    # a second white move would need a black pass, which would end the game: play goes on
    assert engine.handle("play w D4") == "= \n\n"
    board = engine.state.board()
    assert board[2, 2] == BLACK and board[1, 3] == WHITE
    assert engine.state.to_play == BLACK and not engine.state.is_terminal
    # and after two passes the game can still be continued by either colour
    answers(engine, "play b pass", "play w pass")
    assert engine.handle("play b A1") == "= \n\n"
    assert engine.state.board()[4, 0] == BLACK


def test_genmove_resign_and_bad_policies():
    engine = GtpEngine(lambda state: "resign", board_size=5)
    assert engine.handle("genmove b") == "= resign\n\n"
    assert engine.state.moves == ()
    engine = GtpEngine(lambda state: 0, board_size=5)
    engine.handle("play b A5")
    assert engine.handle("genmove w") == (
        "? the policy chose an illegal move: illegal move A5 for white: occupied\n\n"
    )


def test_undo_steps_back_one_command(engine):
    answers(engine, "play b C3", "play w D3", "genmove w")  # the last one inserts a black pass
    assert engine.state.moves == (12, 13, 25, 0)
    assert engine.handle("undo") == "= \n\n"
    assert engine.state.moves == (12, 13)
    assert answers(engine, "undo", "undo", "undo") == ["= \n\n", "= \n\n", "? cannot undo\n\n"]
    assert engine.state.moves == ()


def test_undo_restores_captured_stones(engine):
    # white C3 surrounded: B C2, D3, C4 then B3 captures it
    answers(engine, "play b C2", "play w C3", "play b D3", "play w A1", "play b C4",
            "play w A2", "play b B3")  # fmt: skip
    assert engine.state.board()[2, 2] == 0 and engine.state.captures == (1, 0)
    engine.handle("undo")
    assert engine.state.board()[2, 2] == WHITE and engine.state.captures == (0, 0)


def test_showboard(engine):
    answers(engine, "play b C3", "play w D2")
    response = engine.handle("showboard")
    lines = response.split("\n")
    assert lines[0] == "= "  # the board starts on the next line
    assert response.endswith("\n\n") and "" not in lines[:-2]  # no blank line inside
    rows = [line.strip() for line in lines[1:8]]
    assert rows == [
        "A B C D E",
        "5 . . . . . 5",
        "4 . . . . . 4",
        "3 . . X . . 3",
        "2 . . . O . 2",
        "1 . . . . . 1",
        "A B C D E",
    ]
    assert "black to play" in response and "komi 7.5" in response


def test_quit_and_serve():
    engine = GtpEngine(first_legal, board_size=5)
    stdin = io.StringIO("1 name\n\n# comment\n2 play b c3\n3 quit\n4 name\n")
    stdout = io.StringIO()
    engine.serve(stdin, stdout)
    assert stdout.getvalue() == "=1 rlcourse\n\n=2 \n\n=3 \n\n"


def test_a_whole_random_game_in_process():
    engine = GtpEngine(RandomPolicy(7), board_size=7, komi=7.5)
    state = GoState.new(7, komi=7.5)
    colour = "b"
    while not state.is_terminal:
        answer = engine.handle(f"genmove {colour}")
        assert answer.startswith("= ")
        state = state.play(coords.from_gtp(answer[2:].strip(), 7))
        colour = "w" if colour == "b" else "b"
    assert engine.state.moves == state.moves and engine.state.is_terminal
    assert engine.handle("final_score") == f"= {score_string(state.score())}\n\n"
    assert len(state.moves) > 20


# ----------------------------------------------------------------------------- policies


def test_random_policy_is_seeded_and_avoids_own_eyes():
    b = BLACK
    board = np.zeros((5, 5), dtype=np.int8)
    board[0] = [0, b, 0, b, 0]
    board[1] = b
    # black's eyes A5, C5, E5 are left out; every point of rows 3..1 is a candidate
    assert set(RandomPolicy(0).candidates(GoState.from_board(board, BLACK)).tolist()) == set(
        range(10, 25)
    )
    # white may not play in black's eyes either (suicide)
    assert set(RandomPolicy(0).candidates(GoState.from_board(board, WHITE)).tolist()) == set(
        range(10, 25)
    )
    games = []
    for _ in range(2):
        policy, s = RandomPolicy(11), GoState.new(5)
        while not s.is_terminal:
            s = s.play(policy(s))
        games.append(s.moves)
    assert games[0] == games[1]


# ----------------------------------------------------------------------------- client and script


@pytest.fixture
def our_engine():
    command = [
        sys.executable,
        str(GTP_SCRIPT),
        "--agent",
        "random",
        "--seed",
        "3",
        "--board-size",
        "5",
    ]
    with GtpClient(command) as client:
        yield client


def test_client_talks_to_our_script(our_engine):
    assert our_engine.name() == "rlcourse"
    our_engine.boardsize(7)
    our_engine.komi(0.5)
    our_engine.clear_board()
    our_engine.play(BLACK, coords.from_gtp("D4", 7), 7)
    reply = our_engine.genmove(WHITE, 7)
    assert isinstance(reply, int) and reply != coords.from_gtp("D4", 7)
    assert our_engine.send("showboard").lstrip().startswith("A B C D E F G")
    with pytest.raises(GtpError) as err:
        our_engine.send("play b Z9")
    assert err.value.message == "syntax error" and err.value.command == "play b Z9"
    our_engine.send("undo")  # white's move: black D4 alone owns the board
    assert our_engine.final_score() == "B+48.5"


def test_client_reports_a_dead_engine():
    dying = [sys.executable, "-c", "import sys; sys.stderr.write('boom\\n')"]
    with GtpClient(dying) as client, pytest.raises(GtpError, match=r"the engine exited.*boom"):
        client.send("name")
    with GtpClient(dying) as client:  # dead before the command is written: the same report
        client.process.wait(timeout=10)
        with pytest.raises(GtpError, match=r"the engine exited.*boom"):
            client.send("name")
    with pytest.raises(GtpError, match="cannot start the engine"):
        GtpClient(["/nonexistent/engine"])


SLOW_FIRST_ANSWER = """
import sys, time
for line in sys.stdin:
    command_id = line.split()[0]
    if command_id == "1":
        time.sleep(0.6)
    print(f"={command_id} answer {command_id}\\n", flush=True)
"""


def test_client_times_out_and_skips_the_late_answer():
    with GtpClient([sys.executable, "-c", SLOW_FIRST_ANSWER], timeout=0.3) as client:
        with pytest.raises(GtpError, match=r"no answer within 0\.3 s"):
            client.send("name")
        client.timeout = 5.0
        assert client.send("version") == "answer 2"


def load_script(name):
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_script_refuses_options_its_agent_cannot_use(capsys):
    main = load_script("gtp").main
    assert main(["--checkpoint", "net.pt"]) == 2  # the default agent plays the shipped networks
    err = capsys.readouterr().err
    assert "--checkpoint net.pt" in err and "loads checkpoints" in err and "Traceback" not in err
    assert main(["--agent", "random", "--checkpoint", "net.pt"]) == 2
    assert "loads checkpoints" in capsys.readouterr().err
    assert main(["--agent", "random", "--sims", "50"]) == 2
    assert "--sims: agent 'random' does no search" in capsys.readouterr().err
    assert main(["--board-size", "4"]) == 2
    assert "board_size must be 5..19" in capsys.readouterr().err


def test_script_serves_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("boardsize 5\ngenmove b\nquit\n"))
    assert load_script("gtp").main(["--agent", "random", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    first, second, third = out.split("\n\n")[:3]
    assert first == "= " and third == "= "
    assert second.startswith("= ") and coords.from_gtp(second[2:], 5) < 25


ALWAYS_A1 = """
import sys
for line in sys.stdin:
    command_id, name = line.split()[:2]
    answer = {"name": "stubborn", "genmove": "A1"}.get(name, "")
    print(f"={command_id} {answer}\\n", flush=True)
    if name == "quit":
        break
"""


def test_referee_forfeits_an_illegal_move(tmp_path):
    match = load_script("gtp_match")
    stubborn = shlex.join([sys.executable, "-c", ALWAYS_A1])
    ours = shlex.join([sys.executable, str(GTP_SCRIPT), "--agent", "random", "--seed", "2"])
    (game,) = match.run_match((stubborn, ours), games=1, size=5, komi=0.5, sgf_dir=tmp_path)
    # black plays A1, white answers, black plays A1 again: occupied, white wins by forfeit
    assert (game.black, game.white) == ("stubborn", "rlcourse")
    assert game.end == "forfeit" and game.result == "W+F" and game.scores_agree is None
    assert len(game.final.moves) == 2 and game.final.moves[0] == 20
    assert read_sgf(tmp_path / "game_001.sgf").info.result == "W+F"
    assert "forfeit" in match.results_table([game])


def test_referee_stops_at_the_move_cap_and_compares_scores():
    match = load_script("gtp_match")
    one = shlex.join([sys.executable, str(GTP_SCRIPT), "--agent", "random", "--seed", "1"])
    two = shlex.join([sys.executable, str(GTP_SCRIPT), "--agent", "random", "--seed", "2"])
    games = match.run_match((one, two), games=2, size=5, komi=7.5, max_moves=6)
    assert [(g.black, g.white) for g in games] == [
        ("rlcourse (1)", "rlcourse (2)"),
        ("rlcourse (2)", "rlcourse (1)"),
    ]
    for game in games:
        assert game.end == "move cap" and len(game.final.moves) == 6
        assert game.result == game.area_score == score_string(game.final.score())
        assert game.scores_agree is True  # the same rules on both sides
    table = match.results_table(games)
    assert "final_score agrees with the area score in 2/2 scored games" in table


def test_a_policy_that_cannot_play_gets_an_error_response_and_the_engine_goes_on():
    def five_by_five_only(state):
        if state.board_size != 5:
            raise ValueError(f"the network plays 5x5, the board is {state.board_size}x9")
        return 0

    engine = GtpEngine(five_by_five_only, board_size=9)
    assert engine.handle("genmove b") == (
        "? the policy cannot play this position: the network plays 5x5, the board is 9x9\n\n"
    )
    assert engine.handle("boardsize 5").startswith("=")
    assert engine.handle("genmove b") == "= A5\n\n"


# ----------------------------------------------------------------------------- hostile input


def test_numbers_too_long_for_int_get_error_replies(engine):
    # int() refuses 4,300 digits and more: these raised ValueError out of handle()
    assert engine.handle("1" * 5000 + " name") == "? unknown command\n\n"
    assert engine.handle("boardsize " + "9" * 5000) == "? syntax error\n\n"
    assert engine.handle("boardsize \u0667") == "? syntax error\n\n"  # an Arabic-Indic 7
    assert engine.handle("123456789012345678 name") == "=123456789012345678 tester\n\n"


def test_serve_answers_bytes_that_are_not_utf8():
    engine = GtpEngine(first_legal, board_size=5)
    stdin = io.TextIOWrapper(
        io.BytesIO(b"1 name\n2 play b \xff\xfe\r\n3 known_command n\xe4me\n4 quit\n")
    )
    stdout = io.StringIO()
    engine.serve(stdin, stdout)  # strict UTF-8 text: a UnicodeDecodeError stopped the engine
    assert stdout.getvalue() == "=1 rlcourse\n\n?2 syntax error\n\n=3 false\n\n=4 \n\n"
