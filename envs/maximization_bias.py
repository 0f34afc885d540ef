"""The maximization-bias MDP of Sutton & Barto (2018), Example 6.7 (Figure 6.5).

Importing this registers ``rlcourse/MaximizationBias-v0``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

A, B, END = 0, 1, 2  # the states
RIGHT, LEFT = 0, 1  # the actions in A
B_REWARD_MEAN = -0.1  # [return] mean reward of every action in B (standard deviation 1)


class MaximizationBiasEnv(gymnasium.Env):
    """From A, RIGHT ends the episode at once; LEFT leads to B, where every action ends it with
    a reward of mean -0.1: going LEFT is worse on average, but a maximum over B's noisy
    estimates makes it look better.

    ## Action Space
    ``Discrete(b_actions)``. In A only 0 (RIGHT) and 1 (LEFT) are allowed
    (``info["action_mask"]``; another action in A counts as RIGHT); in B all are.

    ## Observation Space
    ``Discrete(3)``: 0 is A, 1 is B, 2 the end.

    ## Rewards
    0 on leaving A; N(-0.1, 1) [return] on leaving B (``info["rewards"]["b"]``).

    ## Starting State
    A.

    ## Episode End
    Terminated after RIGHT in A or any action in B.

    ## Arguments
    ``b_actions``: how many actions B has (10 in Figure 6.5).

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": []}  # noqa: RUF012 (gymnasium.Env API)

    def __init__(self, b_actions: int = 10):
        if b_actions < 2:
            raise ValueError(f"b_actions must be at least 2, got {b_actions}")
        self.b_actions = b_actions
        self.observation_space = spaces.Discrete(3)
        self.action_space = spaces.Discrete(b_actions)
        self.s = A

    def _info(self) -> dict[str, Any]:
        mask = np.ones(self.b_actions, dtype=bool)
        if self.s == A:
            mask[2:] = False
        return {"action_mask": mask}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.s = A
        return self.s, self._info()

    def step(self, action: int):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be in 0..{self.b_actions - 1}, got {action!r}")
        if self.s == A and action == LEFT:
            self.s = B
            return self.s, 0.0, False, False, {**self._info(), "rewards": {"b": 0.0}}
        reward = 0.0 if self.s == A else float(self.np_random.normal(B_REWARD_MEAN, 1.0))
        self.s = END
        return self.s, reward, True, False, {**self._info(), "rewards": {"b": reward}}


if "rlcourse/MaximizationBias-v0" not in gymnasium.registry:
    gymnasium.register(
        id="rlcourse/MaximizationBias-v0", entry_point="envs.maximization_bias:MaximizationBiasEnv"
    )
