"""DDPG, TD3 and SAC: each trains on Pendulum, keeps actions in the Box, resumes exactly and
saves its actor as data."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401
from agents import REGISTRY, agent_schemas
from agents.training import train
from rlcourse.config import ConfigError, parse_config
from rlcourse.files import FileError
from tests.run_dirs import crashed_run

AGENTS = ("ddpg", "td3", "sac")
SMALL = {
    "network": {"mlp": {"hidden": [32, 32]}},
    "batch_size": 32,
    "buffer_size": 1000,
    "learning_starts": 100,
}


def config(runs_dir, name, env="Pendulum-v1", steps=300, **agent):
    return parse_config(
        {
            "env": {"id": env},
            "agent": {"name": name, **SMALL, **agent},
            "train": {
                "steps": steps,
                "checkpoint_every": 200,
                "eval_episodes": 2,
                "runs_dir": str(runs_dir),
            },
        },
        agent_schemas(),
        name=f"{name}_test",
    )


@pytest.mark.parametrize("name", AGENTS)
def test_every_agent_trains_on_pendulum(runs_dir, name):
    result = train(config(runs_dir, name), progress=False)
    assert result.agent.updates == 200  # one per env step after the first 100 (random)
    assert np.isfinite(result.evaluation.mean)
    assert (result.run_dir / "agent.ckpt").is_file()


def test_td3_updates_its_actor_every_policy_delay_steps(runs_dir):
    result = train(config(runs_dir, "td3", policy_delay=3, steps=130), progress=False)
    agent = result.agent
    assert agent.updates == 30
    assert agent.actor.optimizer.state[agent.actor.flat.param]["step"] == 10


class AsymmetricBounds(gym.Env):
    """Two action dimensions with lopsided bounds; `step` fails the test outside them."""

    observation_space = gym.spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
    action_space = gym.spaces.Box(
        np.array([-3.0, 5.0], np.float32), np.array([-1.0, 50.0], np.float32)
    )

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.uniform(-1, 1, 3).astype(np.float32), {}

    def step(self, action):
        assert self.action_space.contains(np.asarray(action, np.float32)), action
        self.t += 1
        reward = -float(np.square(action - np.array([-2.5, 40.0])).sum()) / 100
        obs = self.np_random.uniform(-1, 1, 3).astype(np.float32)
        return obs, reward, False, self.t >= 20, {}


@pytest.mark.parametrize("name", AGENTS)
def test_actions_stay_within_the_box_bounds(runs_dir, name):
    gym.register("test/AsymmetricBounds-v0", AsymmetricBounds)
    try:
        result = train(config(runs_dir, name, env="test/AsymmetricBounds-v0"), progress=False)
    finally:
        gym.registry.pop("test/AsymmetricBounds-v0")
    stored = result.agent.buffer.sample(64).actions
    assert stored.min() >= -1.0 and stored.max() <= 1.0  # the replay holds [-1, 1] units
    space = AsymmetricBounds.action_space
    obs = np.zeros(3, np.float32)
    for deterministic in (True, False):
        assert space.contains(result.agent.act(obs, deterministic=deterministic))


@pytest.mark.parametrize("name", AGENTS)
def test_resume_continues_exactly_with_the_replay(runs_dir, monkeypatch, name):
    cfg = config(runs_dir, name, steps=300)
    whole = train(cfg, progress=False)
    first_dir, _ = crashed_run(cfg, monkeypatch)
    resumed = train(cfg, resume_dir=first_dir, progress=False)
    for part, net in whole.agent._networks().items():
        for key, value in net.state_dict().items():
            assert torch.equal(value, resumed.agent._networks()[part].state_dict()[key]), key
    assert json.loads((first_dir / "eval.json").read_text()) == json.loads(
        (whole.run_dir / "eval.json").read_text()
    )


@pytest.mark.parametrize("name", AGENTS)
def test_the_agent_file_is_data_and_reloads_the_same_policy(runs_dir, name, tmp_path):
    agent = train(config(runs_dir, name, steps=150), progress=False).agent
    path = tmp_path / "agent.ckpt"
    agent.save(path)
    probe = gym.make("Pendulum-v1")
    fresh = REGISTRY[name](agent.config, probe.observation_space, probe.action_space, seed=7)
    fresh.load(path)
    obs = np.array([0.3, -0.9, 1.5], np.float32)
    assert np.array_equal(fresh.act(obs, deterministic=True), agent.act(obs, deterministic=True))
    (tmp_path / "bad.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(FileError, match=r"bad\.ckpt"):
        fresh.load(tmp_path / "bad.ckpt")


def test_ddpg_refuses_td3s_switches_and_discrete_actions(runs_dir):
    with pytest.raises(ConfigError, match="policy_delay"):
        config(runs_dir, "ddpg", policy_delay=2)
    with pytest.raises(TypeError, match="Box action space"):
        REGISTRY["sac"](
            agent_schemas()["sac"](), gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(2)
        )
