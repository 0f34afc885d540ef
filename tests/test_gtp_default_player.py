"""scripts/gtp.py with no --agent: the shipped network of the board being played, and random
moves announced by one line on stderr where no network ships for the board size."""

import argparse
import importlib.util
import io
import sys
from pathlib import Path

from envs.go import coords
from envs.go.rules import GoState
from scripts.go_players import PRETRAINED, add_player_arguments, make_player

ROOT = Path(__file__).resolve().parent.parent


def gtp_main():
    spec = importlib.util.spec_from_file_location("script_gtp", ROOT / "scripts" / "gtp.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.main


def answers(out: str) -> list[str]:
    """The text of each response of a GTP session's output."""
    return [block[2:] for block in out.split("\n\n") if block]


def test_default_plays_the_shipped_network_and_says_once_where_none_fits(monkeypatch, capsys):
    assert sorted(PRETRAINED) == [5, 7]
    session = "boardsize 5\nkomi 7.5\ngenmove b\nboardsize 9\ngenmove b\ngenmove w\nquit\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(session))
    assert gtp_main()(["--sims", "4", "--seed", "0"]) == 0
    captured = capsys.readouterr()
    replies = answers(captured.out)
    assert len(replies) == 7
    # on 5x5 the move is the shipped network's, searched with the same options
    parser = argparse.ArgumentParser()
    add_player_arguments(parser)
    network = make_player(parser.parse_args(["--agent", "alphazero", "--sims", "4", "--seed", "0"]))
    assert replies[2] == coords.to_gtp(network(GoState.new(5, komi=7.5)), 5)
    # on 9x9 random moves, named once on stderr
    nine = GoState.new(9)
    first = coords.from_gtp(replies[4], 9)
    assert nine.is_legal(first) and nine.play(first).is_legal(coords.from_gtp(replies[5], 9))
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "no shipped network plays 9x9 (shipped: 5x5, 7x7)" in lines[0]
    assert "random" in lines[0] and "--checkpoint" in lines[0]
