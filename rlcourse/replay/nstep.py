"""Per-env n-step windows: discounted reward sums that close after n steps or at an episode end.

Every step opens one window per env (at that step's observation and action), adds the step's
reward to every open window of the env, and closes the windows that have now seen n rewards.
When an env's episode ends (terminated or truncated), all of its open windows close at once,
shorter ones included. A window closed after k rewards carries

    reward   = sum_{j<k} gamma**j * r_{t+j}
    discount = 0 if the episode terminated within those k steps, else gamma**k

so that the target is reward + discount * V(observation k steps later): a truncated episode
still bootstraps from its final observation. With n = 1 each window is the one-step transition.

The bookkeeping runs in plain Python per env, on Python numbers: with the few envs of a vector
env, that costs less than the fixed overhead of NumPy calls on arrays of a few elements.
"""

from __future__ import annotations

from typing import Any

# A closed window: (env, obs_slot, action, reward, discount, last_of_episode), where obs_slot is
# the frame slot of the window's first observation, action the action taken there (a number, or
# a vector for a Box action space: windows carry it without looking inside), and
# last_of_episode tells whether it opened at the last step of its episode. A plain tuple, as
# one is built in most steps: a NamedTuple takes about ten times as long to build.
Action = Any  # int, or a numpy vector
ClosedWindow = tuple[int, int, Action, float, float, bool]

# An open window is a list [obs_slot, action, reward sum, discount], updated in place; the
# positions of the two fields that each step updates:
REWARD, DISCOUNT = 2, 3


class NStepWindows:
    """The open windows of `num_envs` envs, at most `n_step` each."""

    def __init__(self, num_envs: int, n_step: int, gamma: float):
        self.num_envs, self.n_step, self.gamma = num_envs, n_step, gamma
        # per env, oldest first: [obs_slot, action, reward sum so far, gamma**rewards seen]
        self._open: list[list[list[Any]]] = [[] for _ in range(num_envs)]

    def push(
        self,
        obs_slot: list[int],
        action: Any,  # indexable by env: a list of ints, or an array of action vectors
        reward: list[float],
        terminated: list[bool],
        ended: list[bool],
    ) -> list[ClosedWindow]:
        """Advance every env by one step (one entry per env in each list; `ended`: terminated
        or truncated) and return the windows this step closed, by env."""
        closed: list[ClosedWindow] = []
        for env in range(self.num_envs):
            closed += self.push_env(
                env, obs_slot[env], action[env], reward[env], terminated[env], ended[env]
            )
        return closed

    def push_env(
        self, env: int, obs_slot: int, action: Action, reward: float, terminated: bool, ended: bool
    ) -> list[ClosedWindow]:
        """Advance one env by one step and return the windows this closed, oldest first."""
        gamma = self.gamma
        # a new window's sum and discount after its first step, as the older windows add up
        # theirs: 0.0 + 1.0 * r (so -0.0 becomes 0.0) and 1.0 * gamma
        reward_sum = 0.0 + reward
        if self.n_step == 1:  # a window closes where it opens: none is kept
            return [(env, obs_slot, action, reward_sum, 0.0 if terminated else gamma, ended)]
        windows = self._open[env]
        for window in windows:
            window[REWARD] += window[DISCOUNT] * reward
            window[DISCOUNT] *= gamma
        windows.append([obs_slot, action, reward_sum, gamma])
        if ended:
            newest = len(windows) - 1
            closed = [
                (env, slot, act, rew_sum, 0.0 if terminated else discount, i == newest)
                for i, (slot, act, rew_sum, discount) in enumerate(windows)
            ]
            windows.clear()
            return closed
        if len(windows) == self.n_step:
            slot, act, rew_sum, discount = windows.pop(0)
            return [(env, slot, act, rew_sum, discount, False)]
        return []

    def state_dict(self) -> dict[str, Any]:
        return {"open": [[tuple(window) for window in windows] for windows in self._open]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["open"]) != self.num_envs:
            raise ValueError(
                f"state holds windows of {len(state['open'])} envs, not {self.num_envs}"
            )
        self._open = [[list(fields) for fields in windows] for windows in state["open"]]
