"""Hostile input, drawn by hypothesis: any bytes read as SGF give a game or an SgfError, our SGF
trees agree with sgfmill's, and every GTP command line gets one well-formed reply."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envs.go.gtp import GtpEngine, parse_command
from envs.go.rules import GoState
from envs.go.sgf import (
    SgfError,
    SgfGame,
    format_sgf,
    format_value,
    game_record,
    parse_collection,
    read_sgf,
    sgf_to_examples,
)

# Each property gets a deadline (a hang fails it) and a bounded number of examples, so that the
# file runs in seconds. These settings are laid over the current profile: with CI=true that is
# hypothesis' "ci" profile, which derandomizes the examples. No example database is written.
FUZZ = settings(
    max_examples=150,
    deadline=timedelta(seconds=2),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Pieces of SGF and Go properties, so that random text reaches the Go layer and not only the
# tree syntax.
SGF_PIECES = [
    "(", ")", ";", "(;", "[", "]", "\\", "\n", " ", ":", "B[", "W[", "C[", "AB[", "AW[", "AE[",
    "SZ[", "KM[", "HA[", "PL[", "GM[", "RE[", "FF[4]", "AddBlack[", "b[", "aa", "cc", "ee", "tt",
    "zz", "aa:ee", "5", "9", "19", "7.5", "-1", "nan", "1e999", "B+R", "W+3.5", "]", "];", "\ufeff",
]  # fmt: skip
sgf_like = st.lists(st.sampled_from(SGF_PIECES) | st.text(max_size=4), max_size=40).map("".join)


def read_or_refuse(read, source):
    """``read(source)``, or None when it raised SgfError; any other exception fails the test."""
    try:
        return read(source)
    except SgfError:
        return None


@pytest.fixture(scope="module")
def sgf_path(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "game.sgf"


@FUZZ
@given(data=st.binary(max_size=300) | sgf_like.map(lambda s: s.encode("utf-8", "replace")))
def test_any_bytes_in_a_file_give_a_game_or_an_sgf_error(sgf_path, data):
    sgf_path.write_bytes(data)
    game = read_or_refuse(read_sgf, sgf_path)
    assert game is None or isinstance(game, SgfGame)
    examples = read_or_refuse(sgf_to_examples, sgf_path)
    assert examples is None or isinstance(examples, list)


@FUZZ
@given(text=sgf_like)
def test_any_text_gives_trees_or_an_sgf_error(text):
    trees = read_or_refuse(parse_collection, text)
    assert trees is None or trees
    game = read_or_refuse(read_sgf, "(" + text)  # a string that starts with '(' is SGF text
    assert game is None or isinstance(game, SgfGame)


@FUZZ
@given(text=st.text(max_size=60))
def test_a_string_that_is_not_sgf_is_a_path_that_cannot_be_read(text):
    if not text.lstrip("\ufeff \t\r\n").startswith("("):
        with pytest.raises(SgfError, match="cannot read SGF file"):
            read_sgf(text + "\x00")  # no file has a NUL character in its name


# ----------------------------------------------------------------------------- sgfmill as oracle

try:  # sgfmill is a test oracle only: without it these tests are skipped, not the file
    from sgfmill import sgf, sgf_grammar
except ImportError:  # pragma: no cover
    sgf = sgf_grammar = None
oracle = pytest.mark.skipif(sgf is None, reason="sgfmill is not installed")


def normalised(text: str) -> str:
    """``text`` with the whitespace mapping sgfmill's Text values get (line breaks as LF, tabs,
    form feeds and vertical tabs as spaces); the rest of an unescaped value is the same."""
    return re.sub(r"\r\n|\n\r|\r", "\n", text).translate(str.maketrans("\t\f\v", "   "))


def our_tree(tree) -> tuple:
    nodes = [{i: [normalised(v) for v in vs] for i, vs in n.properties.items()} for n in tree.nodes]
    return nodes, [our_tree(child) for child in tree.variations]


def sgfmill_tree(tree) -> tuple:
    text = sgf_grammar.text_value  # escapes undone, soft line breaks dropped
    nodes = [
        {i: [text(v).decode("ascii") for v in vs] for i, vs in n.items()} for n in tree.sequence
    ]
    return nodes, [sgfmill_tree(child) for child in tree.children]


def both_parse_alike(text: str) -> list:
    """Our trees of ``text``, after checking that sgfmill reads the same trees and values."""
    ours = parse_collection(text)
    theirs = sgf_grammar.parse_sgf_collection(text.encode("ascii"))
    assert [our_tree(t) for t in ours] == [sgfmill_tree(t) for t in theirs]
    return ours


idents = st.sampled_from(["B", "W", "C", "AB", "GN", "XYZ", "MULTIGOGM"])
plain_values = st.text(
    st.characters(codec="ascii", exclude_categories=["Cc"]) | st.sampled_from("\n\\]")
)
# values as they stand in a file: escapes, soft line breaks (a backslash before LF, CRLF, LFCR),
# tabs. No bare CR: sgfmill maps line breaks to LF before it drops soft ones, we keep them as
# they are, so a CR and an LF that a soft break separated would count twice there, once here.
RAW_PIECES = ["a", " ", ":", "\t", "\n", "\\\\", "\\]", "\\a", "\\\n", "\\\r\n", "\\\n\r"]
raw_values = st.lists(st.sampled_from(RAW_PIECES), max_size=6).map("".join)


def game_trees(values) -> st.SearchStrategy:
    """``(sequence of {ident: values}, variations)`` tuples."""
    nodes = st.dictionaries(idents, st.lists(values, min_size=1, max_size=3), max_size=3)
    sequences = st.lists(nodes, min_size=1, max_size=3)
    return st.recursive(
        st.tuples(sequences, st.just([])),
        lambda children: st.tuples(sequences, st.lists(children, min_size=1, max_size=3)),
        max_leaves=5,
    )


def written(tree: tuple, value=format_value) -> str:
    """A drawn tree as SGF text, each value written by ``value`` (brackets included)."""
    sequence, variations = tree
    nodes = (";" + "".join(i + "".join(map(value, vs)) for i, vs in n.items()) for n in sequence)
    return "(" + "".join(nodes) + "".join(written(v, value) for v in variations) + ")"


def drawn(tree) -> tuple:
    """One of our trees in the drawn form."""
    return [n.properties for n in tree.nodes], [drawn(child) for child in tree.variations]


ORACLE = settings(FUZZ, max_examples=40)  # drawing trees is slow


@oracle
@ORACLE
@given(collection=st.lists(game_trees(plain_values), min_size=1, max_size=3))
def test_trees_we_write_read_back_alike_in_sgfmill_and_ours(collection):
    ours = both_parse_alike("\n".join(map(written, collection)))
    assert [drawn(tree) for tree in ours] == collection


SPACES = st.sampled_from(["", "", " ", "\n", "\t\r\n"])
OLD_IDENTS = st.sampled_from(["B", "C", "AddBlack", "GaMe", "XYZ", "MULTIGOGM"])  # FF[3]: AB, GM


@st.composite
def sgf_texts(draw, depth: int = 0) -> str:
    """A game tree as people and old programs write it: values with escapes and soft line
    breaks, white space between tokens, lowercase letters inside idents."""

    def space() -> str:
        return draw(SPACES)

    def node() -> str:
        props = draw(st.dictionaries(OLD_IDENTS, st.lists(raw_values, min_size=1, max_size=2)))
        values = ("".join(f"[{v}]{space()}" for v in vs) for vs in props.values())
        return ";" + space() + "".join(i + space() + v for i, v in zip(props, values, strict=True))

    nodes = [node() for _ in range(draw(st.integers(1, 3)))]
    children = [draw(sgf_texts(depth + 1)) for _ in range(draw(st.integers(0, 2 * (depth < 3))))]
    return "(" + space() + space().join(nodes) + space() + "".join(children) + ")" + space()


@oracle
@ORACLE
@given(texts=st.lists(sgf_texts(), min_size=1, max_size=3))
def test_escapes_spaces_and_old_idents_read_alike_in_sgfmill_and_ours(texts):
    both_parse_alike("".join(texts))


@oracle
@FUZZ
@given(seed=st.integers(0, 2**32 - 1), size=st.sampled_from([5, 9, 19]), handicap=st.booleans())
def test_sgfmill_reads_the_games_we_write(seed, size, handicap):
    rng = np.random.default_rng(seed)
    state = initial = GoState.new(size, komi=6.5, handicap=2 if handicap and size >= 7 else 0)
    while not state.is_terminal and len(state.moves) < 60:
        state = state.play(int(rng.choice(np.flatnonzero(state.legal_mask()))))
    record = game_record(initial, state, black="B ] \\ x", comments={1: "one [1]"})
    game = sgf.Sgf_game.from_bytes(format_sgf(record).encode("utf-8"))
    assert (game.get_size(), game.get_komi(), game.get_player_name("b")) == (size, 6.5, "B ] \\ x")
    black, white, empty = game.get_root().get_setup_stones()
    assert len(black) + len(white) == np.count_nonzero(initial.board()) and not empty
    moves = [node.get_move() for node in game.get_main_sequence()[1:]]
    ours = [divmod(m, size) if m < size * size else None for m in record.moves]
    # sgfmill counts rows from the bottom; pass is None
    assert [None if p is None else (size - 1 - p[0], p[1]) for _, p in moves] == ours
    assert game.get_main_sequence()[1].get("C") == "one [1]"


# ----------------------------------------------------------------------------- GTP engine


def first_legal(state):
    return int(np.flatnonzero(state.legal_mask())[0])


GTP_WORDS = [
    *GtpEngine.COMMANDS,
    *("b", "w", "black", "pass", "A1", "C3", "E5", "Z9", "I3", "5", "19", "7.5", "-3", "nan"),
    *("inf", "resign", "#", "\t", "\r", "\x00", "12", "\u0663"),  # U+0663: an Arabic-Indic 3
]
command_lines = st.lists(st.sampled_from(GTP_WORDS) | st.text(max_size=6), max_size=6).map(" ".join)
REPLY = re.compile(r"[=?][0-9]* [^\n]*(\n[^\n]+)*\n\n")  # GTP: no empty line inside a reply


@FUZZ
@given(lines=st.lists(command_lines | st.text(max_size=20), min_size=1, max_size=8))
def test_every_command_line_gets_one_well_formed_reply(lines):
    engine = GtpEngine(first_legal, board_size=5)
    for line in lines:
        reply = engine.handle(line)
        command = parse_command(line)
        if command is None:
            assert reply == ""
        else:
            assert REPLY.fullmatch(reply), reply
            assert command.name in GtpEngine.COMMANDS or reply.startswith("?")


@FUZZ
@given(data=st.binary(max_size=200) | command_lines.map(lambda s: s.encode("utf-8", "replace")))
def test_any_bytes_on_stdin_get_a_reply_per_command_line(data):
    engine = GtpEngine(first_legal, board_size=5)
    stdin, stdout = io.TextIOWrapper(io.BytesIO(data + b"\nquit\n")), io.StringIO()
    engine.serve(stdin, stdout)  # a text stream like sys.stdin (strict UTF-8 if read as text)
    lines = [raw.decode("utf-8", "replace") for raw in data.split(b"\n")]
    names = [c.name for c in map(parse_command, lines) if c is not None] + ["quit"]
    replies = stdout.getvalue().split("\n\n")
    assert replies.pop() == ""
    assert all(REPLY.fullmatch(reply + "\n\n") for reply in replies), replies
    assert len(replies) == names.index("quit") + 1  # one per command up to the first quit
