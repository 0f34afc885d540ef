"""Prediction (Sutton & Barto, chapters 6 and 7): the state values of a fixed policy.

- `td_prediction`: n-step TD (§7.1); ``n = 1`` is TD(0) (§6.1).
- `mc_prediction`: Monte Carlo prediction towards the observed returns, with a constant step
  size (constant-alpha MC, eq. 6.1) or the sample average (§5.1).
- `batch_values`: batch updating (§6.3), every recorded episode presented again and again.

The policy evaluated is the uniformly random one over the allowed actions (the only policy of
a Markov reward process such as the random walk, whose one action is 0). Because it never
looks at the values, applying an episode's updates when it ends, in the order the online
algorithm would make them, gives exactly the online algorithm's values; so the update rules
below take a whole recorded episode, and the value arrays may carry leading axes (one table
per step size, as the parameter studies use).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple

import gymnasium as gym
import numpy as np
from pydantic import Field, PositiveInt

from agents.tabular.base import Discount, EpisodeStats, TabularAgent, _mask, discrete_size
from agents.tabular.targets import Visit, episode_returns, mc_samples
from rlcourse.config import AgentConfig
from rlcourse.schedules import StepSize, schedule_of, schedule_value

Alpha = float | np.ndarray  # a step size, or one per leading axis of the value tables


# ----------------------------------------------------------------------------- the rules


def n_step_td_episode(
    values: np.ndarray,
    states: Sequence[int],
    rewards: Sequence[float],
    n: int,
    alpha: Alpha,
    gamma: float = 1.0,
    terminated: bool = True,
) -> None:
    """n-step TD over one episode, in place (S&B §7.1, eq. 7.2).

    `states` are S_0..S_T (the last one where the episode stopped), `rewards` R_1..R_T,
    `values` [..., S]. The target of S_tau sums the rewards up to R_min(tau+n, T) and
    bootstraps from V(S_tau+n) unless the window reaches a terminal S_T.
    """
    T = len(rewards)
    to_end = np.append(episode_returns(list(rewards), gamma), 0.0)  # G_t of the rewards after t
    for tau in range(T):
        end = min(tau + n, T)
        reach = gamma ** (end - tau)
        target = to_end[tau] - reach * to_end[end]
        if end < T or not terminated:
            target = target + reach * values[..., states[end]]
        s = states[tau]
        values[..., s] += alpha * (target - values[..., s])


def mc_prediction_episode(
    values: np.ndarray,
    counts: np.ndarray,
    states: Sequence[int],
    rewards: Sequence[float],
    alpha: Alpha | None,
    gamma: float = 1.0,
    visit: Visit = "every",
    bootstrap: float = 0.0,
) -> None:
    """Move V(S_t) towards the return G_t, in place: by `alpha` (eq. 6.1) or, with
    ``alpha=None``, by 1/N(S_t) (the sample average; `counts` [S] holds N)."""
    steps = list(states[: len(rewards)])
    for sample in mc_samples(steps, [0] * len(steps), rewards, gamma, visit, bootstrap):
        s = sample.state
        counts[s] += 1
        step = 1.0 / counts[s] if alpha is None else alpha
        values[..., s] += step * (sample.value - values[..., s])


class Episode(NamedTuple):
    """A recorded episode for batch updating: S_0..S_T [T+1] and R_1..R_T [T]."""

    states: np.ndarray
    rewards: np.ndarray


def batch_values(
    values: np.ndarray,
    episodes: Sequence[Episode],
    method: Literal["td", "mc"],
    alpha: float = 0.001,
    gamma: float = 1.0,
    tolerance: float = 1e-3,
    max_sweeps: int = 100_000,
) -> np.ndarray:
    """Batch updating (§6.3): sweep all `episodes` again and again, adding up the TD(0) (or
    constant-alpha MC) increments of a sweep and applying them together, until a sweep's
    increments sum to less than `tolerance` in absolute value. Terminal states keep their
    value (0). Returns the values [S] they converge to."""
    s = np.concatenate([e.states[:-1] for e in episodes])
    if method == "td":
        nxt = np.concatenate([e.states[1:] for e in episodes])
        r = np.concatenate([e.rewards for e in episodes])
        last = np.concatenate([np.arange(len(e.rewards)) == len(e.rewards) - 1 for e in episodes])
    elif method == "mc":
        g = np.concatenate([episode_returns(list(e.rewards), gamma) for e in episodes])
    else:
        raise ValueError(f"method must be 'td' or 'mc', got {method!r}")
    v = np.array(values, dtype=np.float64)
    for _ in range(max_sweeps):
        target = r + gamma * np.where(last, 0.0, v[nxt]) if method == "td" else g
        increments = np.bincount(s, weights=alpha * (target - v[s]), minlength=v.size)
        v += increments
        if np.abs(increments).sum() < tolerance:
            return v
    raise RuntimeError(f"batch {method} did not converge within {max_sweeps} sweeps")


# ----------------------------------------------------------------------------- agents


class PredictionConfig(AgentConfig):
    gamma: Discount = 1.0
    alpha: schedule_of(StepSize) = 0.1  # type: ignore[valid-type]
    initial_value: float = Field(0.0, description="V of every state before learning")


class TDPredictionConfig(PredictionConfig):
    name: Literal["td_prediction"] = "td_prediction"
    n: PositiveInt = Field(1, description="rewards before bootstrapping; 1 is TD(0)")


class MCPredictionConfig(PredictionConfig):
    name: Literal["mc_prediction"] = "mc_prediction"
    alpha: schedule_of(StepSize) | None = Field(  # type: ignore[valid-type]
        0.1, description="constant step size; null: the sample average 1/N"
    )
    visit: Visit = "every"


class PredictionAgent(TabularAgent):
    """State values V [S] of the uniformly random policy, learned from whole episodes."""

    Config = PredictionConfig  # type: ignore[assignment]
    config: Any

    def __init__(
        self,
        config: PredictionConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        # not TabularAgent.__init__: a prediction agent keeps V, not an epsilon-greedy Q
        self.config = config
        self.n_states = discrete_size(observation_space, "observation")
        self.n_actions = discrete_size(action_space, "action")
        self.v = np.full(self.n_states, float(config.initial_value))
        self.counts = np.zeros(self.n_states)
        self.rng = np.random.default_rng(seed)
        self.steps = 0

    @property
    def alpha(self) -> float | None:
        spec = self.config.alpha
        return None if spec is None else schedule_value(spec, self.steps)

    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False
    ) -> int:
        mask = _mask(info)
        allowed = np.flatnonzero(mask) if mask is not None else np.arange(self.n_actions)
        return int(allowed[0] if deterministic else self.rng.choice(allowed))

    def run_episode(self, env: gym.Env) -> EpisodeStats:
        obs, info = env.reset()
        states, rewards = [int(obs)], []
        while True:
            obs, reward, terminated, truncated, info = env.step(self.act(obs, info))
            states.append(int(obs))
            rewards.append(float(reward))
            if terminated or truncated:
                break
        alpha = self.alpha
        self.learn_episode(states, rewards, terminated)
        self.steps += len(rewards)
        scalars = {} if alpha is None else {"train/alpha": alpha}
        return EpisodeStats(float(sum(rewards)), len(rewards), scalars)

    def learn_episode(self, states: list[int], rewards: list[float], terminated: bool) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement learn_episode")

    def value_table(self) -> tuple[np.ndarray, np.ndarray]:
        """V [S] and the evaluated (uniform) policy [S, A]."""
        return self.v.copy(), np.full((self.n_states, self.n_actions), 1.0 / self.n_actions)

    def tables(self) -> dict[str, np.ndarray]:
        return {"v": self.v, "counts": self.counts}


class TDPredictionAgent(PredictionAgent):
    """n-step TD prediction; TD(0) with ``n = 1``."""

    Config = TDPredictionConfig  # type: ignore[assignment]

    def learn_episode(self, states: list[int], rewards: list[float], terminated: bool) -> None:
        n, gamma, alpha = self.config.n, self.config.gamma, self.alpha
        assert alpha is not None, "td_prediction's alpha is required by its config"
        n_step_td_episode(self.v, states, rewards, n, alpha, gamma, terminated)


class MCPredictionAgent(PredictionAgent):
    """Monte Carlo prediction, constant-alpha or sample average."""

    Config = MCPredictionConfig  # type: ignore[assignment]

    def learn_episode(self, states: list[int], rewards: list[float], terminated: bool) -> None:
        bootstrap = 0.0 if terminated else float(self.v[states[-1]])
        mc_prediction_episode(
            self.v,
            self.counts,
            states,
            rewards,
            self.alpha,
            self.config.gamma,
            self.config.visit,
            bootstrap,
        )


# ----------------------------------------------------------------------------- off-policy


def importance_ratio(target_probs: Sequence[float], behaviour_probs: Sequence[float]) -> float:
    """rho = prod_t pi(A_t|S_t) / b(A_t|S_t) over an episode's steps (S&B eq. 5.3)."""
    return float(np.prod(np.asarray(target_probs, float) / np.asarray(behaviour_probs, float)))


def importance_sampling_estimates(
    ratios: np.ndarray, returns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The ordinary and the weighted importance-sampling estimates of a state's value after each
    of n episodes from it [n] (S&B eqs. 5.5 and 5.6): ``sum rho G / k`` and
    ``sum rho G / sum rho`` over the first k episodes (0 while every rho is 0)."""
    scaled = np.cumsum(np.asarray(ratios, float) * np.asarray(returns, float))
    total = np.cumsum(ratios, dtype=float)
    ordinary = scaled / np.arange(1, len(scaled) + 1)
    weighted = np.divide(scaled, total, out=np.zeros_like(scaled), where=total > 0)
    return ordinary, weighted
