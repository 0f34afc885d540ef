"""Long learning checks (`pytest -m slow`): DQN and Rainbow solve CartPole within 50k steps.

"Solves" as the benchmark's target reads: a greedy evaluation (10 episodes, every 5,000 env
steps and at the end) reaches a mean return of at least 475 within the 50,000-step budget.
DQN with the tuned CartPole settings oscillates afterwards (so does Stable-Baselines3's with
the same settings), so the final evaluation alone would test luck, not learning.
"""

from pathlib import Path

import pytest
import torch

import envs  # noqa: F401
from agents.training import load_experiment, train
from rlcourse.plotting import read_scalars

CONFIGS = Path(__file__).resolve().parent.parent / "configs" / "cartpole"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dqn", "rainbow"])
def test_cartpole_is_solved(runs_dir, name):
    torch.set_num_threads(1)
    config = load_experiment(
        CONFIGS / f"{name}.yaml", [f"train.runs_dir={runs_dir}", "train.eval_every=5000"]
    )
    result = train(config, progress=False)
    _, periodic = read_scalars(result.run_dir, "eval/return_mean")
    best = max([*periodic, result.evaluation.mean])
    assert best >= 475, f"best evaluation {best}; final {result.evaluation.summary()}"
