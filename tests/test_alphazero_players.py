"""The mcts and alphazero Go players: built from command-line options, served over GTP from a
tiny checkpoint, loaded from a run directory, and refused with a clear message."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest
import torch

from agents.alphazero.agent import AlphaZeroAgent
from agents.alphazero.config import AlphaZeroConfig
from envs.go.gtp import GtpClient
from envs.go.rules import BLACK, WHITE, GoState
from scripts.go_players import PRETRAINED, add_player_arguments, load_alphazero, make_player
from tests.test_selfplay import AGENT, experiment, train

ROOT = Path(__file__).resolve().parent.parent
TINY_GO = {"game": {"name": "go", "board_size": 5, "komi": 7.5, "history": 1},
           "network": {"filters": 8, "blocks": 1, "value_hidden": 8},
           "mcts": {"simulations": 4}}  # fmt: skip


def options(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_player_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture
def tiny_checkpoint(tmp_path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "tiny.ckpt"
    AlphaZeroAgent(AlphaZeroConfig.model_validate(TINY_GO)).save(path)
    return path


def test_gtp_engine_plays_moves_from_a_tiny_checkpoint(tiny_checkpoint):
    script = str(ROOT / "scripts" / "gtp.py")
    command = [sys.executable, script, "--agent", "alphazero", "--checkpoint",
               str(tiny_checkpoint), "--sims", "4", "--board-size", "5"]  # fmt: skip
    state = GoState.new(5, komi=7.5)
    with GtpClient(command, timeout=60) as engine:
        engine.boardsize(5)
        engine.komi(7.5)
        engine.clear_board()
        for _ in range(3):
            move = engine.genmove(BLACK, 5)
            assert isinstance(move, int) and state.is_legal(move)
            state = state.play(move)
            reply = next(m for m in range(25) if state.is_legal(m))
            engine.play(WHITE, reply, 5)
            state = state.play(reply)


def test_mcts_player_searches_with_rollouts():
    player = make_player(options("--agent", "mcts", "--sims", "16", "--seed", "0"))
    state = GoState.new(5).play(12)
    assert state.is_legal(player(state))


def test_alphazero_player_loads_a_run_directory(tmp_path):
    agent = {**AGENT, **TINY_GO, "game": {**TINY_GO["game"], "move_cap": 10}}
    _, run = train(experiment(tmp_path, 1, agent, history=1))
    player = make_player(options("--agent", "alphazero", "--checkpoint", str(run.dir)))
    state = GoState.new(5, komi=7.5)
    assert state.is_legal(player(state))
    with pytest.raises(ValueError, match="the network plays 5x5, the board is 7x7"):
        player(GoState.new(7))


def test_players_refuse_what_they_cannot_use(tmp_path):
    with pytest.raises(ValueError, match="agent 'mcts' searches with random rollouts"):
        make_player(options("--agent", "mcts", "--checkpoint", "net.pt"))
    with pytest.raises(ValueError, match="no such file or directory"):
        make_player(options("--agent", "alphazero", "--checkpoint", str(tmp_path / "none")))
    ttt = tmp_path / "ttt.ckpt"
    AlphaZeroAgent(AlphaZeroConfig.model_validate({**TINY_GO, "game": {"name": "tictactoe"}})).save(
        ttt
    )
    with pytest.raises(ValueError, match="plays tictactoe, not Go"):
        make_player(options("--agent", "alphazero", "--checkpoint", str(ttt)))


@pytest.mark.parametrize(("size", "komi"), [(5, 7.5), (7, 9.0)])
def test_shipped_networks_are_small_and_play_their_board(size, komi):
    assert PRETRAINED[size].stat().st_size < 2_000_000
    game = load_alphazero(str(PRETRAINED[size])).config.game
    assert (game.board_size, game.komi) == (size, komi)


def test_without_a_checkpoint_the_shipped_network_for_the_board_plays():
    player = make_player(options("--agent", "alphazero", "--sims", "8"))
    for size, komi in [(5, 7.5), (7, 9.0), (5, 7.5)]:
        state = GoState.new(size, komi=komi)
        assert state.is_legal(player(state))
    with pytest.raises(ValueError, match=r"no shipped network plays 9x9 \(shipped: 5x5, 7x7\)"):
        player(GoState.new(9))
