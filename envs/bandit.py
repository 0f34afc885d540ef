"""The k-armed testbed of Sutton & Barto (2018), section 2.3, stationary or not.

`KArmedTestbed` holds many independent bandit tasks and pulls one arm in each at once (what the
chapter 2 figures average over); `BanditEnv` is one task behind the Gymnasium API. Both draw
rewards the same way, from the same code. Importing this registers ``rlcourse/Bandit-v0``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.checks import check_choice

REWARD_STD = 1.0  # [reward] noise of every pull around the arm's true value
WALK_STD = 0.01  # [reward] per-step random-walk step of each true value (Exercise 2.5)


class KArmedTestbed:
    """`tasks` independent k-armed bandits stepped together.

    Stationary: each true value q*(a) is drawn from N(`mean`, 1) once. Non-stationary
    (Exercise 2.5): all true values start equal to `mean` and each takes an independent
    N(0, 0.01^2) random-walk step after every pull.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        tasks: int,
        arms: int = 10,
        mean: float = 0.0,
        nonstationary: bool = False,
    ):
        if tasks < 1 or arms < 1:
            raise ValueError(f"a testbed needs at least 1 task and 1 arm, got {tasks}, {arms}")
        self.rng = rng
        self.nonstationary = nonstationary
        shape = (tasks, arms)
        self.q_star = np.full(shape, mean) if nonstationary else rng.normal(mean, 1.0, shape)

    def optimal(self) -> np.ndarray:
        """bool [tasks, arms]: True at the arms of highest true value."""
        return self.q_star == self.q_star.max(axis=1, keepdims=True)

    def pull(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rewards [tasks] of pulling `actions` [tasks], and whether each pull was optimal."""
        rows = np.arange(self.q_star.shape[0])
        optimal = self.optimal()[rows, actions]
        rewards = self.rng.normal(self.q_star[rows, actions], REWARD_STD)
        if self.nonstationary:
            self.q_star += self.rng.normal(0.0, WALK_STD, self.q_star.shape)
        return rewards, optimal


class BanditEnv(gymnasium.Env):
    """One k-armed bandit task: pull an arm, receive a noisy reward around its true value.

    ## Action Space
    ``Discrete(arms)``: the arm to pull.

    ## Observation Space
    ``Discrete(1)``: there is one state, always 0.

    ## Rewards
    N(q*(a), 1) [reward] for pulling arm a (``info["rewards"]["arm"]``);
    ``info["optimal"]`` is 1.0 when the pulled arm had the highest true value.

    ## Starting State
    Every reset draws a new task: q*(a) ~ N(mean, 1), or all equal to `mean` when
    non-stationary.

    ## Episode End
    Never terminates; the registered id truncates after 1,000 pulls (``max_episode_steps``).

    ## Arguments
    ``arms``: number of arms (10 in the book). ``mean``: mean of the true values [reward]
    (Figure 2.5 uses +4). ``nonstationary``: true values take random-walk steps of standard
    deviation 0.01 [reward] after every pull (Exercise 2.5).

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["ansi"]}  # noqa: RUF012 (gymnasium.Env API)

    def __init__(
        self,
        arms: int = 10,
        mean: float = 0.0,
        nonstationary: bool = False,
        render_mode: str | None = None,
    ):
        if arms < 1:
            raise ValueError(f"arms must be at least 1, got {arms}")
        check_choice("render_mode", render_mode, self.metadata["render_modes"], optional=True)
        self.arms, self.mean, self.nonstationary = arms, float(mean), bool(nonstationary)
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(arms)
        self.observation_space = spaces.Discrete(1)
        self.testbed: KArmedTestbed | None = None
        self.last: str = ""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.testbed = KArmedTestbed(self.np_random, 1, self.arms, self.mean, self.nonstationary)
        self.last = ""
        return 0, {}

    def step(self, action: int):
        if self.testbed is None:
            raise RuntimeError("call reset before step")
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an arm in 0..{self.arms - 1}, got {action!r}")
        rewards, optimal = self.testbed.pull(np.array([int(action)]))
        reward = float(rewards[0])
        self.last = f"arm {int(action)}: {reward:+.3f}" + (" (optimal)" if optimal[0] else "")
        info = {"optimal": float(optimal[0]), "rewards": {"arm": reward}}
        return 0, reward, False, False, info

    def render(self) -> Any:  # the ansi text, or None without a render mode
        if self.render_mode == "ansi":
            return self.last + "\n"
        return None


if "rlcourse/Bandit-v0" not in gymnasium.registry:
    gymnasium.register(
        id="rlcourse/Bandit-v0", entry_point="envs.bandit:BanditEnv", max_episode_steps=1_000
    )
