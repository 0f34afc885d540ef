"""Arena: Elo against hand-computed numbers, win-rate intervals, colour alternation, draws
counted half, resignation, the ladder's anchor and promotion, SGF of sample games."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.alphazero.arena import (
    Arena,
    EloLadder,
    MatchResult,
    play_game,
    play_match,
    random_player,
)
from agents.alphazero.config import AlphaZeroConfig
from agents.alphazero.selfplay import RESIGN
from agents.alphazero.system import weights_of
from envs.go.game import GoGame
from envs.go.sgf import parse_collection
from envs.tictactoe import TicTacToe
from rlcourse.evaluation import elo_expected, elo_update, score_interval

TTT = TicTacToe()


def lowest_cell(state):
    return int(np.flatnonzero(TTT.legal_actions(state))[0])


def test_elo_update_worked_out_by_hand():
    # E = 1 / (1 + 10^(-200/400)) = 0.759747; 1600 + 32 * (1 - 0.759747) = 1607.688
    assert elo_expected(1600, 1400) == pytest.approx(0.759747, abs=1e-6)
    assert elo_update(1600, 1400, 1.0) == pytest.approx(1607.688, abs=1e-3)
    # equal ratings expect half a point a game: 1500 + 16 * (2.5 - 4 * 0.5) = 1508
    assert elo_update(1500, 1500, 2.5, games=4, k=16) == pytest.approx(1508.0)
    with pytest.raises(ValueError, match=r"score must lie in \[0, 4\], got 5"):
        elo_update(1500, 1500, 5, games=4)


def test_wilson_intervals_of_win_rates():
    # 10/20: 0.5 +- 1.96 * sqrt(0.25/20 + 1.96^2/1600) / (1 + 1.96^2/20) = [0.2993, 0.7007]
    assert score_interval(0.5, 20) == pytest.approx((0.2993, 0.7007), abs=1e-4)
    assert score_interval(0.95, 20) == pytest.approx((0.7639, 0.9911), abs=1e-4)
    # 20/20: the lower end is n / (n + z^2) = 20 / 23.8415
    assert score_interval(1.0, 20) == pytest.approx((0.83887, 1.0), abs=1e-5)
    with pytest.raises(ValueError, match="score must be a rate"):
        score_interval(1.5, 20)


def test_colours_alternate_and_the_first_mover_wins_these_games():
    # both play the lowest free cell: X takes 0, 2, 4, 6 and wins on the 2-4-6 diagonal
    firsts = []
    result = play_match(TTT, lowest_cell, lowest_cell, 4, lambda i, g: firsts.append(g.a_first))
    assert firsts == [True, False, True, False]
    assert result == MatchResult(wins=2, draws=0, losses=2) and result.score == 0.5


def test_draws_count_half():
    assert MatchResult(wins=1, draws=2, losses=1).score == 0.5
    assert MatchResult(wins=3, draws=1, losses=0).score == 0.875


def test_a_player_that_resigns_or_plays_an_illegal_move_loses():
    finished = play_game(TTT, lambda s: RESIGN, lowest_cell)
    assert finished.returns == (-1.0, 1.0)
    go = GoGame(5, history=0)
    resigned = play_game(go, lambda s: s.pass_move, lambda s: RESIGN)
    assert resigned.final.resigned == 2 and resigned.returns == (1.0, -1.0)
    assert play_game(TTT, lowest_cell, lambda s: 0).returns == (1.0, -1.0)  # 0 is taken


def test_the_ladder_fits_elo_with_random_anchored_at_zero():
    ladder = EloLadder()
    ladder.record("net_00001", "random", MatchResult(15, 0, 5))
    # with one prior draw against random: 400 log10(15.5 / 5.5) = 179.99
    assert ladder.ratings["random"] == 0.0
    assert ladder.ratings["net_00001"] == pytest.approx(179.99, abs=0.01)
    ladder.record("net_00002", "net_00001", MatchResult(5, 10, 5))  # an even match
    assert ladder.ratings["net_00002"] == pytest.approx(ladder.ratings["net_00001"], abs=15)


def test_arena_promotes_the_first_network_and_writes_sgf_of_go_games():
    torch.manual_seed(0)
    config = AlphaZeroConfig.model_validate({
        "game": {"name": "go", "board_size": 5, "history": 1, "move_cap": 12},
        "network": {"filters": 8, "blocks": 1, "value_hidden": 8},
        "arena": {"games": 2, "simulations": 4, "opponents": ["random"], "sgf_games": 1},
    })  # fmt: skip
    arena = Arena(config, seed=0)
    report = arena.evaluate(1, weights_of(arena.candidate))
    assert report.promoted and arena.best_version == 1 and report.results["random"].games == 2
    assert report.as_first["random"].games == 1  # colours alternate: one game as Black
    ((name, text),) = report.sgf.items()
    assert name == "net_00001_vs_random_0.sgf"
    assert parse_collection(text)[0].nodes[0].get("PB") == "net_00001"
    second = arena.evaluate(2, weights_of(arena.candidate))
    assert set(second.results) == {"best", "random"}
    assert second.promoted == (second.results["best"].score >= 0.55)


def test_without_the_match_against_the_best_every_network_is_promoted_unplayed():
    config = AlphaZeroConfig.model_validate({
        "game": {"name": "tictactoe"},
        "network": {"filters": 8, "blocks": 1, "value_hidden": 8},
        "arena": {"games": 2, "simulations": 4, "opponents": ["random"], "vs_best": False},
    })  # fmt: skip
    arena = Arena(config, seed=0)
    for version in (1, 2, 3):
        report = arena.evaluate(version, weights_of(arena.candidate))
        assert report.promoted and arena.best_version == version
        assert set(report.results) == {"random"}
    played = {(m.player, m.opponent) for m in arena.ladder.matches}
    assert played == {("net_00001", "random"), ("net_00002", "random"), ("net_00003", "random")}


def test_random_player_plays_legal_moves():
    player = random_player(TTT, seed=0)
    state = TTT.initial_state()
    assert TTT.legal_actions(state)[player(state)]
