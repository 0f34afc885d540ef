"""The random walks of Sutton & Barto (2018): Example 6.2 (5 states) and Figure 7.2 (19 states).

A Markov reward process: from the centre the walker steps left or right with equal
probability until it falls off an end. It is an env with one action, and a toy-text `P` dict
so that `rlcourse.mdp.TabularMDP.from_env` and the planners give the true values. Importing
this registers ``rlcourse/RandomWalk-v0`` (5 states, rewards 0 and +1) and
``rlcourse/RandomWalk19-v0`` (19 states, rewards -1 and +1).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.checks import check_choice


class RandomWalkEnv(gymnasium.Env):
    """A walk along a row of states that ends off either end.

    ## Action Space
    ``Discrete(1)``: there is nothing to choose; action 0 takes the random step.

    ## Observation Space
    ``Discrete(states + 2)``: 0 and ``states + 1`` are the terminal ends, 1..``states`` the
    walk's states (A..E of Example 6.2 are 1..5).

    ## Rewards
    ``right_reward`` [return] for stepping off the right end, ``left_reward`` for the left
    (``info["rewards"]["end"]``), 0 otherwise.

    ## Starting State
    The centre state, ``(states + 1) // 2``.

    ## Episode End
    Terminated on stepping off either end.

    ## Arguments
    ``states``: how many non-terminal states (odd). ``left_reward``, ``right_reward``.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["ansi"]}  # noqa: RUF012 (gymnasium.Env API)

    def __init__(
        self,
        states: int = 5,
        left_reward: float = 0.0,
        right_reward: float = 1.0,
        render_mode: str | None = None,
    ):
        if states < 1 or states % 2 == 0:
            raise ValueError(f"states must be a positive odd number, got {states}")
        check_choice("render_mode", render_mode, self.metadata["render_modes"], optional=True)
        self.states = states
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(1)
        self.observation_space = spaces.Discrete(states + 2)
        self.start = (states + 1) // 2
        right_end = states + 1
        self.P: dict[int, dict[int, list[tuple[float, int, float, bool]]]] = {}
        for s in range(states + 2):
            if s in (0, right_end):
                self.P[s] = {0: [(1.0, s, 0.0, True)]}
                continue
            left = (0.5, s - 1, left_reward if s == 1 else 0.0, s == 1)
            right = (0.5, s + 1, right_reward if s == states else 0.0, s == states)
            self.P[s] = {0: [left, right]}
        self.initial_state_distrib = np.eye(states + 2)[self.start]
        self.s = self.start

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.s = self.start
        return self.s, {}

    def step(self, action: int):
        if not self.action_space.contains(action):
            raise ValueError(f"the random walk has one action, 0; got {action!r}")
        outcomes = self.P[self.s][0]
        _, self.s, reward, terminated = outcomes[int(self.np_random.integers(len(outcomes)))]
        return self.s, reward, terminated, False, {"rewards": {"end": reward}}

    def render(self) -> Any:  # the ansi text, or None without a render mode
        if self.render_mode == "ansi":
            row = ["."] * (self.states + 2)
            row[0] = row[-1] = "|"
            row[self.s] = "*"
            return "".join(row) + "\n"
        return None


for _id, _kwargs in {
    "rlcourse/RandomWalk-v0": {"states": 5, "left_reward": 0.0, "right_reward": 1.0},
    "rlcourse/RandomWalk19-v0": {"states": 19, "left_reward": -1.0, "right_reward": 1.0},
}.items():
    if _id not in gymnasium.registry:
        gymnasium.register(id=_id, entry_point="envs.random_walk:RandomWalkEnv", kwargs=_kwargs)
