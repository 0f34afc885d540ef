"""The configs of the textbook environments train from the config layer (tiny budgets), and
their agents reload from the files they saved."""

from __future__ import annotations

from pathlib import Path

import pytest

import envs  # noqa: F401  (registers the rlcourse/* ids)
from agents.training import load_agent, load_experiment, train

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
SMOKE = {
    "bandit/epsilon_greedy.yaml": ["train.episodes=2"],
    "bandit/gradient_no_baseline.yaml": ["train.episodes=1"],
    "gambler/value_iteration.yaml": ["train.eval_episodes=5"],
    "random_walk/mc_prediction.yaml": ["train.episodes=5"],
    "random_walk19/n_step_td.yaml": ["train.episodes=3"],
    "dyna_maze/prioritized_sweeping.yaml": ["train.episodes=2"],
    "shortcut_maze/dyna_q_plus.yaml": ["train.steps=300"],
    "blackjack/mc_exploring_starts.yaml": ["train.episodes=200", "train.eval_episodes=10"],
    "maximization_bias/double_q_learning.yaml": ["train.episodes=20"],
}


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_textbook_config_trains_and_reloads(name, tmp_path):
    config = load_experiment(CONFIGS / name, [*SMOKE[name], f"train.runs_dir={tmp_path}"])
    result = train(config, progress=False)
    agent, _ = load_agent(result.run_dir)
    assert type(agent) is type(result.agent)
