"""Headless rendering: frames show the grid, text has one line per row, overlays change pixels."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from envs.gridworld import REGISTERED, GridWorldEnv, render_values
from envs.gridworld.rendering import (
    AGENT_COLOUR,
    CLIFF_COLOUR,
    GOAL_COLOUR,
    LOSS_COLOUR,
    NEUTRAL_COLOUR,
    WALL_COLOUR,
    frame_shape,
    value_colours,
)
from rlcourse.render import save_png

IDS = sorted(REGISTERED)


def _pixel(frame, row, col, cell_size):
    """Colour near the top-left corner of a cell (clear of labels and grid lines)."""
    return tuple(frame[row * cell_size + 4, col * cell_size + 4])


@pytest.mark.parametrize("env_id", IDS)
def test_rgb_frame_shows_the_grid(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    u = env.unwrapped
    cs = u._get_renderer().cell_size
    wind_strip = cs // 2 if u.grid.has_wind else 0
    assert frame.shape == (u.n_rows * cs + wind_strip, u.n_cols * cs, 3)
    assert frame.shape == frame_shape(u.grid)
    assert frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) >= 4
    r, c = u.to_coords(u.s)
    assert tuple(frame[r * cs + cs // 2, c * cs + cs // 2]) == AGENT_COLOUR
    for (row, col), char in np.ndenumerate(u.grid.chars()):
        if char == "#":
            assert _pixel(frame, row, col, cs) == WALL_COLOUR
        elif char == "C":
            assert _pixel(frame, row, col, cs) in {CLIFF_COLOUR, (92, 50, 40)}
        elif char in u.grid.terminal_rewards:
            reward = u.grid.terminal_rewards[char]
            colour = GOAL_COLOUR if reward > 0 else LOSS_COLOUR if reward < 0 else NEUTRAL_COLOUR
            assert _pixel(frame, row, col, cs) == colour
    env.close()


def test_agent_moves_in_the_frame():
    env = gym.make("rlcourse/CliffWalking-v0", render_mode="rgb_array")
    env.reset(seed=0)
    before = env.render()
    env.step(0)
    after = env.render()
    assert not np.array_equal(before, after)


@pytest.mark.parametrize("env_id", IDS)
def test_ansi_has_one_line_per_row(env_id):
    env = gym.make(env_id, render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    u = env.unwrapped
    lines = text.splitlines()
    assert len(lines) == u.n_rows + (1 if u.grid.has_wind else 0)
    assert all(len(line) == u.n_cols for line in lines[: u.n_rows])
    r, c = u.to_coords(u.s)
    assert lines[r][c] == "@" and text.count("@") == 1
    if u.grid.has_wind:
        assert lines[-1].startswith("wind: 0 0 0 1 1 1 2 2 1 0")


@pytest.mark.parametrize("env_id", IDS)
def test_render_values_overlays_the_frame(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    u = env.unwrapped
    plain = u.render_values()
    values = np.linspace(-1.0, 1.0, u.n_states)
    policy = np.full((u.n_states, u.n_actions), 1.0 / u.n_actions)
    policy[:, 0] += 0.1
    frame = u.render_values(values=values, policy=policy / policy.sum(1, keepdims=True))
    assert frame.shape == plain.shape == env.render().shape
    assert not np.array_equal(frame, plain)
    arrows_only = u.render_values(policy=np.zeros(u.n_states, dtype=int))
    assert not np.array_equal(arrows_only, plain)


def test_value_heatmap_runs_from_dark_to_bright():
    colours = value_colours(np.array([0.0, 0.5, 1.0]))
    brightness = colours.astype(int).sum(axis=1)
    assert brightness[0] < brightness[1] < brightness[2]
    assert value_colours(np.zeros(3)).shape == (3, 3)


def test_render_values_function_and_png(tmp_path):
    import pygame

    env = GridWorldEnv("russell_norvig_4x3")
    values = np.arange(12, dtype=float)
    frame = render_values(env.grid, values=values.reshape(3, 4), policy=np.ones(12, dtype=int))
    assert frame.shape == frame_shape(env.grid)
    path = tmp_path / "values.png"
    save_png(frame, path)
    loaded = pygame.surfarray.array3d(pygame.image.load(str(path))).transpose(1, 0, 2)
    np.testing.assert_array_equal(loaded, frame)
    with pytest.raises(ValueError, match="values has shape"):
        render_values(env.grid, values=np.zeros(5))


def test_human_mode_draws_into_a_window():
    env = gym.make("rlcourse/RussellNorvig4x3-v0", render_mode="human")
    env.reset(seed=0)
    env.step(1)
    assert env.render() is None
    assert env.unwrapped._renderer._window.is_open
    env.close()
    assert env.unwrapped._renderer is None


def test_render_without_mode_warns():
    env = GridWorldEnv("cliff")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None
