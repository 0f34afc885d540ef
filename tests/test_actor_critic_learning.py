"""Long learning checks (`pytest -m slow`): DDPG, TD3 and SAC on Pendulum-v1 and SAC on
LunarLanderContinuous-v3, with the shipped configs.

Pendulum: the final greedy evaluation (10 episodes) after 20,000 env steps is -200 or better,
on seeds 0 and 1 (the benchmark, scripts/bench_offpolicy.py, asks 4 of 5 seeds).
LunarLanderContinuous: 200 or better within 300,000 steps (needs the box2d extra).
"""

from pathlib import Path

import pytest
import torch

import envs  # noqa: F401
from agents.training import load_experiment, train
from rlcourse.plotting import read_scalars

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", ["ddpg", "td3", "sac"])
def test_pendulum_reaches_minus_200_within_20k_steps(runs_dir, name, seed):
    torch.set_num_threads(1)
    config = load_experiment(
        CONFIGS / "pendulum" / f"{name}.yaml",
        [f"train.runs_dir={runs_dir}", f"train.seed={seed}", "train.steps=20000"],
    )
    result = train(config, progress=False)
    assert result.evaluation.mean >= -200, result.evaluation.summary()


@pytest.mark.slow
def test_lunar_lander_continuous_is_solved_by_sac(runs_dir):
    pytest.importorskip("Box2D")
    torch.set_num_threads(1)
    config = load_experiment(CONFIGS / "lunarlander" / "sac.yaml", [f"train.runs_dir={runs_dir}"])
    result = train(config, progress=False)
    _, periodic = read_scalars(result.run_dir, "eval/return_mean")
    best = max([*periodic, result.evaluation.mean])
    assert best >= 200, f"best evaluation {best}; final {result.evaluation.summary()}"
