"""Long learning checks (`pytest -m slow`): DQN and Rainbow solve CartPole within 50k steps."""

from pathlib import Path

import pytest
import torch

import envs  # noqa: F401
from agents.training import load_experiment, train

CONFIGS = Path(__file__).resolve().parent.parent / "configs" / "cartpole"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dqn", "rainbow"])
def test_cartpole_is_solved(runs_dir, name):
    torch.set_num_threads(1)
    config = load_experiment(CONFIGS / f"{name}.yaml", [f"train.runs_dir={runs_dir}"])
    result = train(config, progress=False)
    assert result.evaluation.mean >= 475, result.evaluation.summary()
