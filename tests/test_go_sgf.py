"""SGF: the tree syntax, reading Go records (variations, escapes, old files, setup stones),
writing them back, training examples, and the limits on hostile input."""

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from envs.go import coords, sgf
from envs.go.gtp import GtpClient, RandomPolicy
from envs.go.rules import BLACK, WHITE, GoState
from envs.go.sgf import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_VALUE_CHARS,
    GameInfo,
    SgfError,
    SgfGame,
    format_sgf,
    format_value,
    game_record,
    parse_collection,
    read_sgf,
    read_sgf_collection,
    result_string,
    result_winner,
    save_sgf,
    score_string,
    score_value,
    sgf_to_examples,
)

DATA = Path(__file__).parent / "data" / "sgf"


def move(r, c, n):
    return r * n + c


# ----------------------------------------------------------------------------- tree syntax


def test_tree_syntax_nodes_values_and_variations():
    (tree,) = parse_collection("(;FF[4]AB[aa][bb]\n ;B[cc] (;W[dd];B[ee]) (;W[ff]))")
    assert [n.properties for n in tree.nodes] == [{"FF": ["4"], "AB": ["aa", "bb"]}, {"B": ["cc"]}]
    assert len(tree.variations) == 2
    assert [n.properties for n in tree.main_line()] == [
        {"FF": ["4"], "AB": ["aa", "bb"]},
        {"B": ["cc"]},
        {"W": ["dd"]},
        {"B": ["ee"]},
    ]


def test_escapes_soft_breaks_and_old_idents():
    text = "(;C[a \\] b \\\\ c \\\nd\ne]AddBlack[aa]b[bb]GaMe[1])"
    (tree,) = parse_collection(text)
    props = tree.nodes[0].properties
    # "\]" is "]", "\\" is one backslash, backslash-newline vanishes, a plain newline stays.
    assert props["C"] == ["a ] b \\ c d\ne"]
    assert props["AB"] == ["aa"] and props["B"] == ["bb"] and props["GM"] == ["1"]


def test_format_value_escapes_and_parses_back():
    text = "bracket ] backslash \\ end"
    assert format_value(text) == "[bracket \\] backslash \\\\ end]"
    (tree,) = parse_collection(f"(;C{format_value(text)})")
    assert tree.nodes[0].get("C") == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(;SZ[9];B[aa]", "<string>:1:1: unbalanced parentheses: this '(' is never closed"),
        ("(;SZ[9];B[aa]))", "<string>:1:15: unbalanced parentheses"),
        ("(;SZ[9]\n;B[aa", "<string>:2:3: property B: value '[' is never closed"),
        ("(;SZ[9];B)", "property B has no value"),
        ("(;SZ[9]SZ[9])", "property SZ appears twice"),
        ("(B[aa])", "a game tree must start with a node"),
        ("", "no game tree"),
        ("(;SZ[9]) junk", "unexpected 'j' after the last game tree"),
    ],
)
def test_malformed_syntax_is_refused_with_its_place(text, message):
    with pytest.raises(SgfError, match=None) as err:
        parse_collection(text)
    assert message in str(err.value)


# ----------------------------------------------------------------------------- Go records


def test_old_style_file_with_tt_and_empty_passes():
    game = read_sgf(DATA / "old_style_19.sgf")
    n = 19
    assert game.info.board_size == n and game.info.komi == 5.5
    assert game.info.black == "Old ] Timer" and game.info.white == "Back\\slash"
    assert game.info.result == "B+R"
    assert game.info.comments == {0: "a soft break and a hard\nbreak"}
    # pd: column p (15), row d (3); dp: column 3, row 15; tt and "" are passes.
    assert game.moves == [3 * n + 15, 15 * n + 3, n * n, 3 * n + 3, n * n]
    final = game.final_state()
    assert final.board()[3, 15] == BLACK and final.board()[15, 3] == WHITE
    assert final.to_play == WHITE and not final.is_terminal


def test_variations_follow_the_main_line():
    game = read_sgf(DATA / "variations.sgf")
    n = 9
    assert game.moves == [move(4, 4, n), move(2, 2, n), move(6, 6, n), move(2, 6, n)]
    assert game.info.comments == {2: "main line"}


def test_collection_first_or_all():
    first = read_sgf(DATA / "collection.sgf")
    games = read_sgf_collection(DATA / "collection.sgf")
    assert [g.info.black for g in games] == ["first", "second"]
    assert first.moves == games[0].moves == [move(2, 2, 5), move(1, 1, 5)]
    assert games[1].info.board_size == 7 and games[1].info.komi == 6.5


def test_setup_stones_with_a_compressed_rectangle():
    game = read_sgf(DATA / "handicap.sgf")
    board = game.initial.board()
    n = 9
    assert board[2, 6] == BLACK and board[6, 2] == BLACK  # gc, cg
    # ee:ff is the 2x2 block of columns e..f and rows e..f
    assert [(r, c) for r, c in zip(*np.nonzero(board == WHITE), strict=True)] == [
        (4, 4), (4, 5), (5, 4), (5, 5),
    ]  # fmt: skip
    assert game.initial.to_play == WHITE  # the first move is white's
    assert game.info.handicap == 2 and game.info.rules == "Chinese"
    assert game.moves == [move(2, 2, n), move(6, 6, n)]


def test_a_colour_moving_twice_inserts_a_pass():
    game = read_sgf("(;SZ[5];B[aa];B[bb];W[cc])")
    assert game.moves == [0, 25, 6, 12]
    assert game.info.inserted_passes == (1,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(;SZ[4])", "property SZ[4]: board size must be 5..19"),
        ("(;SZ[25])", "property SZ[25]: board size must be 5..19"),
        ("(;SZ[nine])", "property SZ[nine] is not a board size"),
        ("(;SZ[19:13])", "only square boards"),
        ("(;GM[3])", "only Go (GM[1])"),
        ("(;SZ[9]KM[lots])", "property KM[lots] is not a number"),
        (
            "(;SZ[9];B[aa];W[aa])",
            "node 2, line 1): move 2 is illegal: illegal move A9 for white: occupied",
        ),
        ("(;SZ[9];B[zz])", "node 1, line 1): property B[zz]: invalid SGF point 'zz'"),
        ("(;SZ[9];B[aa]W[bb])", "both B and W"),
        ("(;SZ[9];B[aa];AB[cc])", "setup property AB after the root"),
        ("(;SZ[5]AB[ba][ab]AW[aa])", "(root node, line 1): setup stones AB/AW:"),  # no liberty
    ],
)
def test_bad_records_name_the_property_or_move(text, message):
    with pytest.raises(SgfError) as err:
        read_sgf(text)
    assert message in str(err.value)


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "broken.sgf"
    path.write_text("(;SZ[9];B[ee];W[ee])")
    with pytest.raises(SgfError, match=r"broken\.sgf \(node 2, line 1\): move 2 is illegal"):
        read_sgf(path)
    with pytest.raises(SgfError, match=r"cannot read SGF file .*missing\.sgf"):
        read_sgf(tmp_path / "missing.sgf")


# ----------------------------------------------------------------------------- writing


def random_game(size, seed, komi=7.5, handicap=0):
    state = initial = GoState.new(size, komi=komi, handicap=handicap)
    policy = RandomPolicy(seed)
    while not state.is_terminal:
        state = state.play(policy(state))
    return initial, state


def test_round_trip_keeps_moves_metadata_and_final_position(tmp_path):
    initial, final = random_game(7, seed=3)
    record = game_record(
        initial, final, black="Ro]bot", white="back\\slash", date="2025-01-02",
        comments={0: "start", 5: "fifth [move]"},
    )  # fmt: skip
    assert record.info.result == result_string(final)
    path = save_sgf(record, tmp_path / "sub" / "game.sgf")
    back = read_sgf(path)
    assert back.moves == list(final.moves)
    assert back.info == record.info
    replayed = back.final_state()
    assert np.array_equal(replayed.board(), final.board())
    assert replayed.hash == final.hash and replayed.captures == final.captures
    assert replayed.is_terminal and replayed.score() == final.score()


def test_written_text_has_the_standard_root_and_pass_nodes():
    initial = GoState.new(5, komi=0.5)
    final = initial.play(move(2, 2, 5)).play(25).play(25)
    text = format_sgf(game_record(initial, final, black="b", white="w", date="2025-03-04"))
    assert text.startswith(
        "(;FF[4]GM[1]CA[UTF-8]AP[rlcourse]SZ[5]KM[0.5]RU[Chinese]PB[b]PW[w]DT[2025-03-04]RE[B+24.5]"
    )
    assert text.rstrip().endswith(";B[cc];W[];B[])")


def test_handicap_round_trip_writes_setup_and_player_to_move():
    initial, final = random_game(9, seed=5, komi=0.5, handicap=2)
    text = format_sgf(game_record(initial, final, handicap=2))
    assert "HA[2]" in text and "AB[" in text and "PL[W]" in text
    back = read_sgf(text)
    assert np.array_equal(back.initial.board(), initial.board())
    assert back.initial.to_play == WHITE
    assert back.final_state().hash == final.hash


def test_scores_and_results():
    assert score_string(3.5) == "B+3.5" and score_string(-0.5) == "W+0.5"
    assert score_string(0.0) == "0" and score_string(-12.0) == "W+12"
    assert [score_value(t) for t in ("B+3.5", "w+0.5", "0", "B+R", "W+", "?")] == [
        3.5, -0.5, 0.0, None, None, None,
    ]  # fmt: skip
    assert result_winner("B+R") == BLACK and result_winner("w+3.5") == WHITE
    assert result_winner("Draw") == 0 and result_winner("?") is None
    assert result_string(GoState.new(5, komi=0.5).play(12).resign()) == "B+R"


GNUGO_BIN = Path("/usr/games/gnugo")


@pytest.mark.skipif(not GNUGO_BIN.exists(), reason="needs GNU Go (.ci/run installs gnugo)")
def test_gnugo_loads_what_we_write(tmp_path):
    initial, final = random_game(9, seed=5, komi=0.5, handicap=2)
    record = game_record(initial, final, black="x ] \\ y", comments={0: "[c]", 3: "\\ ]"})
    path = save_sgf(record, tmp_path / "game.sgf")
    with GtpClient([str(GNUGO_BIN), "--mode", "gtp"]) as gnugo:
        assert gnugo.send(f"loadsgf {path}") == ("black" if final.to_play == BLACK else "white")
        for colour, name in ((BLACK, "black"), (WHITE, "white")):
            stones = {coords.from_gtp(v, 9) for v in gnugo.send(f"list_stones {name}").split()}
            assert stones == set(np.flatnonzero(final.board().ravel() == colour).tolist())


# ----------------------------------------------------------------------------- examples


def test_examples_carry_the_result_for_the_mover():
    game = read_sgf("(;SZ[9]KM[7.5]RE[W+R];B[ee];W[cc];B[gg])")
    examples = sgf_to_examples(game)
    assert [e.move for e in examples] == [40, 20, 60]
    assert [e.outcome for e in examples] == [-1.0, 1.0, -1.0]
    assert [e.state.to_play for e in examples] == [BLACK, WHITE, BLACK]
    assert examples[2].state.board()[2, 2] == WHITE  # the state before the move


def test_examples_skip_inserted_passes_and_use_the_final_position_without_re():
    # No RE: black's 25 points against white's 0 plus komi 0.5 after two passes.
    examples = sgf_to_examples("(;SZ[5]KM[0.5];B[cc];B[aa];W[];B[])")
    assert [e.move for e in examples] == [12, 0, 25, 25]
    assert [e.outcome for e in examples] == [1.0, 1.0, -1.0, 1.0]
    with pytest.raises(SgfError, match="no result"):
        sgf_to_examples("(;SZ[5];B[cc])")


def test_examples_check_the_game_settings():
    from envs.go.game import GoGame

    text = "(;SZ[9]KM[7.5]RE[B+1.5];B[ee])"
    game = GoGame(board_size=9, komi=7.5)
    (example,) = sgf_to_examples(text, game)
    assert example.state is game.initial_state() and example.move == 40
    with pytest.raises(SgfError, match=r"move 3 is illegal in this game: .*game over"):
        sgf_to_examples("(;SZ[9]KM[7.5]RE[B+R];B[ee];W[cc];B[gg])", GoGame(9, 7.5, move_cap=2))
    with pytest.raises(SgfError, match="board size 9 differs from the game's 7"):
        sgf_to_examples(text, GoGame(board_size=7, komi=7.5))
    with pytest.raises(SgfError, match=r"komi 7\.5 differs from the game's 6\.5"):
        sgf_to_examples(text, GoGame(board_size=9, komi=6.5))


def test_game_info_defaults_are_sgf_defaults():
    game = read_sgf("(;GM[1])")
    assert isinstance(game, SgfGame)
    assert game.info == GameInfo(board_size=19, komi=0.0)
    assert game.initial.board_size == 19 and game.moves == []


# ----------------------------------------------------------------------------- hostile input


def test_deep_nesting_is_refused_without_recursion():
    deep = "(;B[aa]" * (MAX_DEPTH + 1) + ")" * (MAX_DEPTH + 1)
    with pytest.raises(SgfError, match=f"nested more than {MAX_DEPTH} levels deep"):
        parse_collection(deep)
    for levels in (5_000, 100_000):  # a RecursionError before
        with pytest.raises(SgfError, match="<string>:1:"):
            read_sgf("(;" * levels + ")" * levels)
    with pytest.raises(SgfError, match="<string>:1:"):
        read_sgf("(;" * 100_000)
    # as deep as allowed: each node a variation of the one before
    deepest = "(;C[0]" + "".join(f"(;C[{k}]" for k in range(1, MAX_DEPTH)) + ")" * MAX_DEPTH
    assert read_sgf(deepest).info.comments == {0: "\n".join(map(str, range(MAX_DEPTH)))}


def test_a_value_beyond_the_limit_is_refused_while_scanning():
    longest = "x" * (MAX_VALUE_CHARS - 2) + "\\]"  # an escape counts its backslash
    assert read_sgf(f"(;C[{longest}])").info.comments == {0: "x" * (MAX_VALUE_CHARS - 2) + "]"}
    with pytest.raises(SgfError, match=f"1:4: property C: value longer than {MAX_VALUE_CHARS}"):
        read_sgf(f"(;C[{longest}x])")
    with pytest.raises(SgfError, match="value longer than"):  # never closed, however long
        read_sgf("(;C[" + "\\]" * MAX_VALUE_CHARS)


def test_a_file_beyond_the_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.sgf"
    with path.open("wb") as file:
        file.write(b"(;SZ[9]")
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk space used
    tracemalloc.start()
    try:
        with pytest.raises(SgfError, match=rf"huge\.sgf is larger than {MAX_FILE_BYTES} bytes"):
            read_sgf(path)
        assert tracemalloc.get_traced_memory()[1] < 2**20  # nothing of it was read
    finally:
        tracemalloc.stop()
    with pytest.raises(SgfError, match="cannot read SGF file"):
        read_sgf("nul\x00in the name")
    with pytest.raises(SgfError, match=f"<string>:1:1: the text is larger than {MAX_FILE_BYTES}"):
        parse_collection(" " * (MAX_FILE_BYTES + 1))


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_file_without_a_size_is_read_up_to_the_limit_only():
    with pytest.raises(SgfError, match="/dev/zero is larger than"):
        read_sgf("/dev/zero")  # stat says 0 bytes, and it never ends


def test_a_game_tree_beyond_the_node_limit_is_refused(monkeypatch):
    monkeypatch.setattr(sgf, "MAX_NODES", 100)
    assert len(read_sgf("(;SZ[9]" + ";" * 99 + ")").moves) == 0
    with pytest.raises(SgfError, match=r"<string>:1:110: more than 100 nodes in one game tree"):
        read_sgf("(;SZ[9](;;)(" + ";" * 99 + "))")
    games = read_sgf_collection(("(;SZ[5]" + ";" * 99 + ")") * 3)  # the limit is per game tree
    assert len(games) == 3


def test_setup_rectangles_are_not_expanded_into_lists():
    text = "(;SZ[19]AB" + "[aa:ss]" * 10_000 + ")"  # 3.6 million points if listed one by one
    with pytest.raises(SgfError, match="setup stones AB/AW"):  # a full board has no liberty
        read_sgf(text)
    text = "(;SZ[19]AB" + "[aa:sr]" * 10_000 + ")"
    tracemalloc.start()
    try:
        assert np.count_nonzero(read_sgf(text).initial.board()) == 19 * 18
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(text)


def test_memory_stays_a_small_multiple_of_the_file(tmp_path):
    # Annotated games: comments with brackets and backslashes cost the old value regex ~100 bytes
    # of memory per character; the readers now hold the text, one game tree and their results.
    initial, final = random_game(9, seed=1)
    comment = ("A long comment [with] brackets \\ and lines.\n" * 16_000)[:700_000]
    comments = {0: comment, 7: comment, 20: comment}
    one_game = format_sgf(game_record(initial, final, comments={3: "third [move]"}))
    path = tmp_path / "collection.sgf"
    path.write_text(format_sgf(game_record(initial, final, comments=comments)) + one_game * 200)
    size = path.stat().st_size
    assert 2_000_000 < size < 3_000_000
    for read in (read_sgf, read_sgf_collection):
        tracemalloc.start()
        try:
            games = read(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 10 * size, (read.__name__, peak / size)
    assert len(games) == 201 and games[0].info.comments == comments
