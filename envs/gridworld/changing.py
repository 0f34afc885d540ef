"""A gridworld whose maze changes during learning: the blocking and shortcut mazes of Sutton &
Barto (2018), Examples 8.2 and 8.3 (Figures 8.4 and 8.5)."""

from __future__ import annotations

import os
from typing import Any

import gymnasium

from envs.gridworld.env import GridWorldEnv
from envs.gridworld.maps import Cell, GridMap
from rlcourse.mdp import TabularMDP

MapSpec = str | os.PathLike[str] | GridMap


class ChangingMazeEnv(gymnasium.Env):
    """The `before` map until `change_at` steps have been taken (over all episodes since the env
    was made), the `after` map from then on.

    Observations, actions, rewards and episode ends are those of the two gridworlds
    (:class:`GridWorldEnv`), which must have the same size and moves. The switch happens at
    the first step or reset after `change_at` steps taken where the agent's cell is not a wall
    of the new map; the agent keeps its cell. ``info["maze"]`` is 0 before and 1 after, and
    `mdp` is always the current map's model.

    ## Arguments
    ``before``, ``after``: layout names, map files or GridMaps. ``change_at``: steps [env
    steps] before the change. ``obs_type``, ``render_mode``: as :class:`GridWorldEnv`'s.

    ## Version History
    - v0: initial version.
    """

    metadata = GridWorldEnv.metadata

    def __init__(
        self,
        before: MapSpec,
        after: MapSpec,
        change_at: int,
        obs_type: str = "index",
        render_mode: str | None = None,
    ):
        if change_at < 0:
            raise ValueError(f"change_at must be a number of steps >= 0, got {change_at}")
        self.mazes = (
            GridWorldEnv(before, obs_type, render_mode),
            GridWorldEnv(after, obs_type, render_mode),
        )
        first, second = self.mazes
        if first.grid.shape != second.grid.shape or first.n_actions != second.n_actions:
            raise ValueError(
                f"the mazes differ in size or moves: {first.grid.shape}, {first.n_actions} "
                f"moves against {second.grid.shape}, {second.n_actions}"
            )
        self.change_at = int(change_at)
        self.render_mode = render_mode
        self.observation_space = first.observation_space
        self.action_space = first.action_space
        self.steps_taken = 0
        self.changed = False

    @property
    def current(self) -> GridWorldEnv:
        return self.mazes[int(self.changed)]

    @property
    def mdp(self) -> TabularMDP:
        return self.current.mdp

    def _maybe_change(self) -> None:
        if self.changed or self.steps_taken < self.change_at:
            return
        before, after = self.mazes
        if after.cells.ravel()[before.s] == Cell.WALL:
            return
        after.s = before.s
        self.changed = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        for maze in self.mazes:  # one random stream for both (start cells, slips)
            maze.np_random = self.np_random
        self._maybe_change()
        obs, info = self.current.reset(options=options)
        return obs, {**info, "maze": int(self.changed)}

    def step(self, action: Any):
        self._maybe_change()
        obs, reward, terminated, truncated, info = self.current.step(action)
        self.steps_taken += 1
        return obs, reward, terminated, truncated, {**info, "maze": int(self.changed)}

    def render(self) -> Any:
        return self.current.render()

    def close(self) -> None:
        for maze in self.mazes:
            maze.close()
