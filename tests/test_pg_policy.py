"""The actor-critic network: masked categoricals, recurrent resets, Gaussian actions."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.pg.config import PPOConfig
from agents.pg.policy import ActorCritic

BOX4 = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
FOUR_ACTIONS = gym.spaces.Discrete(4)


def policy(action_space=FOUR_ACTIONS, **config):
    torch.manual_seed(0)
    base = {"network": {"mlp": {"hidden": [16]}}, "n_steps": 8, "batch_size": 8}
    cfg = PPOConfig.model_validate({**base, **config})
    return ActorCritic(cfg, BOX4, action_space)


def test_masked_categorical_never_samples_or_weighs_a_masked_action():
    net = policy()
    with torch.no_grad():  # make the masked actions by far the most likely ones
        net.actor.net.layers[-1].bias.copy_(torch.tensor([0.0, 50.0, 0.0, 50.0]))
    obs = torch.randn(2000, 4)
    mask = torch.tensor([True, False, True, False]).expand(2000, 4)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        actions, log_probs, _, _ = net.step(obs, mask, None, None, gen)
        greedy, _ = net.act(obs, mask, None, None, True, gen)
        all_actions = torch.arange(4).repeat_interleave(2000)
        lp, entropy, _ = net.evaluate_actions(obs.repeat(4, 1), all_actions, mask.repeat(4, 1))
    assert set(actions.tolist()) == {0, 2}
    assert set(greedy.tolist()) <= {0, 2}
    probs = lp.exp().view(4, 2000)
    assert torch.all(probs[[1, 3]] == 0.0)
    torch.testing.assert_close(probs.sum(0), torch.ones(2000))
    assert torch.isfinite(log_probs).all() and torch.isfinite(entropy).all()
    assert float(entropy.max()) <= np.log(2) + 1e-6  # two legal actions at most


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_state_resets_where_an_episode_starts(cell):
    net = policy(recurrent={"cell": cell, "hidden_size": 8})
    obs = torch.randn(1, 6, 4)
    actions = torch.zeros(1, 6, dtype=torch.int64)
    starts = torch.tensor([[True, False, False, True, False, False]])
    with torch.no_grad():
        lp, _, values = net.evaluate_actions(obs, actions, None, None, starts)
        fresh_lp, _, fresh_values = net.evaluate_actions(obs[:, 3:], actions[:, 3:])
        carried_lp, _, _ = net.evaluate_actions(obs, actions)  # no reset: memory leaks in
    torch.testing.assert_close(values[3:], fresh_values)
    torch.testing.assert_close(lp[3:], fresh_lp)
    assert not torch.allclose(carried_lp[3:], fresh_lp)


def test_recurrent_step_by_step_matches_the_sequence():
    net = policy(recurrent={"cell": "lstm", "hidden_size": 8})
    obs = torch.randn(1, 5, 4)
    starts = torch.tensor([[True, False, True, False, False]])
    gen = torch.Generator()
    hidden = net.initial_state(1)
    step_values = []
    with torch.no_grad():
        for t in range(5):
            _, _, v, hidden = net.step(obs[:, t], None, hidden, starts[:, t], gen)
            step_values.append(v)
        _, _, seq_values = net.evaluate_actions(obs, torch.zeros(1, 5, dtype=torch.int64),
                                                None, None, starts)  # fmt: skip
    torch.testing.assert_close(torch.cat(step_values), seq_values)


def test_gaussian_actions_are_clipped_or_squashed_into_the_bounds():
    low, high = np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32)
    space = gym.spaces.Box(low, high, dtype=np.float32)
    plain = policy(space, log_std_init=1.0)
    squashed = policy(space, squash=True)
    raw = np.array([[-5.0, 0.5], [0.0, 9.0]], dtype=np.float32)
    np.testing.assert_allclose(plain.to_env(raw), [[-2.0, 0.5], [0.0, 1.0]])
    np.testing.assert_allclose(squashed.to_env(np.array([[-1.0, 0.0]])), [[-2.0, 0.5]])
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        actions, log_probs, _, _ = squashed.step(torch.randn(100, 4), None, None, None, gen)
        again, _, _ = squashed.evaluate_actions(torch.zeros(0, 4), torch.zeros(0, 2))
    assert actions.abs().max() < 1.0 and torch.isfinite(log_probs).all()
    assert again.shape == (0,)


def test_unsupported_action_space_is_named():
    with pytest.raises(TypeError, match="Discrete or 1-D Box"):
        policy(gym.spaces.MultiBinary(3))


def test_chained_leaves_compute_what_the_modules_compute():
    import copy

    from rlcourse.nn import layers_of, run_layers, sequential_leaves

    net = policy(network={"mlp": {"hidden": [8, 8], "norm": "layer"}})
    x = torch.randn(5, 4)
    features = net.critic_encoder(x)
    for module, inputs in [
        (net.actor_encoder, x),
        (net.critic_encoder, x),
        (net.actor.net, features),
        (net.critic.net, features),
    ]:
        assert sequential_leaves(module) is not None
        torch.testing.assert_close(run_layers(layers_of(module), inputs), module(inputs))
    # An unknown container is called as a whole.
    assert sequential_leaves(net.critic) is None and layers_of(net.critic) == [net.critic]
    # A deep copy runs its own layers.
    twin = copy.deepcopy(net)
    with torch.no_grad():
        for p in twin.parameters():
            p.add_(1.0)
    assert not torch.allclose(twin.value(x), net.value(x))
    torch.testing.assert_close(twin.value(x), twin.critic(twin.critic_encoder(x)))


@pytest.mark.parametrize("state_dependent_std", [False, True])
def test_gaussian_sampling_log_probs_match_the_head(state_dependent_std):
    space = gym.spaces.Box(-2.0, 2.0, (2,), np.float32)
    net = policy(space, state_dependent_std=state_dependent_std, log_std_init=-0.5)
    obs = torch.randn(64, 4)
    with torch.no_grad():
        actions, log_probs, _, _ = net.step(obs, None, None, None, torch.Generator())
        again, _, _ = net.evaluate_actions(obs, actions)
    torch.testing.assert_close(log_probs, again)
