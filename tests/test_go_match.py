"""scripts/go_match.py: colours alternate, the summary adds up, mismatched networks are refused."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def go_match():
    spec = importlib.util.spec_from_file_location("go_match", ROOT / "scripts" / "go_match.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_a_match_alternates_colours_and_sums_up(capsys):
    args = ["mcts", "random", "--games", "2", "--size", "5", "--komi", "7.5", "--mcts-sims", "30"]
    assert go_match()(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("game   1: first player black")
    assert out[1].startswith("game   2: first player white")
    wins = sum(" win " in line for line in out[:2])
    draws = sum(" draw " in line for line in out[:2])
    assert out[2].startswith(f"mcts vs random (5x5, komi 7.5): {wins} won, {draws} drawn")
    assert out[3].startswith("  as Black:") and out[4].startswith("  as White:")


def test_the_shipped_network_plays_its_own_board_only(capsys):
    assert go_match()(["network", "random", "--size", "5", "--komi", "9", "--games", "1"]) == 2
    assert "trained for 5x5 at komi 7.5, the match is 5x5 at komi 9" in capsys.readouterr().err
    assert go_match()(["network", "random", "--size", "9", "--games", "1"]) == 2
    assert "no shipped network plays 9x9" in capsys.readouterr().err
