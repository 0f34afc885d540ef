"""Temporal-difference control (Sutton & Barto, chapters 6 and 7).

`sarsa`, `expected_sarsa`, `q_learning`, `double_q_learning` and `n_step_sarsa`, all acting
epsilon-greedily on their Q table(s), with epsilon and the step size alpha read from their
schedules at the agent's env-step count. Updates bootstrap through a truncated episode's last
state but never through a terminal one; `info["action_mask"]` restricts both the actions taken
and the actions a target looks at.

Each episode reports ``train/epsilon`` and ``train/alpha`` (at the episode's end) and
``train/mean_abs_td_error`` (over the episode's updates).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple

import gymnasium as gym
import numpy as np
from pydantic import Field, PositiveInt

from agents.tabular.base import EpisodeStats, TabularAgent, TDConfig, _mask
from agents.tabular.targets import (
    double_q_target,
    expected_sarsa_target,
    n_step_return,
    q_learning_target,
    td_target,
    td_update,
)
from rlcourse.schedules import schedule_value


class SarsaConfig(TDConfig):
    name: Literal["sarsa"] = "sarsa"


class ExpectedSarsaConfig(TDConfig):
    name: Literal["expected_sarsa"] = "expected_sarsa"


class QLearningConfig(TDConfig):
    name: Literal["q_learning"] = "q_learning"


class DoubleQLearningConfig(TDConfig):
    name: Literal["double_q_learning"] = "double_q_learning"


class NStepSarsaConfig(TDConfig):
    name: Literal["n_step_sarsa"] = "n_step_sarsa"
    n: PositiveInt = Field(4, description="steps of real reward before bootstrapping")


class TDAgent(TabularAgent):
    """Shared bookkeeping of the TD learners: the current step size and episode scalars."""

    Config: ClassVar[type[TDConfig]] = TDConfig
    config: TDConfig

    @property
    def alpha(self) -> float:
        return schedule_value(self.config.alpha, self.steps)

    def _stats(self, episode_return: float, length: int, errors: list[float]) -> EpisodeStats:
        return EpisodeStats(
            episode_return,
            length,
            {
                "train/epsilon": self.epsilon,
                "train/alpha": self.alpha,
                "train/mean_abs_td_error": float(np.mean(np.abs(errors))) if errors else 0.0,
            },
        )


class SarsaAgent(TDAgent):
    """On-policy TD control: ``Q(s,a) += alpha [r + gamma Q(s',a') - Q(s,a)]`` (S&B §6.4)."""

    Config = SarsaConfig

    def run_episode(self, env: gym.Env) -> EpisodeStats:
        obs, info = env.reset()
        state = int(obs)
        action = self.epsilon_greedy(state, info)
        total, length, errors = 0.0, 0, []
        while True:
            obs, reward, terminated, truncated, info = env.step(action)
            self.steps += 1
            total, length = total + float(reward), length + 1
            next_state = int(obs)
            # the next action is chosen before the update, as in S&B's box; after a time limit
            # it is never taken but still names the value bootstrapped from
            next_action = self.epsilon_greedy(next_state, info) if not terminated else 0
            target = td_target(
                float(reward), self.q[next_state, next_action], self.config.gamma, terminated
            )
            errors.append(td_update(self.q, state, action, target, self.alpha))
            if terminated or truncated:
                return self._stats(total, length, errors)
            state, action = next_state, next_action


class Transition(NamedTuple):
    """One env step as the TD learners see it; `info` is what `step` returned (at s')."""

    state: int
    action: int
    reward: float
    next_state: int
    terminated: bool
    info: Mapping[str, Any]


class _ActThenUpdate(TDAgent):
    """The loop of the learners whose target does not depend on the next action taken."""

    def target(self, t: Transition) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement target")

    def learn_step(self, t: Transition) -> float:
        """Update Q from one transition; return the TD error."""
        return td_update(self.q, t.state, t.action, self.target(t), self.alpha)

    def run_episode(self, env: gym.Env) -> EpisodeStats:
        obs, info = env.reset()
        state = int(obs)
        total, length, errors = 0.0, 0, []
        while True:
            action = self.epsilon_greedy(state, info)
            obs, reward, terminated, truncated, info = env.step(action)
            self.steps += 1
            total, length = total + float(reward), length + 1
            next_state = int(obs)
            step = Transition(state, action, float(reward), next_state, terminated, info)
            errors.append(self.learn_step(step))
            if terminated or truncated:
                return self._stats(total, length, errors)
            state = next_state


class QLearningAgent(_ActThenUpdate):
    """Off-policy TD control towards ``r + gamma max_a Q(s',a)`` (S&B §6.5)."""

    Config = QLearningConfig

    def target(self, t: Transition) -> float:
        return q_learning_target(
            t.reward, self.q[t.next_state], self.config.gamma, t.terminated, _mask(t.info)
        )


class ExpectedSarsaAgent(_ActThenUpdate):
    """TD control towards the expectation of Q(s', .) under the epsilon-greedy policy (§6.6)."""

    Config = ExpectedSarsaConfig

    def target(self, t: Transition) -> float:
        if t.terminated:
            return t.reward
        q_next, probs = self.q[t.next_state], self.action_probabilities(t.next_state, t.info)
        return expected_sarsa_target(t.reward, q_next, probs, self.config.gamma, terminated=False)


class DoubleQLearningAgent(_ActThenUpdate):
    """Two Q tables, each updated half of the time towards the other's value (S&B §6.7).

    Acts on their sum. `q1` and `q2` are the learned tables (what `tables()` saves); `q` holds
    their mean, kept in step, which ranks actions exactly as the sum does.
    """

    Config = DoubleQLearningConfig

    def __init__(
        self,
        config: DoubleQLearningConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        super().__init__(config, observation_space, action_space, seed)
        self.q1 = self.q.copy()
        self.q2 = self.q.copy()

    def learn_step(self, t: Transition) -> float:
        # a fair coin picks the table to update; it selects the next action, the other values it
        learn, other = (self.q1, self.q2) if self.rng.random() < 0.5 else (self.q2, self.q1)
        target = double_q_target(
            t.reward,
            learn[t.next_state],
            other[t.next_state],
            self.config.gamma,
            t.terminated,
            _mask(t.info),
        )
        error = td_update(learn, t.state, t.action, target, self.alpha)
        self.q[t.state, t.action] = 0.5 * (self.q1[t.state, t.action] + self.q2[t.state, t.action])
        return error

    def tables(self) -> dict[str, np.ndarray]:
        return {"q1": self.q1, "q2": self.q2}

    def load(self, path: str | Path) -> None:
        super().load(path)
        self.q[...] = 0.5 * (self.q1 + self.q2)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self.q[...] = 0.5 * (self.q1 + self.q2)


class NStepSarsaAgent(TDAgent):
    """n-step SARSA (S&B §7.2): the target sums n real rewards, then bootstraps from Q.

    ``G = R_{tau+1} + ... + gamma^{n-1} R_{tau+n} + gamma^n Q(S_{tau+n}, A_{tau+n})``; windows
    that reach the end of the episode stop at the last reward and bootstrap only if the
    episode was truncated rather than terminated.
    """

    Config = NStepSarsaConfig
    config: NStepSarsaConfig

    def run_episode(self, env: gym.Env) -> EpisodeStats:
        n = self.config.n
        obs, info = env.reset()
        state = int(obs)
        action = self.epsilon_greedy(state, info)
        # the last n (S_tau, A_tau) pairs still waiting for their update, and their rewards
        pending: deque[tuple[int, int]] = deque()
        rewards: deque[float] = deque()
        total, length, errors = 0.0, 0, []
        while True:
            obs, reward, terminated, truncated, info = env.step(action)
            self.steps += 1
            total, length = total + float(reward), length + 1
            pending.append((state, action))
            rewards.append(float(reward))
            state = int(obs)
            action = self.epsilon_greedy(state, info) if not terminated else 0
            if len(pending) == n:  # tau = t - n + 1 has its full window
                errors.append(self._update_oldest(pending, rewards, state, action, terminated))
            if terminated or truncated:
                # the windows cut by the episode's end, oldest first
                while pending:
                    errors.append(self._update_oldest(pending, rewards, state, action, terminated))
                return self._stats(total, length, errors)

    def _update_oldest(
        self,
        pending: deque[tuple[int, int]],
        rewards: deque[float],
        state: int,
        action: int,
        terminated: bool,
    ) -> float:
        """Update the oldest waiting pair with the rewards after it and Q(state, action)."""
        s, a = pending.popleft()
        bootstrap = 0.0 if terminated else float(self.q[state, action])
        target = n_step_return(rewards, bootstrap, self.config.gamma)
        rewards.popleft()
        return td_update(self.q, s, a, target, self.alpha)
