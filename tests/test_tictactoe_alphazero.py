"""configs/tictactoe/alphazero.yaml: it loads, a short run trains and evaluates against
minimax, and (slow) the full run's network alone never loses to a perfect player."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import envs  # noqa: F401
from agents.alphazero.agent import AlphaZeroAgent
from agents.training import AGENT_FILE, EVAL_FILE, load_experiment, train
from envs.tictactoe import TicTacToe, optimal_actions

torch.set_num_threads(1)
CONFIG = Path(__file__).resolve().parent.parent / "configs" / "tictactoe" / "alphazero.yaml"
GAME = TicTacToe()


def network_losses(agent: AlphaZeroAgent) -> tuple[int, int]:
    """(games lost, games played) by the network's most probable legal move, as X and as O,
    against every line a minimax player can choose."""
    lost = played = 0

    def walk(state, me: int) -> None:
        nonlocal lost, played
        if GAME.is_terminal(state):
            played += 1
            lost += GAME.returns(state)[me] < 0
        elif GAME.current_player(state) == me:
            obs = {"observation": GAME.planes(state),
                   "action_mask": GAME.legal_actions(state).astype(np.int8)}  # fmt: skip
            walk(GAME.apply(state, agent.act(obs, deterministic=True)), me)
        else:
            for action in optimal_actions(state):
                walk(GAME.apply(state, action), me)

    for me in (0, 1):
        walk(GAME.initial_state(), me)
    return lost, played


def test_the_config_loads_and_a_short_run_trains_and_evaluates(tmp_path):
    config = load_experiment(CONFIG, [f"train.runs_dir={tmp_path}", "train.episodes=32",
                                      "train.eval_episodes=4", "agent.mcts.simulations=4",
                                      "agent.learner.min_replay=64",
                                      "agent.learner.steps_per_iteration=5"])  # fmt: skip
    assert config.env.id == "rlcourse/TicTacToe-v0" and config.agent.game.name == "tictactoe"
    result = train(config, progress=False)
    assert result.agent.system.iterations == 1
    evaluation = json.loads((result.run_dir / EVAL_FILE).read_text())
    assert evaluation["episodes"] == 4 and -1.0 <= evaluation["mean"] <= 0.0  # vs perfect play
    loaded = AlphaZeroAgent.from_file(result.run_dir / AGENT_FILE)
    assert network_losses(loaded)[1] > 50


@pytest.mark.slow
def test_the_config_learns_perfect_play_in_about_a_minute(tmp_path):
    result = train(load_experiment(CONFIG, [f"train.runs_dir={tmp_path}"]), progress=False)
    lost, played = network_losses(result.agent)
    assert played > 100 and lost == 0
    assert result.evaluation.mean == 0.0  # every evaluation game against minimax drawn
