"""DQN: every switch and their combination train, masks are obeyed, resume is exact."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401
from agents import agent_schemas
from agents.training import train
from rlcourse.config import parse_config
from tests.run_dirs import crashed_run

SMALL = {
    "network": {"mlp": {"hidden": [32, 32]}},
    "batch_size": 16,
    "buffer_size": 1000,
    "learning_starts": 64,
    "train_freq": 4,
    "target_update_interval": 50,
    "epsilon": {"kind": "linear", "start": 1.0, "end": 0.1, "steps": 200},
}
SWITCHES = {
    "plain": {},
    "double": {"double": True},
    "dueling": {"dueling": True},
    "prioritized": {"prioritized": True},
    "n_step": {"n_step": 3},
    "noisy": {"noisy": True},
    "distributional": {"distributional": True, "atoms": 11, "v_min": 0, "v_max": 50},
    "polyak_mse": {"target_update": "polyak", "tau": 0.05, "loss": "mse"},
    "two_frames": {"optimize_memory_usage": False, "prioritized": True},
    "rainbow": {
        "double": True,
        "dueling": True,
        "prioritized": True,
        "n_step": 3,
        "noisy": True,
        "distributional": True,
        "atoms": 11,
        "v_min": 0,
        "v_max": 50,
    },
}


def config(runs_dir, env="CartPole-v1", steps=400, env_kwargs=None, **agent):
    return parse_config(
        {
            "env": {"id": env, "kwargs": env_kwargs or {}},
            "agent": {"name": "dqn", **SMALL, **agent},
            "train": {
                "steps": steps,
                "checkpoint_every": 200,
                "eval_episodes": 2,
                "runs_dir": str(runs_dir),
            },
        },
        agent_schemas(),
        name="dqn_test",
    )


@pytest.mark.parametrize("switch", sorted(SWITCHES))
def test_every_switch_trains(runs_dir, switch):
    result = train(config(runs_dir, **SWITCHES[switch]), progress=False)
    assert result.agent.updates > 50
    assert np.isfinite(result.evaluation.mean)
    assert (result.run_dir / "agent.ckpt").is_file()


def test_the_replay_keeps_two_frames_per_transition_when_asked(runs_dir):
    shared = train(config(runs_dir, steps=200), progress=False).agent.buffer
    own = train(config(runs_dir, steps=200, optimize_memory_usage=False), progress=False)
    assert shared.optimize_memory_usage and not own.agent.buffer.optimize_memory_usage


def test_vector_env_collection_counts_every_sub_env(runs_dir):
    result = train(config(runs_dir, num_envs=4, steps=400), progress=False)
    assert result.agent.env_steps == 400


class IllegalMoveGuard(gym.Wrapper):
    """Fails the test on any action the last info's mask forbade."""

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.mask = info["action_mask"]
        return obs, info

    def step(self, action):
        assert self.mask[action], f"illegal action {action} taken under mask {self.mask}"
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.mask = info["action_mask"]
        return obs, reward, terminated, truncated, info


def test_action_masks_are_obeyed(runs_dir):
    gym.register("test/GuardedTaxi-v0", lambda: IllegalMoveGuard(gym.make("Taxi-v3")))
    try:
        result = train(config(runs_dir, env="test/GuardedTaxi-v0", steps=600), progress=False)
    finally:
        gym.registry.pop("test/GuardedTaxi-v0")
    assert result.agent.buffer.sample(16).next_action_masks is not None


@pytest.mark.parametrize("switch", ["plain", "rainbow", "two_frames"])
def test_resume_continues_exactly(runs_dir, monkeypatch, switch):
    cfg = config(runs_dir, steps=600, save_replay=True, **SWITCHES[switch])
    whole = train(cfg, progress=False)

    first_dir, _ = crashed_run(cfg, monkeypatch, at_step=400)  # after the second checkpoint
    resumed = train(cfg, resume_dir=first_dir, progress=False)
    for key, value in whole.agent.online.state_dict().items():
        assert torch.equal(value, resumed.agent.online.state_dict()[key]), key
    assert json.loads((first_dir / "eval.json").read_text()) == json.loads(
        (whole.run_dir / "eval.json").read_text()
    )


# ----------------------------------------------------------------------------- acting and bursts

OBS = gym.spaces.Box(-1.0, 1.0, (4,), dtype=np.float32)
HEADS = {
    "plain": {},
    "dueling": {"dueling": True},
    "noisy": {"noisy": True},
    "c51": {"distributional": True, "atoms": 11, "v_min": -5.0, "v_max": 5.0},
    "rainbow c51": {"distributional": True, "atoms": 11, "dueling": True, "noisy": True},
}


def agent_for(switches: dict, n_actions: int = 3):
    from agents.dqn import DQNAgent, DQNConfig

    config = DQNConfig(network={"mlp": {"hidden": [16, 16]}}, batch_size=8, **switches)
    return DQNAgent(config, OBS, gym.spaces.Discrete(n_actions), seed=3)


@pytest.mark.parametrize("head", sorted(HEADS))
def test_greedy_actions_are_the_legal_argmax_of_the_heads_q_values(head):
    agent = agent_for(HEADS[head])
    obs = np.random.default_rng(1).uniform(-1, 1, (6, 4)).astype(np.float32)
    masks = np.array([[True, False, True]] * 3 + [[False, True, False]] * 3)
    q = agent.online.q_values(torch.as_tensor(obs)).detach().numpy()
    np.testing.assert_array_equal(agent._greedy(obs, None), q.argmax(axis=1))
    np.testing.assert_array_equal(agent._greedy(obs, masks), np.where(masks, q, -np.inf).argmax(1))


def filled_agent(switches: dict):
    agent = agent_for(switches)
    agent.buffer = agent._make_buffer(num_envs=1, with_masks=False, seed=5)
    rng = np.random.default_rng(0)
    obs = rng.uniform(-1, 1, (1, 4)).astype(np.float32)
    for _ in range(50):
        next_obs = rng.uniform(-1, 1, (1, 4)).astype(np.float32)
        ended = rng.random(1) < 0.1
        agent.buffer.add(
            obs, rng.integers(3, size=1), rng.normal(size=1), next_obs, ended, np.zeros(1, bool)
        )
        obs = rng.uniform(-1, 1, (1, 4)).astype(np.float32) if ended[0] else next_obs
    return agent


@pytest.mark.parametrize("switches", [{}, {"double": True}, HEADS["c51"]], ids=str)
def test_a_burst_with_one_target_pass_equals_the_steps_one_by_one(switches, monkeypatch):
    monkeypatch.setattr("agents.dqn.agent.TARGET_PASS_ROWS", 24)  # 3 batches of 8 per pass
    burst, one_by_one = filled_agent(switches), filled_agent(switches)
    burst._train(7)
    for count in (3, 3, 1):  # the same draws as the burst's passes
        stacked = one_by_one.buffer.sample_batches(8, count)
        for i in range(count):
            one_by_one._update(stacked.rows(slice(i * 8, (i + 1) * 8)))
    assert burst.updates == one_by_one.updates == 7
    torch.testing.assert_close(burst.online_flat.param, one_by_one.online_flat.param)


def test_bursts_sample_per_step_when_the_target_or_the_sampling_changes():
    for switches in ({"noisy": True}, {"prioritized": True}, {"target_update": "polyak"}):
        agent = filled_agent(switches)
        calls: list[int] = []
        original = agent.buffer.sample

        def sample(n, calls=calls, original=original):
            calls.append(n)
            return original(n)

        agent.buffer.sample = sample
        agent._train(3)
        assert calls == [8, 8, 8], switches
