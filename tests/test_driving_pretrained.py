"""The shipped highway agent (agents/pretrained/highway) loads, and drives faster than the IDM
ego on the same episodes while rarely colliding."""

import importlib.util
from pathlib import Path

import gymnasium as gym
import pytest
import torch

import envs  # noqa: F401  (registers the driving ids)
from agents.training import load_agent

ROOT = Path(__file__).resolve().parent.parent
PRETRAINED = ROOT / "agents" / "pretrained" / "highway"
# Only the ego's side may differ from Highway-v0's defaults (what it sees, its target speeds,
# the reward weights): the traffic, the frequencies and the duration are what the IDM
# baseline is measured on.
ALLOWED_SETTINGS = {
    "observed_vehicles",
    "target_speeds",
    "collision_reward",
    "high_speed_reward",
    "right_lane_reward",
    "lane_change_reward",
    "reward_speed_range",
    "normalize_reward",
}


def _eval_driving():
    spec = importlib.util.spec_from_file_location(
        "eval_driving", ROOT / "scripts" / "eval_driving.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


eval_driving = _eval_driving()


def test_wilson_interval_matches_hand_computed_values():
    # 0 of 100: [0, z^2 / (n + z^2)] = [0, 3.841459 / 103.841459]
    low, high = eval_driving.wilson_interval(0, 100)
    assert (low, high) == pytest.approx((0.0, 0.036993), abs=1e-6)
    # 5 of 100: centre (0.05 + 0.019207) / 1.038415, half 1.96 sqrt(0.000571) / 1.038415
    low, high = eval_driving.wilson_interval(5, 100)
    assert (low, high) == pytest.approx((0.02154, 0.11175), abs=1e-5)
    with pytest.raises(ValueError, match="successes"):
        eval_driving.wilson_interval(3, 2)


def _row(driver: str, speeds: tuple[float, ...]):
    n = len(speeds)
    return eval_driving.DriverRow(
        driver, n, 0.0, (0.0, 0.0), 0.0, (0.0, 0.0), 0.0, (0.0, 0.0), speeds
    )


def test_the_paired_speed_difference_matches_hand_computed_values():
    # differences 1 and 0: mean 0.5, standard error 0.7071 / sqrt(2) = 0.5, t(0.975, 1) 12.706
    mean, low, high = eval_driving.paired_speed_difference(
        _row("agent", (21.0, 22.0)), _row("idm", (20.0, 22.0))
    )
    assert (mean, low, high) == pytest.approx((0.5, 0.5 - 6.3531, 0.5 + 6.3531), abs=1e-4)
    with pytest.raises(ValueError, match="do not pair"):
        eval_driving.paired_speed_difference(_row("agent", (21.0,)), _row("idm", (20.0, 22.0)))


def test_the_shipped_agent_is_small_and_drives_highway_v0_traffic():
    assert sorted(p.name for p in PRETRAINED.iterdir()) == ["agent.ckpt", "config.yaml"]
    assert sum(p.stat().st_size for p in PRETRAINED.iterdir()) < 2_000_000  # [bytes]
    agent, config = load_agent(PRETRAINED)
    assert config.env.id == "rlcourse/Highway-v0"
    assert set(config.env.kwargs) <= ALLOWED_SETTINGS
    assert config.agent.network.attention is not None
    env = gym.make(config.env.id, **config.env.kwargs)
    assert agent.act(*env.reset(seed=0), deterministic=True) in range(5)


def _rows(episodes: int) -> dict:
    torch.set_num_threads(1)
    agent, config = load_agent(PRETRAINED)
    return {r.driver: r for r in eval_driving.compare(agent, config, episodes, seed=0)}


def test_the_shipped_agent_outdrives_the_idm_ego_on_20_episodes():
    rows = _rows(20)
    # evaluation seeds 0-4: one crash in 20 each time, 0.1-0.6 m/s faster than the continuous IDM
    assert rows["agent"].collision_rate <= 0.1
    assert rows["agent"].mean_speed > rows["idm (continuous)"].mean_speed
    assert rows["agent"].mean_speed > rows["idm (discrete)"].mean_speed


@pytest.mark.slow
def test_the_shipped_agent_outdrives_the_idm_ego_on_100_episodes():
    rows = _rows(100)
    assert rows["agent"].collision_rate <= 0.05
    assert rows["agent"].mean_speed > rows["idm (continuous)"].mean_speed
