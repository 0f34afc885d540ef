"""Go rules on hand-built positions: captures, ko and superko, suicide, seki, scoring, passes,
the move cap, handicap, coordinates, error messages, and agreement with GNU Go's scorer."""

from __future__ import annotations

import pickle
import shutil
import subprocess
from textwrap import dedent

import numpy as np
import pytest

from envs.go import coords
from envs.go.rules import (
    BLACK,
    EMPTY,
    WHITE,
    GoState,
    IllegalMoveError,
    handicap_moves,
)

GNUGO = shutil.which("gnugo") or shutil.which("/usr/games/gnugo")
SYMBOLS = {".": EMPTY, "X": BLACK, "O": WHITE}


def parse(diagram: str) -> np.ndarray:
    """ASCII board (X black, O white, . empty; row 0 on top) -> [N, N] int8."""
    rows = [line.split() for line in dedent(diagram).strip().splitlines()]
    return np.array([[SYMBOLS[ch] for ch in row] for row in rows], dtype=np.int8)


def position(diagram: str, to_play: int = BLACK, komi: float = 0.5) -> GoState:
    return GoState.from_board(parse(diagram), to_play=to_play, komi=komi)


def mv(vertex: str, state: GoState) -> int:
    return coords.from_gtp(vertex, state.board_size)


def play(state: GoState, *vertices: str) -> GoState:
    for vertex in vertices:
        state = state.play(mv(vertex, state))
    return state


def test_new_state_defaults():
    s = GoState.new()
    assert (s.board_size, s.komi, s.to_play, s.move_number) == (9, 7.5, BLACK, 0)
    assert s.move_cap == 2 * 81 and s.pass_move == 81 and s.last_move is None
    assert s.moves == () and s.captures == (0, 0) and not s.is_terminal
    assert s.winner is None and s.resigned is None and s.hash == 0
    assert s.board().dtype == np.int8 and not s.board().any()
    mask = s.legal_mask()
    assert mask.shape == (82,) and mask.dtype == np.bool_ and mask.all()
    assert s.legal_moves() == list(range(82))


@pytest.mark.parametrize("size", [4, 20, 0])
def test_board_size_out_of_range_is_refused(size):
    with pytest.raises(ValueError, match=r"board size must be 5\.\.19"):
        GoState.new(size)


def test_play_returns_new_state_and_leaves_the_old_one_alone():
    s = GoState.new(5)
    t = s.play(mv("C3", s))
    assert s.board().sum() == 0 and s.to_play == BLACK
    assert t.board()[2, 2] == BLACK and t.to_play == WHITE and t.move_number == 1
    assert t.last_move == 12 and t.moves == (12,)


def test_single_stone_capture_in_the_middle():
    s = position(
        """
        . . . . .
        . . X . .
        . X O . .
        . . X . .
        . . . . .
        """
    )
    t = play(s, "D3")
    assert t.board()[2, 2] == EMPTY and t.captures == (1, 0)
    assert (
        t.hash
        == position(
            """
        . . . . .
        . . X . .
        . X . X .
        . . X . .
        . . . . .
        """
        ).hash
    )


def test_multi_stone_capture():
    s = position(
        """
        . . . . .
        . X X . .
        X O O . .
        . X X . .
        . . . . .
        """
    )
    t = play(s, "D3")
    np.testing.assert_array_equal(
        t.board(),
        parse(
            """
            . . . . .
            . X X . .
            X . . X .
            . X X . .
            . . . . .
            """
        ),
    )
    assert t.captures == (2, 0)


def test_captures_on_the_edge_and_in_the_corner():
    corner = position(
        """
        O X . . .
        . . . . .
        . . . . .
        . . . . .
        . . . . .
        """
    )
    t = play(corner, "A4")
    assert t.board()[0, 0] == EMPTY and t.captures == (1, 0)
    edge = position(
        """
        . . . . .
        . . . . .
        . X . . .
        X O X . .
        . . . . .
        """
    )
    t = play(edge, "B1")
    assert t.board()[3, 1] == EMPTY and t.captures == (1, 0)


def test_capture_of_two_groups_at_once_that_looks_like_suicide():
    s = position(
        """
        . X O . .
        X O . . .
        O . . . .
        . . . . .
        . . . . .
        """,
        to_play=WHITE,
    )
    assert s.is_legal(mv("A5", s)) and s.illegal_reason(mv("A5", s)) is None
    t = play(s, "A5")
    assert t.captures == (0, 2)
    assert t.board()[0, 1] == EMPTY and t.board()[1, 0] == EMPTY and t.board()[0, 0] == WHITE


def test_single_and_multi_stone_suicide_are_illegal():
    single = position(
        """
        . X . . .
        X . . . .
        . . . . .
        . . . . .
        . . . . .
        """,
        to_play=WHITE,
    )
    a5 = mv("A5", single)
    assert single.illegal_reason(a5) == "suicide" and not single.legal_mask()[a5]
    with pytest.raises(IllegalMoveError, match="illegal move A5 for white: suicide"):
        single.play(a5)
    multi = position(
        """
        O . X . .
        X X . . .
        . . . . .
        . . . . .
        . . . . .
        """,
        to_play=WHITE,
    )
    assert multi.illegal_reason(mv("B5", multi)) == "suicide"
    # the same point is fine for black, and filling one's own liberty with a liberty left is fine
    assert multi.play(multi.pass_move).illegal_reason(mv("B5", multi)) is None


def test_snapback():
    s = position(
        """
        . . . . .
        . . . . .
        O O O O .
        X . X O .
        X . X O .
        """,
        to_play=WHITE,
    )
    throw_in = play(s, "B1")  # puts both black pairs in atari; the white stone can be taken
    taken = play(throw_in, "B2")
    assert taken.captures == (1, 0) and taken.board()[4, 1] == EMPTY
    snapped = play(taken, "B1")  # retaking at once is legal: five stones, not a ko
    assert snapped.captures == (1, 5)
    np.testing.assert_array_equal(
        snapped.board(),
        parse(
            """
            . . . . .
            . . . . .
            O O O O .
            . . . O .
            . O . O .
            """
        ),
    )


KO = """
    . . . . .
    . X O . .
    X O . O .
    . X O . .
    . . . . .
    """


def test_simple_ko_immediate_recapture_is_superko_and_legal_after_a_threat():
    s = position(KO)
    taken = play(s, "C3")
    assert taken.captures == (1, 0)
    recapture = mv("B3", taken)
    assert taken.illegal_reason(recapture) == "superko"
    assert not taken.is_legal(recapture) and not taken.legal_mask()[recapture]
    with pytest.raises(IllegalMoveError) as err:
        taken.play(recapture)
    assert str(err.value) == "illegal move B3 for white: superko"
    assert (err.value.move, err.value.reason, err.value.colour) == (recapture, "superko", WHITE)
    after_threat = play(taken, "E5", "E1")  # a threat and its answer change the position
    retaken = play(after_threat, "B3")
    assert retaken.captures == (1, 1)
    assert retaken.illegal_reason(mv("C3", retaken)) == "superko"


TRIPLE_KO = """
    . X O . . . X O .
    X O . O . X O . O
    . X O . . . X O .
    . . . . . . . . .
    . X O . . . . . .
    X . X O . . . . .
    . X O . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    """


def test_triple_ko_cycle_is_forbidden_by_positional_superko():
    s = position(TRIPLE_KO)
    # ko 1 (B8/C8) and ko 3 (G8/H8) hold a white stone, ko 2 (B4/C4) a black one
    s = play(s, "C8", "B4", "H8", "B8", "C4")
    last = mv("G8", s)  # retaking ko 3 would recreate the starting position
    assert s.illegal_reason(last) == "superko"
    assert s.captures == (3, 2)
    # a simple-ko rule would allow it: the last capture was in ko 2, not ko 3
    assert s.last_move == mv("C4", s) and s.illegal_reason(mv("B4", s)) == "superko"


SEKI = """
    . O X . O X .
    O O X . O X X
    . O X X O X .
    O O O O X X X
    . O . O X . X
    O O O O X X X
    . O . O X . X
    """


def test_seki_shared_liberties_are_neutral_in_area_scoring():
    s = position(SEKI, komi=0.5)
    assert s.area() == (22, 25)
    assert s.score() == pytest.approx(22 - 25 - 0.5)
    own = s.ownership()
    assert own[0, 3] == 0 and own[1, 3] == 0  # the shared liberties
    assert own[0, 0] == -1 and own[4, 2] == -1 and own[0, 6] == 1 and own[4, 5] == 1  # eyes
    assert (own == 1).sum() == 22 and (own == -1).sum() == 25
    # it is seki: whoever fills a shared liberty loses the inner group
    black_fills = play(s, "D7", "D6")
    assert black_fills.captures == (0, 5)
    white_fills = play(s.play(s.pass_move), "D7", "D6")
    assert white_fills.captures == (4, 0)


def test_empty_board_is_neutral_and_komi_decides():
    s = GoState.new(5, komi=2.5)
    assert s.area() == (0, 0) and s.score() == -2.5 and not s.ownership().any()
    one = play(s, "C3")
    assert one.area() == (25, 0) and one.score() == 22.5


def test_two_passes_end_the_game_and_a_pass_changes_nothing_else():
    s = play(GoState.new(5, komi=0.5), "C3", "D3")
    p = s.play(s.pass_move)
    assert p.consecutive_passes == 1 and not p.is_terminal and p.last_move == 25
    assert p.hash == s.hash and p.captures == s.captures and p.to_play == WHITE
    np.testing.assert_array_equal(p.board(), s.board())
    q = play(p, "B3")
    assert q.consecutive_passes == 0
    end = play(q, "pass", "pass")
    assert end.is_terminal and end.consecutive_passes == 2 and end.moves[-2:] == (25, 25)
    assert end.winner == WHITE and end.score() == pytest.approx(end.area()[0] - end.area()[1] - 0.5)
    assert not end.legal_mask().any() and end.legal_moves() == []
    with pytest.raises(IllegalMoveError, match="illegal move C2 for black: game over"):
        play(end, "C2")


def test_move_cap_ends_the_game():
    s = GoState.new(5, komi=0.5, move_cap=3)
    t = play(s, "C3", "D3")
    assert not t.is_terminal
    u = play(t, "B2")
    assert u.is_terminal and u.move_number == 3 and u.winner == BLACK


@pytest.mark.parametrize("komi, winner", [(-1.0, BLACK), (0.0, EMPTY), (1.0, WHITE)])
def test_winner_follows_the_sign_of_the_score(komi, winner):
    board = parse(
        """
        . X . O .
        . X . O .
        . X . O .
        . X . O .
        . X . O .
        """
    )
    s = GoState.from_board(board, komi=komi)
    assert s.area() == (10, 10)  # the middle column touches both colours: neutral
    end = s.play(s.pass_move).play(s.pass_move)
    assert end.is_terminal and end.winner == winner


def test_resignation():
    s = play(GoState.new(5), "C3")
    r = s.resign()
    assert r.is_terminal and r.resigned == WHITE and r.winner == BLACK
    assert r.moves == s.moves and r.move_number == s.move_number
    with pytest.raises(IllegalMoveError, match="illegal move resign for white: game over"):
        r.resign()


def test_illegal_move_messages_name_the_move_and_reason():
    s = play(GoState.new(9), "E5")
    with pytest.raises(IllegalMoveError, match=r"^illegal move E5 for white: occupied$"):
        play(s, "E5")
    with pytest.raises(IllegalMoveError, match="illegal move 83 for white: off board"):
        s.play(83)
    with pytest.raises(IllegalMoveError, match="illegal move -1 for white: off board"):
        s.play(-1)
    assert s.illegal_reason(82) == "off board" and not s.is_legal(82)
    with pytest.raises(TypeError, match="a move is an int"):
        s.play(3.0)
    assert isinstance(IllegalMoveError(1, "occupied", BLACK, 9), ValueError)


def test_from_board_refuses_captured_groups_and_bad_values():
    with pytest.raises(ValueError, match="white group at row 0, col 0 has no liberties"):
        position(
            """
            O X . . .
            X . . . .
            . . . . .
            . . . . .
            . . . . .
            """
        )
    with pytest.raises(ValueError, match=r"board value 3 at row 0, col 1"):
        GoState.from_board(np.array([[0, 3, 0, 0, 0]] + [[0] * 5] * 4))
    with pytest.raises(ValueError, match="square"):
        GoState.from_board(np.zeros((5, 6), dtype=int))
    with pytest.raises(ValueError, match="to_play"):
        GoState.from_board(np.zeros((5, 5), dtype=int), to_play=EMPTY)
    with pytest.raises(ValueError, match="move_cap"):
        GoState.new(5, move_cap=0)


def test_handicap_follows_gtp_fixed_handicap():
    assert [coords.to_gtp(m, 19) for m in handicap_moves(4, 19)] == ["D4", "Q16", "D16", "Q4"]
    assert {coords.to_gtp(m, 19) for m in handicap_moves(9, 19)} == {
        "D4", "Q16", "D16", "Q4", "D10", "Q10", "K4", "K16", "K10"
    }  # fmt: skip
    assert {coords.to_gtp(m, 9) for m in handicap_moves(5, 9)} == {"C7", "G7", "E5", "C3", "G3"}
    assert {coords.to_gtp(m, 13) for m in handicap_moves(4, 13)} == {"D10", "K10", "D4", "K4"}
    assert {coords.to_gtp(m, 12) for m in handicap_moves(2, 12)} == {"J9", "D4"}
    assert {coords.to_gtp(m, 7) for m in handicap_moves(3, 7)} == {"C5", "E5", "C3"}
    s = GoState.new(9, handicap=4)
    assert s.to_play == WHITE and (s.board() == BLACK).sum() == 4 and s.move_number == 0
    for size, stones in [(9, 1), (8, 5), (7, 5), (6, 2), (19, 10)]:
        with pytest.raises(ValueError, match="handicap"):
            GoState.new(size, handicap=stones)


@pytest.mark.skipif(GNUGO is None, reason="GNU Go is not installed")
@pytest.mark.parametrize("size", [7, 8, 9, 11, 12, 13, 19])
def test_handicap_matches_gnugo(size):
    most = 4 if size == 7 or size % 2 == 0 else 9
    commands = "".join(
        f"boardsize {size}\nclear_board\nfixed_handicap {k}\n" for k in range(2, most + 1)
    )
    out = subprocess.run(
        [GNUGO, "--mode", "gtp"], input=commands, capture_output=True, text=True, timeout=60
    ).stdout
    answers = [line[2:].split() for line in out.splitlines() if line.startswith("= ") and line[2:]]
    for k, vertices in zip(range(2, most + 1), answers, strict=True):
        assert {coords.to_gtp(m, size) for m in handicap_moves(k, size)} == set(vertices)


def test_coordinates_round_trip_and_errors():
    assert (
        coords.to_gtp(0, 9) == "A9"
        and coords.to_gtp(80, 9) == "J1"
        and coords.to_gtp(81, 9) == "pass"
    )
    assert coords.from_gtp("j1", 9) == 80 and coords.from_gtp("PASS", 9) == 81
    assert (
        coords.to_sgf(0, 9) == "aa" and coords.to_sgf(81, 9) == "" and coords.to_sgf(10, 9) == "bb"
    )
    assert coords.from_sgf("tt", 19) == 361 and coords.from_sgf("", 9) == 81
    for size in (5, 9, 19):
        for move in range(size * size + 1):
            assert coords.from_gtp(coords.to_gtp(move, size), size) == move
            assert coords.from_sgf(coords.to_sgf(move, size), size) == move
    with pytest.raises(ValueError, match=r"invalid vertex 'I5'.*skip the letter I"):
        coords.from_gtp("I5", 9)
    with pytest.raises(ValueError, match=r"invalid vertex 'K5'.*off the 9x9 board"):
        coords.from_gtp("K5", 9)
    with pytest.raises(ValueError, match="invalid vertex 'A10'"):
        coords.from_gtp("A10", 9)
    with pytest.raises(ValueError, match="invalid vertex 'xyz'"):
        coords.from_gtp("xyz", 9)
    with pytest.raises(ValueError, match="invalid SGF point 'jj'"):
        coords.from_sgf("jj", 9)
    with pytest.raises(ValueError, match="off a 9x9 board"):
        coords.to_gtp(82, 9)


def test_str_shows_board_with_gtp_coordinates():
    text = str(play(GoState.new(5), "A5", "E1"))
    lines = text.splitlines()
    assert lines[0].split() == ["A", "B", "C", "D", "E"]
    assert lines[1].split() == ["5", "X", ".", ".", ".", ".", "5"]
    assert lines[5].split() == ["1", ".", ".", ".", ".", "O", "1"]
    assert "black to play" in lines[-1]


def test_initial_moves_and_pickle_rebuild_the_same_game():
    s = GoState.new(9, handicap=2)
    final = s.random_playout(7)
    start = final.initial()
    assert start.hash == s.hash and start.to_play == WHITE and start.move_number == 0
    again = start
    for move in final.moves:
        again = again.play(move)
    assert again.hash == final.hash and again.captures == final.captures
    clone = pickle.loads(pickle.dumps(final))
    assert (clone.hash, clone.moves, clone.winner) == (final.hash, final.moves, final.winner)
    assert type(clone) is GoState


def test_copy_is_equal_and_independent():
    s = play(GoState.new(5), "C3")
    c = s.copy()
    assert c is not s and c.hash == s.hash and c.moves == s.moves
    np.testing.assert_array_equal(c.legal_mask(), s.legal_mask())


def test_planes_from_the_movers_point_of_view():
    s = play(GoState.new(5), "C3", "D3", "B2")  # white to move
    planes = s.planes(history=2)
    assert planes.shape == (9, 5, 5) and planes.dtype == np.float32
    own, opp, empty, legal, colour = planes[:5]
    assert own[2, 3] == 1 and own.sum() == 1  # white's D3
    assert opp[2, 2] == 1 and opp[3, 1] == 1 and opp.sum() == 2
    assert empty.sum() == 22 and legal.sum() == 22 and not colour.any()
    assert planes[5].sum() == 1 and planes[6].sum() == 1  # before B2: one stone each
    assert planes[7].sum() == 0 and planes[8].sum() == 1  # before D3: black's C3 only


def rollout_game_is_finished(state: GoState) -> bool:
    """True when neither side has a legal move other than filling its own eye."""
    board = state.board()
    n = state.board_size
    for colour in (BLACK, WHITE):
        probe = GoState.from_board(board, to_play=colour)
        for move in np.flatnonzero(probe.legal_mask()[:-1]):
            r, c = divmod(int(move), n)
            around = [
                board[i, j]
                for i, j in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
                if 0 <= i < n and 0 <= j < n
            ]
            if any(v != colour for v in around):
                return False
    return True


def test_random_playouts_are_reproducible_and_end_with_only_eyes_left():
    s = GoState.new(9)
    a, b = s.rollout(3), s.rollout(3)
    assert a == b and a.moves > 40
    final = s.random_playout(3)
    assert final.is_terminal and final.move_number == a.moves and final.consecutive_passes == 2
    assert final.score() == a.score and final.winner == a.winner
    assert rollout_game_is_finished(final)
    assert s.rollout(4) != a


def eyes(board: np.ndarray, colour: int) -> np.ndarray:
    """[N, N] view of GoState.eye_mask on ``board``."""
    return GoState.from_board(board).eye_mask(colour).reshape(board.shape)


def test_eye_mask_by_hand():
    board = parse(
        """
        . X . X .
        X X X X X
        X . X O .
        X X O . O
        . . . . .
        """
    )
    black = eyes(board, BLACK)
    # edge points A5, C5, E5: black all round and no white diagonal (the edge counts as one)
    assert black[0, 0] and black[0, 2] and black[0, 4]
    # B3: black all round, one white diagonal (C2) of the two it may have
    assert black[2, 1]
    assert not black[4, 0]  # an empty neighbour
    assert black.sum() == 4
    assert not eyes(board, WHITE).any()
    board[4, 3] = WHITE
    # D2 is now white all round with one black diagonal (C3): an eye
    assert eyes(board, WHITE)[3, 3]
    board[2, 4] = BLACK  # a second black diagonal (E3) makes it false
    assert not eyes(board, WHITE)[3, 3]


def test_eye_mask_refuses_a_colour_that_is_not_black_or_white():
    state = GoState.new(5)
    assert not state.eye_mask(WHITE).any() and state.eye_mask(BLACK).shape == (25,)
    with pytest.raises(ValueError, match=r"colour must be BLACK \(1\) or WHITE \(2\), got 0"):
        state.eye_mask(EMPTY)
    with pytest.raises(TypeError):
        state.eye_mask("black")


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_playouts_pass_only_when_every_legal_point_is_an_own_eye(seed):
    final = GoState.new(9).random_playout(seed)
    assert final.consecutive_passes == 2
    for colour in (BLACK, WHITE):
        probe = GoState.from_board(final.board(), to_play=colour)
        assert not (probe.legal_mask()[:-1] & ~probe.eye_mask(colour)).any()


def gnugo_final_score(state: GoState) -> str:
    n = state.board_size
    lines = [f"boardsize {n}", "clear_board", f"komi {state.komi}"]
    colour = "b"
    for move in state.moves:
        lines.append(f"play {colour} {coords.to_gtp(move, n)}")
        colour = "w" if colour == "b" else "b"
    lines += ["final_score", "quit"]
    out = subprocess.run(
        [GNUGO, "--mode", "gtp", "--chinese-rules"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    answers = [line for line in out.splitlines() if line.startswith(("=", "?"))]
    assert not any(a.startswith("?") for a in answers), answers
    return answers[-2][2:].strip()


def our_result(score: float) -> str:
    if score == 0:
        return "0"
    return f"{'B' if score > 0 else 'W'}+{abs(score):.1f}"


@pytest.mark.skipif(GNUGO is None, reason="GNU Go is not installed")
@pytest.mark.parametrize("size", [7, 9])
def test_area_score_agrees_with_gnugo_on_finished_random_games(size):
    """Playouts end when only eye-filling moves remain, so every group left on the board is
    unconditionally alive and GNU Go's Chinese count must equal our Tromp-Taylor count."""
    start = GoState.new(size, komi=7.5)
    for seed in range(6):
        final = start.random_playout(seed)
        assert final.consecutive_passes == 2
        assert gnugo_final_score(final) == our_result(final.score()), seed
