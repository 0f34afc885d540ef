"""REINFORCE, A2C and PPO: tiny runs of each, exact resume, normalisation saved and restored."""

import json

import numpy as np
import pytest
import torch

import envs  # noqa: F401
from agents import agent_schemas
from agents.training import load_agent, train
from rlcourse.config import ConfigError, parse_config
from rlcourse.runs import Run
from tests.run_dirs import crashed_run

TINY = {
    "reinforce": {"episodes_per_update": 2},
    "a2c": {"num_envs": 2, "n_steps": 8},
    "ppo": {"num_envs": 2, "n_steps": 32, "batch_size": 16, "n_epochs": 2},
}
ENVS = {"discrete": "CartPole-v1", "continuous": "Pendulum-v1"}


def config(runs_dir, agent, env="CartPole-v1", steps=256, env_kwargs=None, **extra):
    return parse_config(
        {
            "env": {"id": env, "kwargs": env_kwargs or {}},
            "agent": {"name": agent, "network": {"mlp": {"hidden": [16]}}, **TINY[agent], **extra},
            "train": {
                "steps": steps,
                "checkpoint_every": 128,
                "eval_episodes": 2,
                "eval_max_steps": 50,
                "runs_dir": str(runs_dir),
            },
        },
        agent_schemas(),
        name=f"{agent}_test",
    )


@pytest.mark.parametrize("kind", sorted(ENVS))
@pytest.mark.parametrize("agent", sorted(TINY))
def test_tiny_run_of_every_agent(runs_dir, agent, kind):
    result = train(config(runs_dir, agent, ENVS[kind]), progress=False)
    assert result.agent.updates >= 1
    assert result.agent.env_steps >= 256
    assert np.isfinite(result.evaluation.mean)
    reloaded, _ = load_agent(result.run_dir)
    obs = np.zeros(reloaded.observation_space.shape, np.float32)
    a, b = result.agent.act(obs, deterministic=True), reloaded.act(obs, deterministic=True)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "agent, extra",
    [
        ("ppo", {"lr_schedule": "linear", "target_kl": 0.01, "clip_range_vf": 0.2}),
        ("ppo", {"normalize_obs": True, "normalize_reward": True, "env": "Pendulum-v1"}),
        ("ppo", {"recurrent": {"cell": "gru", "hidden_size": 8}, "seq_len": 8}),
        ("a2c", {"gae_lambda": 0.9, "normalize_obs": True, "shared_encoder": True}),
        ("reinforce", {"baseline": False}),
    ],
)
def test_resume_continues_exactly(runs_dir, monkeypatch, agent, extra):
    extra = dict(extra)
    cfg = config(runs_dir, agent, extra.pop("env", "CartPole-v1"), steps=384, **extra)
    whole = train(cfg, progress=False)
    first_dir, crashed_at = crashed_run(cfg, monkeypatch)
    resumed = train(cfg, resume_dir=first_dir, progress=False)
    assert 0 < crashed_at < 384
    for key, value in whole.agent.policy.state_dict().items():
        assert torch.equal(value, resumed.agent.policy.state_dict()[key]), key
    assert json.loads((first_dir / "eval.json").read_text()) == json.loads(
        (whole.run_dir / "eval.json").read_text()
    )


def test_normalisation_statistics_are_restored_on_load(runs_dir):
    cfg = config(runs_dir, "ppo", "Pendulum-v1", normalize_obs=True, normalize_reward=True)
    result = train(cfg, progress=False)
    stats = result.agent.obs_normalizer.stats
    assert stats.count > 256 and not np.allclose(stats.mean, 0.0)
    from_file, _ = load_agent(result.run_dir)  # agent.ckpt
    from_checkpoint, _ = load_agent(result.run_dir / "checkpoints" / "step_0000000256.pt")
    for reloaded in (from_file, from_checkpoint):
        np.testing.assert_array_equal(reloaded.obs_normalizer.stats.mean, stats.mean)
        np.testing.assert_array_equal(reloaded.obs_normalizer.stats.var, stats.var)
    scaler = result.agent.reward_scaler
    assert from_checkpoint.reward_scaler.stats.var == scaler.stats.var
    np.testing.assert_array_equal(from_checkpoint.reward_scaler.returns, scaler.returns)
    obs = np.array([0.5, -0.5, 3.0], np.float32)
    np.testing.assert_array_equal(
        result.agent.act(obs, deterministic=True), from_file.act(obs, deterministic=True)
    )


def test_masked_env_never_gets_an_illegal_action(runs_dir):
    # The T-maze makes every illegal action a no-op: with masks obeyed, episodes last
    # exactly length + 1 steps.
    cfg = config(runs_dir, "ppo", "rlcourse/TMaze-v0", env_kwargs={"length": 3})
    with Run.create(cfg, progress=False) as run:
        from agents.training import build_agent, env_factory

        make = env_factory(cfg)
        agent = build_agent(cfg, make())
        agent.learn(make, run)
    assert run.history and all(length == 4 for _, _, length in run.history)


def test_bad_configs_are_refused_by_name(runs_dir):
    with pytest.raises(ConfigError, match="batch_size"):
        config(runs_dir, "ppo", batch_size=1000)
    with pytest.raises(ConfigError, match="seq_len"):
        config(runs_dir, "ppo", seq_len=5)
    with pytest.raises(ConfigError, match="recurrent"):
        config(runs_dir, "reinforce", recurrent={"cell": "lstm"})
    with pytest.raises(ConfigError, match="clip_rang"):
        config(runs_dir, "a2c", clip_range=0.2)


def test_async_envs_learn_exactly_what_sync_envs_learn_and_resume(tmp_path, monkeypatch):
    sync = train(config(tmp_path / "sync", "ppo", steps=256), progress=False)
    both = train(config(tmp_path / "async", "ppo", steps=256, vector_env="async"), progress=False)
    for a, b in zip(sync.agent.policy.parameters(), both.agent.policy.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # A resumed async run starts fresh episodes from its checkpoint and reaches its budget.
    cfg = config(tmp_path / "async_resumed", "ppo", steps=384, vector_env="async")
    run_dir, crashed_at = crashed_run(cfg, monkeypatch)
    resumed = train(cfg, resume_dir=run_dir, progress=False)
    assert 0 < crashed_at < 384 <= resumed.agent.env_steps
