"""scripts/bench_offpolicy.py gives SB3 the settings of our Pendulum configs."""

from pathlib import Path

import gymnasium as gym
import pytest
import stable_baselines3

from agents.training import load_experiment
from scripts.bench_offpolicy import sb3_arguments

CONFIGS = Path(__file__).resolve().parent.parent / "configs" / "pendulum"


@pytest.mark.parametrize("algo", ["sac", "td3", "ddpg"])
def test_sb3_gets_our_networks_batch_and_schedule(algo):
    config = load_experiment(CONFIGS / f"{algo}.yaml").agent
    model = getattr(stable_baselines3, algo.upper())(
        "MlpPolicy", gym.make("Pendulum-v1"), device="cpu", **sb3_arguments(config)
    )
    assert model.policy.net_arch == list(config.network.mlp.hidden) == [256, 256]
    assert (model.batch_size, model.learning_starts, model.gamma, model.tau) == (
        config.batch_size, config.learning_starts, config.gamma, config.tau,
    )  # fmt: skip
    assert model.learning_rate == config.lr and model.gradient_steps == 1
    assert model.critic.n_critics == {"sac": 2, "td3": 2, "ddpg": 1}[algo]
    if algo == "sac":
        assert model.target_entropy == -1.0 and model.log_ent_coef is not None
    else:
        assert model.action_noise._sigma[0] == config.exploration_noise
        # SB3's DDPG clips its target noise to 0: no smoothing, as ours
        delay, clip = (2, 0.5) if algo == "td3" else (1, 0.0)
        assert (model.policy_delay, model.target_noise_clip) == (delay, clip)
