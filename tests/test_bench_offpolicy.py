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
        assert type(model.action_noise).__name__ == "NormalActionNoise"
        assert model.action_noise._sigma[0] == config.exploration_noise
        # SB3's DDPG clips its target noise to 0: no smoothing, as ours
        delay, clip = (2, 0.5) if algo == "td3" else (1, 0.0)
        assert (model.policy_delay, model.target_noise_clip) == (delay, clip)


def test_sb3_gets_our_ornstein_uhlenbeck_exploration():
    config = load_experiment(CONFIGS / "ddpg_ou.yaml").agent
    noise = sb3_arguments(config)["action_noise"]
    assert type(noise).__name__ == "OrnsteinUhlenbeckActionNoise"
    assert (noise._theta, noise._dt, noise._sigma[0], noise._mu[0]) == (
        config.ou_theta, config.ou_dt, config.exploration_noise, config.ou_mu,
    )  # fmt: skip


def test_the_summary_compares_each_agent_with_sb3s_on_pendulums_target(tmp_path, capsys):
    from scripts.bench_offpolicy import ENV_ID, TARGET, plot
    from scripts.bench_pg import Job, Outcome, show_agents, summarise

    def outcome(lib, seed, final, speed):
        curve = [(1000, -1200.0), (2000, final)]
        return Outcome(Job(lib, "td3", ENV_ID, seed, 2000), final, speed, curve)

    runs = [outcome("ours", 0, -150.0, 120.0), outcome("ours", 1, -250.0, 100.0),
            outcome("sb3", 0, -160.0, 80.0), outcome("sb3", 1, -170.0, 80.0)]  # fmt: skip
    results = summarise(runs, {ENV_ID: TARGET})
    speed, final = results[f"{ENV_ID}/td3/steps_per_second"], results[f"{ENV_ID}/td3/final_return"]
    assert speed["ratio"] == pytest.approx(110.0 / 80.0)
    assert (final["seeds_at_target"], final["sb3_seeds_at_target"]) == (1, 2)
    assert final["ratio"] == pytest.approx(-165.0 / -200.0)  # below 1: SB3's mean is better
    show_agents(runs, {ENV_ID: TARGET})
    assert "1/2 (>= -200)" in capsys.readouterr().out
    plot(runs, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0
