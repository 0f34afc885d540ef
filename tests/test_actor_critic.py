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
OU = "ornstein_uhlenbeck"
SMALL = {
    "network": {"mlp": {"hidden": [32, 32]}},
    "batch_size": 32,
    "buffer_size": 1000,
    "learning_starts": 100,
}


def config(runs_dir, name, env="Pendulum-v1", steps=300, checkpoint_every=200, **agent):
    return parse_config(
        {
            "env": {"id": env},
            "agent": {"name": name, **SMALL, **agent},
            "train": {
                "steps": steps,
                "checkpoint_every": checkpoint_every,
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


def train_whole_and_resumed(cfg, monkeypatch):
    """The agents of one uninterrupted run of `cfg` and of one stopped at its first checkpoint
    and resumed; asserts that they hold the same weights and wrote the same evaluation."""
    whole = train(cfg, progress=False)
    first_dir, _ = crashed_run(cfg, monkeypatch)
    resumed = train(cfg, resume_dir=first_dir, progress=False)
    for part, net in whole.agent._networks().items():
        for key, value in net.state_dict().items():
            assert torch.equal(value, resumed.agent._networks()[part].state_dict()[key]), key
    assert json.loads((first_dir / "eval.json").read_text()) == json.loads(
        (whole.run_dir / "eval.json").read_text()
    )
    return whole.agent, resumed.agent


@pytest.mark.parametrize("name", AGENTS)
def test_resume_continues_exactly_with_the_replay(runs_dir, monkeypatch, name):
    train_whole_and_resumed(config(runs_dir, name, steps=300), monkeypatch)


def test_resume_continues_the_ornstein_uhlenbeck_process_exactly(runs_dir, monkeypatch):
    # stopped at step 250, mid-episode (Pendulum's last 200 steps), so the process is not at rest
    cfg = config(runs_dir, "ddpg", steps=300, checkpoint_every=250, exploration=OU)
    whole, resumed = train_whole_and_resumed(cfg, monkeypatch)
    assert whole.ou_noise.state.all()
    assert np.array_equal(whole.ou_noise.state, resumed.ou_noise.state)


def test_the_process_restarts_when_the_episode_ends(runs_dir):
    agent = train(config(runs_dir, "td3", steps=200, exploration=OU), progress=False).agent
    assert agent.ou_noise.state.shape == (1, 1)
    assert not agent.ou_noise.state.any()  # Pendulum's episode ended at step 200


def test_deterministic_acting_adds_no_noise_and_draws_nothing():
    cfg = agent_schemas()["ddpg"](exploration=OU, exploration_noise=0.5, num_envs=3)
    probe = gym.make("Pendulum-v1")
    agent = REGISTRY["ddpg"](cfg, probe.observation_space, probe.action_space)
    obs = np.array([0.3, -0.9, 1.5], np.float32)
    rng_state = agent.rng.bit_generator.state
    with torch.inference_mode():
        policy = agent.actor.module(torch.as_tensor(obs[None])).numpy()[0]
    assert np.array_equal(agent.act(obs, deterministic=True), agent.scale.to_env(policy))
    assert agent.rng.bit_generator.state == rng_state
    assert not agent.acting_ou_noise.state.any()
    agent.act(obs, deterministic=False)  # act's own process, one row; the collector's is apart
    assert agent.acting_ou_noise.state.all() and not agent.ou_noise.state.any()
    assert agent.ou_noise.state.shape == (3, 1)


def test_checkpoints_without_the_process_still_load(runs_dir):
    gaussian = train(config(runs_dir, "ddpg", steps=150), progress=False).agent
    old = {k: v for k, v in gaussian.state_dict().items() if k != "ou_noise"}
    cfg = gaussian.config.model_copy(update={"exploration": OU})
    agent = REGISTRY["ddpg"](cfg, gaussian.observation_space, gaussian.action_space, seed=3)
    agent.load_state_dict(old)  # the process stays at rest
    assert agent.env_steps == 150 and not agent.ou_noise.state.any()


@pytest.mark.parametrize(
    ("agent", "key"),
    [
        ({"exploration": "brownian"}, "exploration"),
        ({"exploration": OU, "ou_theta": 0.0}, "ou_theta"),
        ({"exploration": OU, "ou_dt": -0.01}, "ou_dt"),
        ({"exploration": OU, "ou_mu": 1.5}, "ou_mu"),
        ({"exploration": OU, "exploration_noise": -0.2}, "exploration_noise"),
        ({"exploration": OU, "ou_theta": 150.0, "ou_dt": 0.01}, r"ou_theta \* ou_dt"),
    ],
)
def test_bad_exploration_settings_are_refused_by_name(runs_dir, agent, key):
    for name in ("ddpg", "td3"):
        with pytest.raises(ConfigError, match=key):
            config(runs_dir, name, **agent)


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


def test_observation_statistics_standardise_every_batch_and_count_each_observation_once(
    runs_dir,
):
    agent = train(config(runs_dir, "sac", steps=150, normalize_obs=True), progress=False).agent
    stats = agent.obs_normalizer.stats
    assert stats.count == pytest.approx(150, abs=1e-3)  # each collected observation, once
    stats.mean, stats.var = np.array([1.0, -2.0, 0.0]), np.array([4.0, 1.0, 0.25])
    raw = np.array([[3.0, -2.0, 10.0], [1.0, 0.0, -1.0]], np.float32)
    batch = agent.buffer.sample(2)._replace(observations=raw, next_observations=raw[::-1])
    seen = agent._standardised(batch)
    # (x - mean) / sqrt(var + 1e-8), then clipped to +-10: 10.0 in the third column becomes 20
    expected = np.array([[1.0, 0.0, 10.0], [0.0, 2.0, -2.0]], np.float32)
    np.testing.assert_allclose(seen.observations, expected, rtol=1e-6)
    np.testing.assert_allclose(seen.next_observations, expected[::-1], rtol=1e-6)
    assert np.array_equal(seen.actions, batch.actions) and seen.rewards is batch.rewards


def test_resume_continues_exactly_with_the_observation_statistics(runs_dir, monkeypatch):
    cfg = config(runs_dir, "td3", steps=300, normalize_obs=True)
    whole, resumed = train_whole_and_resumed(cfg, monkeypatch)
    assert whole.obs_normalizer.stats.state_dict().keys() == {"mean", "var", "count"}
    for key, value in whole.obs_normalizer.stats.state_dict().items():
        assert np.array_equal(value, resumed.obs_normalizer.stats.state_dict()[key]), key


def test_the_agent_file_carries_the_observation_statistics(runs_dir, tmp_path):
    agent = train(config(runs_dir, "ddpg", steps=150, normalize_obs=True), progress=False).agent
    path = tmp_path / "agent.ckpt"
    agent.save(path)
    probe = gym.make("Pendulum-v1")
    fresh = REGISTRY["ddpg"](agent.config, probe.observation_space, probe.action_space, seed=7)
    fresh.load(path)
    obs = np.array([0.3, -0.9, 1.5], np.float32)
    assert np.array_equal(fresh.act(obs, deterministic=True), agent.act(obs, deterministic=True))
    plain_config = agent.config.model_copy(update={"normalize_obs": False})
    plain = REGISTRY["ddpg"](plain_config, probe.observation_space, probe.action_space)
    with pytest.raises(ValueError, match="normalize_obs is False here but True where it was"):
        plain.load(path)
