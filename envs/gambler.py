"""The Gambler's Problem (Sutton & Barto 2018, Example 4.3) as a toy-text MDP with a `P` dict.

Importing this registers ``rlcourse/Gambler-v0``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.checks import check_choice

GOAL = 100  # [$] capital that wins
WIN_REWARD = 1.0  # [return] for reaching the goal


def largest_stake(capital: int) -> int:
    """[$] the most the gambler may stake: what he has, and no more than he needs to win."""
    return min(capital, GOAL - capital)


class GamblerEnv(gymnasium.Env):
    """Stake part of your capital on a coin flip until you reach $100 or lose everything.

    ## Action Space
    ``Discrete(50)``: action a stakes ``a + 1`` [$]. ``info["action_mask"]`` marks the stakes
    up to ``min(capital, 100 - capital)``; a larger stake is cut to that.

    ## Observation Space
    ``Discrete(101)``: the capital [$], 0 to 100.

    ## Rewards
    +1 on reaching $100 (``info["rewards"]["goal"]``), 0 otherwise; with gamma = 1 a state's
    value is the probability of winning from it.

    ## Starting State
    Capital uniform over $1-$99, or ``reset(options={"state": capital})``.

    ## Episode End
    Terminated at $0 or $100.

    ## Arguments
    ``p_heads``: probability that the coin comes up heads and the gambler wins his stake
    (0.4 in Figure 4.3).

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["ansi"]}  # noqa: RUF012 (gymnasium.Env API)

    def __init__(self, p_heads: float = 0.4, render_mode: str | None = None):
        if not 0.0 < p_heads < 1.0:
            raise ValueError(f"p_heads must lie strictly between 0 and 1, got {p_heads}")
        check_choice("render_mode", render_mode, self.metadata["render_modes"], optional=True)
        self.p_heads = float(p_heads)
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(GOAL // 2)
        self.observation_space = spaces.Discrete(GOAL + 1)
        self.P = self._transitions()
        self.initial_state_distrib = np.zeros(GOAL + 1)
        self.initial_state_distrib[1:GOAL] = 1.0 / (GOAL - 1)
        self.capital = 0

    def _transitions(self) -> dict[int, dict[int, list[tuple[float, int, float, bool]]]]:
        P: dict[int, dict[int, list[tuple[float, int, float, bool]]]] = {}
        for s in range(GOAL + 1):
            P[s] = {}
            for a in range(GOAL // 2):
                if s in (0, GOAL):
                    P[s][a] = [(1.0, s, 0.0, True)]
                    continue
                stake = min(a + 1, largest_stake(s))
                win, lose = s + stake, s - stake
                P[s][a] = [
                    (self.p_heads, win, WIN_REWARD if win == GOAL else 0.0, win == GOAL),
                    (1.0 - self.p_heads, lose, 0.0, lose == 0),
                ]
        return P

    def _info(self) -> dict[str, Any]:
        return {"action_mask": np.arange(1, GOAL // 2 + 1) <= largest_stake(self.capital)}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "state" in options:
            capital = int(options["state"])
            if not 0 < capital < GOAL:
                raise ValueError(f"options['state'] must be a capital in 1..{GOAL - 1}")
            self.capital = capital
        else:
            self.capital = int(self.np_random.choice(GOAL + 1, p=self.initial_state_distrib))
        return self.capital, self._info()

    def step(self, action: int):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be in 0..{GOAL // 2 - 1}, got {action!r}")
        outcomes = self.P[self.capital][int(action)]
        i = int(self.np_random.choice(len(outcomes), p=[o[0] for o in outcomes]))
        _, self.capital, reward, terminated = outcomes[i]
        info = {**self._info(), "rewards": {"goal": reward}}
        return self.capital, reward, terminated, False, info

    def render(self) -> Any:  # the ansi text, or None without a render mode
        if self.render_mode == "ansi":
            return f"capital ${self.capital}\n"
        return None


if "rlcourse/Gambler-v0" not in gymnasium.registry:
    gymnasium.register(id="rlcourse/Gambler-v0", entry_point="envs.gambler:GamblerEnv")
