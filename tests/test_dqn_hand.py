"""DQN's hand-written update: the gradient, loss and TD errors autograd gives, for every head."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.dqn.agent import DQNAgent
from agents.dqn.config import DQNConfig
from agents.dqn.network import HandQNetwork
from agents.dqn.targets import value_loss, value_loss_grad
from rlcourse.buffers import ReplayBatch

OBS = gym.spaces.Box(-1.0, 1.0, (4,), dtype=np.float32)
HEADS = {
    "plain": {},
    "dueling": {"dueling": True},
    "noisy": {"noisy": True},
    "c51": {"distributional": True, "atoms": 11, "v_min": -5.0, "v_max": 5.0},
    "rainbow": {
        "distributional": True, "atoms": 11, "v_min": -5.0, "v_max": 5.0,
        "dueling": True, "noisy": True, "double": True,
    },
}  # fmt: skip
SWITCHES = {
    **HEADS,
    "double": {"double": True},
    "double dueling mse": {"double": True, "dueling": True, "loss": "mse"},
    "tanh": {"network": {"mlp": {"hidden": [16, 16], "activation": "tanh"}}},
}


def agent_for(switches: dict, n_actions: int = 3) -> DQNAgent:
    switches = {"network": {"mlp": {"hidden": [16, 16]}}, **switches}
    config = DQNConfig(batch_size=8, **switches)
    return DQNAgent(config, OBS, gym.spaces.Discrete(n_actions), seed=3)


def batch(rows: int = 8, n_actions: int = 3, masks: bool = False, seed: int = 0) -> ReplayBatch:
    rng = np.random.default_rng(seed)
    next_masks = None
    discounts = rng.choice([0.0, 0.99, 0.9801], size=rows).astype(np.float32)
    if masks:
        next_masks = rng.random((rows, n_actions)) < 0.6
        next_masks[0] = False  # a terminal row with no legal action
        discounts[0] = 0.0
        next_masks[1:, 0] |= ~next_masks[1:].any(axis=1)
    return ReplayBatch(
        observations=rng.uniform(-1, 1, (rows, 4)).astype(np.float32),
        actions=rng.integers(n_actions, size=rows),
        rewards=rng.normal(size=rows).astype(np.float32),
        next_observations=rng.uniform(-1, 1, (rows, 4)).astype(np.float32),
        discounts=discounts,
        next_action_masks=next_masks,
        weights=rng.uniform(0.2, 1.0, rows).astype(np.float32),
        indices=np.arange(rows),
    )


@pytest.mark.parametrize("masks", [False, True], ids=["no masks", "masks"])
@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_hand_gradient_matches_autograd(name, masks):
    agent = agent_for(SWITCHES[name])
    assert agent._hand is not None
    data = batch(masks=masks)
    agent.online_flat.zero_grad()
    loss, td_errors = agent.loss(data)
    loss.backward()
    expected = agent.online_flat.param.grad.clone()
    hand_loss, hand_td = agent._hand_gradient(data)
    torch.testing.assert_close(hand_loss, loss.detach())
    torch.testing.assert_close(hand_td, td_errors)
    torch.testing.assert_close(agent.online_flat.param.grad, expected)
    assert expected.abs().sum() > 0


@pytest.mark.parametrize("name", sorted(HEADS))
def test_hand_network_computes_the_q_network(name):
    agent = agent_for(HEADS[name])
    hand = HandQNetwork.of(agent.target)
    obs = torch.randn(5, 4)
    torch.testing.assert_close(hand.forward(obs), agent.target(obs))
    expected = agent.target.q_values(obs).detach().numpy()
    np.testing.assert_allclose(hand.numpy_q_values(obs.numpy()), expected, rtol=1e-5, atol=1e-5)
    agent.target.reset_noise()  # the NumPy pass reads the new noise
    expected = agent.target.q_values(obs).detach().numpy()
    np.testing.assert_allclose(hand.numpy_q_values(obs.numpy()), expected, rtol=1e-5, atol=1e-5)


def test_networks_it_cannot_run_by_hand_fall_back_to_autograd():
    config = DQNConfig(network={"mlp": {"hidden": [16], "norm": "layer"}}, batch_size=8)
    agent = DQNAgent(config, OBS, gym.spaces.Discrete(2))
    assert agent._hand is None
    agent.online_flat.zero_grad()
    loss, _ = agent.loss(batch(n_actions=2))
    loss.backward()
    assert agent.online_flat.param.grad.abs().sum() > 0


def test_acting_in_numpy_obeys_masks_and_matches_torch():
    agent = agent_for({})
    obs = np.random.default_rng(1).uniform(-1, 1, (6, 4)).astype(np.float32)
    masks = np.array([[True, False, True]] * 3 + [[False, True, False]] * 3)
    q = agent.online.q_values(torch.as_tensor(obs)).detach().numpy()
    expected = np.where(masks, q, -np.inf).argmax(axis=1)
    np.testing.assert_array_equal(agent._greedy(obs, masks), expected)
    assert all(masks[np.arange(6), agent._greedy(obs, masks)])


@pytest.mark.parametrize("kind", ["huber", "mse"])
def test_value_loss_grad_is_the_derivative(kind):
    predicted = torch.tensor([0.0, 0.3, -2.0, 4.0], requires_grad=True)
    target = torch.tensor([0.5, 0.0, 1.0, 1.0])
    value_loss(predicted, target, kind).sum().backward()
    torch.testing.assert_close(value_loss_grad(predicted.detach() - target, kind), predicted.grad)
    expected = [-0.5, 0.3, -1.0, 1.0] if kind == "huber" else [-1.0, 0.6, -6.0, 6.0]
    torch.testing.assert_close(predicted.grad, torch.tensor(expected))


def filled_agent(switches: dict) -> DQNAgent:
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


@pytest.mark.parametrize("name", ["plain", "double", "c51"])
def test_a_burst_with_one_target_pass_equals_the_steps_one_by_one(name, monkeypatch):
    monkeypatch.setattr("agents.dqn.agent.TARGET_PASS_ROWS", 24)  # 3 batches of 8 per pass
    burst, one_by_one = filled_agent(SWITCHES[name]), filled_agent(SWITCHES[name])
    burst._train(7)
    stacked = [one_by_one.buffer.sample_batches(8, count) for count in (3, 3, 1)]
    for part in stacked:
        for i in range(len(part.indices) // 8):
            rows = slice(i * 8, (i + 1) * 8)
            one_by_one._update(part.rows(rows))
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
