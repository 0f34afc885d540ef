"""Per-env n-step windows: discounted reward sums that close after n steps or at an episode end.

Every step opens one window per env (at that step's observation and action), adds the step's
reward to every open window of the env, and closes the windows that have now seen n rewards.
When an env's episode ends (terminated or truncated), all of its open windows close at once,
shorter ones included. A window closed after k rewards carries

    reward   = sum_{j<k} gamma**j * r_{t+j}
    discount = 0 if the episode terminated within those k steps, else gamma**k

so that the target is reward + discount * V(observation k steps later): a truncated episode
still bootstraps from its final observation. With n = 1 each window is the one-step transition.

The bookkeeping runs in plain Python per env: with the few envs of a vector env, that costs
less than the fixed overhead of NumPy calls on arrays of a few elements.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class ClosedWindows(NamedTuple):
    """Windows closed by one step, ordered by env and, within an env, oldest first."""

    env: np.ndarray  # [K] int64: which env each window belongs to
    obs_slot: np.ndarray  # [K] int64: the frame slot of the window's first observation
    action: np.ndarray  # [K] int64: the action taken at that observation
    reward: np.ndarray  # [K] float64: the discounted reward sum over the window
    discount: np.ndarray  # [K] float64: gamma**k, or 0 if the episode terminated
    last_of_episode: np.ndarray  # [K] bool: opened at the last step of its episode


class _Window:
    __slots__ = ("action", "discount", "obs_slot", "reward")

    def __init__(self, obs_slot: int, action: int, reward: float = 0.0, discount: float = 1.0):
        self.obs_slot, self.action, self.reward, self.discount = obs_slot, action, reward, discount


class NStepWindows:
    """The open windows of `num_envs` envs, at most `n_step` each."""

    def __init__(self, num_envs: int, n_step: int, gamma: float):
        self.num_envs, self.n_step, self.gamma = num_envs, n_step, gamma
        self._open: list[list[_Window]] = [[] for _ in range(num_envs)]  # oldest first

    def push(
        self,
        obs_slot: list[int],
        action: list[int],
        reward: list[float],
        terminated: list[bool],
        ended: list[bool],
    ) -> ClosedWindows:
        """Advance every env by one step (one entry per env in each list; `ended`: terminated
        or truncated) and return the windows this step closed."""
        closed: list[tuple[int, int, int, float, float, bool]] = []
        steps = zip(obs_slot, action, reward, terminated, ended, strict=True)
        for env, (slot, act, rew, term, end) in enumerate(steps):
            windows = self._open[env]
            windows.append(_Window(slot, act))
            for window in windows:
                window.reward += window.discount * rew
                window.discount *= self.gamma
            if end:
                closing, self._open[env] = windows, []
            elif len(windows) == self.n_step:
                closing = [windows.pop(0)]
            else:
                continue
            newest = len(closing) - 1
            closed.extend(
                (env, w.obs_slot, w.action, w.reward, 0.0 if term else w.discount,
                 end and i == newest)
                for i, w in enumerate(closing)
            )  # fmt: skip
        columns = list(zip(*closed, strict=True)) or [()] * 6
        return ClosedWindows(
            env=np.array(columns[0], dtype=np.int64),
            obs_slot=np.array(columns[1], dtype=np.int64),
            action=np.array(columns[2], dtype=np.int64),
            reward=np.array(columns[3], dtype=np.float64),
            discount=np.array(columns[4], dtype=np.float64),
            last_of_episode=np.array(columns[5], dtype=bool),
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "open": [
                [(w.obs_slot, w.action, w.reward, w.discount) for w in windows]
                for windows in self._open
            ]
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["open"]) != self.num_envs:
            raise ValueError(
                f"state holds windows of {len(state['open'])} envs, not {self.num_envs}"
            )
        self._open = [[_Window(*fields) for fields in windows] for windows in state["open"]]
