"""The T-maze memory task: env checkers, determinism, and its rules by hand."""

import os
import warnings

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401
from envs.memory import Action, TMazeEnv


def test_env_checkers():
    env = gym.make("rlcourse/TMaze-v0", render_mode="ansi")
    check_env(env.unwrapped)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env.unwrapped)
    assert not [str(w.message) for w in caught]


def _play(seed, actions):
    env = gym.make("rlcourse/TMaze-v0", length=2)
    out = [env.reset(seed=seed)[0].tolist()]
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        out.append((obs.tolist(), reward, terminated, truncated))
        if terminated or truncated:
            out.append(env.reset()[0].tolist())
    return out


def test_seeded_rollouts_are_deterministic():
    actions = [0, 0, 1, 0, 2, 0, 0, 2] * 5
    assert _play(3, actions) == _play(3, actions)


def test_cue_only_at_the_start_and_the_right_turn_pays():
    env = TMazeEnv(length=2)
    rewards = {}
    for seed in range(20):
        obs, info = env.reset(seed=seed)
        cue = Action.LEFT if obs[0] == 1.0 else Action.RIGHT
        assert obs[:2].sum() == 1.0 and obs[2] == 1.0
        np.testing.assert_array_equal(info["action_mask"], [True, False, False])
        for _ in range(2):
            obs, reward, terminated, _, info = env.step(Action.FORWARD)
            assert obs[:2].sum() == 0.0 and reward == 0.0 and not terminated
        np.testing.assert_array_equal(obs, [0, 0, 0, 1])
        np.testing.assert_array_equal(info["action_mask"], [False, True, True])
        assert env.step(Action.FORWARD)[1:3] == (0.0, False)  # illegal: stays put
        turn = cue if seed % 2 else Action(3 - cue)
        _, reward, terminated, _, info = env.step(turn)
        assert terminated and reward == info["rewards"]["goal"]
        assert reward == (1.0 if seed % 2 else -1.0) and info["success"] == float(seed % 2)
        rewards[cue] = rewards.get(cue, 0) + 1
    assert set(rewards) == {Action.LEFT, Action.RIGHT}


def test_an_agent_ignoring_the_mask_is_cut_by_the_time_limit():
    env = TMazeEnv(length=1)
    env.reset(seed=0)
    truncated, steps = False, 0
    while not truncated:
        *_, truncated, _ = env.step(Action.LEFT)  # illegal in the corridor: never moves
        steps += 1
    assert steps == 8


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="length"):
        TMazeEnv(length=0)
    with pytest.raises(ValueError, match="action"):
        TMazeEnv().step(7)
