"""A T-maze whose cue is visible only at the start: a memory task for recurrent policies.

Importing this registers ``rlcourse/TMaze-v0`` (:class:`TMazeEnv`).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.checks import check_choice

GOAL_REWARD = 1.0  # [return] for turning towards the cue
WRONG_REWARD = -1.0  # [return] for turning away from it


class Action(IntEnum):
    FORWARD = 0
    LEFT = 1
    RIGHT = 2


class TMazeEnv(gymnasium.Env):
    """Walk down a corridor, then turn the way a cue shown only at the first step pointed.

    ## Action Space
    ``Discrete(3)``: 0 forward, 1 turn left, 2 turn right. In the corridor only forward
    is legal, at the junction only the turns: ``info["action_mask"]`` says which. An illegal
    action leaves the agent where it is.

    ## Observation Space
    ``Box(0, 1, (4,), float32)``: ``[cue left, cue right, in the corridor, at the junction]``;
    the two cue entries are zero after the first step.

    ## Rewards
    ``+1`` for turning towards the cue, ``-1`` for turning away (``info["rewards"]["goal"]``);
    0 on every other step. A policy without memory can do no better than 0 on average.

    ## Starting State
    The agent stands at the corridor's first cell; the cue (left or right) is drawn uniformly.

    ## Episode End
    Terminated by a turn at the junction (``info["success"]`` is 1.0 for the right turn).
    Truncated after ``4 * (length + 1)`` steps (only a policy that ignores the mask gets there).

    ## Arguments
    ``length``: corridor cells before the junction [cells], at least 1.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}  # noqa: RUF012 (gymnasium.Env API)

    def __init__(self, length: int = 5, render_mode: str | None = None):
        if length < 1:
            raise ValueError(f"length must be at least 1 cell, got {length}")
        check_choice("render_mode", render_mode, self.metadata["render_modes"], optional=True)
        self.length = length
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(len(Action))
        self.observation_space = spaces.Box(0.0, 1.0, shape=(4,), dtype=np.float32)
        self.position = 0
        self.cue = Action.LEFT
        self.steps = 0

    @property
    def at_junction(self) -> bool:
        return self.position == self.length

    def _mask(self) -> np.ndarray:
        return np.array([not self.at_junction, self.at_junction, self.at_junction], dtype=bool)

    def _observation(self) -> np.ndarray:
        obs = np.zeros(4, dtype=np.float32)
        if self.steps == 0:
            obs[0 if self.cue == Action.LEFT else 1] = 1.0
        obs[3 if self.at_junction else 2] = 1.0
        return obs

    def _info(self, goal: float = 0.0) -> dict[str, Any]:
        return {"action_mask": self._mask(), "rewards": {"goal": goal}}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.position, self.steps = 0, 0
        self.cue = Action.LEFT if self.np_random.random() < 0.5 else Action.RIGHT
        return self._observation(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0 (forward), 1 (left) or 2 (right), got {action!r}")
        self.steps += 1
        action = Action(int(action))
        if action == Action.FORWARD or not self.at_junction:
            if action == Action.FORWARD and not self.at_junction:
                self.position += 1
            truncated = self.steps >= 4 * (self.length + 1)
            return self._observation(), 0.0, False, truncated, self._info()
        reward = GOAL_REWARD if action == self.cue else WRONG_REWARD
        info = {**self._info(reward), "success": float(action == self.cue)}
        return self._observation(), reward, True, False, info

    def render(self) -> Any:  # the ansi text, or None without a render mode
        if self.render_mode != "ansi":
            return None
        corridor = "".join("A" if i == self.position else "." for i in range(self.length + 1))
        cue = "<" if self.cue == Action.LEFT else ">"
        return f"cue {cue} shown at step 0 | {corridor}|T\n"


if "rlcourse/TMaze-v0" not in gymnasium.registry:
    gymnasium.register(
        id="rlcourse/TMaze-v0",
        entry_point="envs.memory:TMazeEnv",
    )
