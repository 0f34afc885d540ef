"""Gridworld MDPs from text maps, with explicit models; importing this registers the ids.

Registered ids: ``rlcourse/GridWorld-v0`` (any map: ``gym.make(id, map=...)``),
``rlcourse/SuttonBarto4x4-v0``, ``rlcourse/RussellNorvig4x3-v0``, ``rlcourse/CliffWalking-v0``,
``rlcourse/WindyGridworld-v0``, ``rlcourse/WindyGridworldKings-v0``,
``rlcourse/WindyGridworldStochastic-v0``, ``rlcourse/SlipperyIce-v0``, ``rlcourse/DynaMaze-v0``;
and the changing mazes ``rlcourse/BlockingMaze-v0`` and ``rlcourse/ShortcutMaze-v0``.
"""

from __future__ import annotations

import gymnasium

from envs.gridworld.changing import ChangingMazeEnv
from envs.gridworld.dynamics import Action
from envs.gridworld.env import GridWorldEnv
from envs.gridworld.maps import LAYOUTS, Cell, GridMap, MapError, load_map, maze_map, parse_map
from envs.gridworld.rendering import render_ansi, render_frame, render_values
from rlcourse.mdp import TabularMDP

ENTRY_POINT = "envs.gridworld.env:GridWorldEnv"

# id -> (layout, max_episode_steps). Windy and cliff runs need long early episodes (SARSA's
# first windy episode takes thousands of steps), so their limits only guard against endless
# loops.
REGISTERED: dict[str, tuple[str | None, int | None]] = {
    "rlcourse/GridWorld-v0": (None, 1_000),
    "rlcourse/SuttonBarto4x4-v0": ("sutton_barto_4x4", 500),
    "rlcourse/RussellNorvig4x3-v0": ("russell_norvig_4x3", 100),
    "rlcourse/CliffWalking-v0": ("cliff", 10_000),
    "rlcourse/WindyGridworld-v0": ("windy", 100_000),
    "rlcourse/WindyGridworldKings-v0": ("windy_kings", 100_000),
    "rlcourse/WindyGridworldStochastic-v0": ("windy_stochastic", 100_000),
    "rlcourse/SlipperyIce-v0": ("slippery_ice", 200),
    "rlcourse/DynaMaze-v0": ("dyna_maze", 10_000),
}

# id -> (map before, map after, steps before the change): Sutton & Barto's Examples 8.2, 8.3
CHANGING: dict[str, tuple[str, str, int]] = {
    "rlcourse/BlockingMaze-v0": ("blocking_maze_before", "blocking_maze_after", 1_000),
    "rlcourse/ShortcutMaze-v0": ("shortcut_maze_before", "shortcut_maze_after", 3_000),
}

for _env_id, (_layout, _max_steps) in REGISTERED.items():
    if _env_id not in gymnasium.registry:
        gymnasium.register(
            id=_env_id,
            entry_point=ENTRY_POINT,
            kwargs={} if _layout is None else {"map": _layout},
            max_episode_steps=_max_steps,
        )

for _env_id, (_before, _after, _change_at) in CHANGING.items():
    if _env_id not in gymnasium.registry:
        gymnasium.register(
            id=_env_id,
            entry_point="envs.gridworld.changing:ChangingMazeEnv",
            kwargs={"before": _before, "after": _after, "change_at": _change_at},
            max_episode_steps=10_000,
        )

__all__ = [
    "CHANGING",
    "LAYOUTS",
    "REGISTERED",
    "Action",
    "Cell",
    "ChangingMazeEnv",
    "GridMap",
    "GridWorldEnv",
    "MapError",
    "TabularMDP",
    "load_map",
    "maze_map",
    "parse_map",
    "render_ansi",
    "render_frame",
    "render_values",
]
