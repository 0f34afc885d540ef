"""scripts/aec_selfplay.py: tabular Q-learning self-play through the tic-tac-toe AEC env learns
to beat a random player, which an untrained table does not."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def example():
    path = ROOT / "scripts" / "aec_selfplay.py"
    spec = importlib.util.spec_from_file_location("script_aec_selfplay", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def score_against_random(example, q, games: int = 300) -> float:
    """Mean of (wins - losses) / games as X and as O against a random player (0 for random
    play: X's +0.30 and O's -0.30 cancel)."""
    policy = example.greedy(q, seed=0)
    total = 0.0
    for mark in ("x", "o"):
        record = example.play(policy, "random", mark, games, seed=10**6)
        total += (record.wins - record.losses) / record.games
    return total / 2


def test_self_play_learns_to_beat_random_play(example):
    # measured after 2,000 games with seeds 0-9: 0.31 to 0.60; an untrained table (random
    # moves): -0.03 to 0.0. A standard error of the 600 evaluation games is about 0.03.
    assert abs(score_against_random(example, example.new_table())) < 0.1
    q = example.train(2000, seed=0)
    assert len(q) > 1000  # positions from both sides' view
    assert score_against_random(example, q) > 0.2


def test_the_script_prints_its_results(example, capsys):
    assert example.main(["--episodes", "50", "--eval-games", "10"]) == 0
    out = capsys.readouterr().out
    assert "50 self-play games" in out and out.count("won") == 4
    assert example.main(["--episodes", "0"]) == 2


@pytest.mark.slow
def test_longer_self_play_draws_against_perfect_play_as_x(example):
    # measured (seed 0, 20,000 games): X never lost to minimax or to random play; O lost 0.9 %
    # of its games to random play and 11.5 % to minimax
    q = example.train(20_000, seed=0)
    policy = example.greedy(q)
    assert example.play(policy, "minimax", "x", 200, seed=1).losses <= 10
    assert example.play(policy, "random", "x", 500, seed=1).wins >= 450
    assert example.play(policy, "random", "o", 500, seed=1).losses <= 25
