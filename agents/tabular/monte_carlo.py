"""Monte Carlo control (Sutton & Barto, chapter 5): learn Q from the returns of whole episodes.

- `mc_exploring_starts` (§5.3): every episode starts from a state drawn uniformly among the
  env's non-terminal states (``env.reset(options={"state": s})``) with a uniformly random first
  action, then follows the greedy policy (``epsilon`` defaults to 0 here).
- `mc_on_policy` (§5.4): follows and improves an epsilon-greedy (epsilon-soft) policy.
- `mc_off_policy` (§5.7): learns the greedy policy from episodes of an epsilon-greedy behaviour
  policy, with weighted importance sampling (cumulative weights C).

Q is updated when an episode ends. Returns of a truncated episode (a time limit, or the agent's
own `max_episode_steps`) start from the value of the state it stopped in; a terminated
episode's return starts from zero. Each episode reports ``train/epsilon``,
``train/mean_abs_return_error`` (mean |G - Q| over the updates), ``train/alpha`` when a step
size is set, and for `mc_off_policy` ``train/importance_weight`` and ``train/updated_fraction``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, NamedTuple

import gymnasium as gym
import numpy as np
from pydantic import Field, PositiveInt

from agents.tabular.base import EpisodeStats, TabularAgent, TabularConfig, _mask
from agents.tabular.targets import (
    Visit,
    mc_samples,
    mc_update,
    weighted_importance_sampling_update,
)
from rlcourse.mdp import TabularMDP
from rlcourse.schedules import Probability, StepSize, schedule_of, schedule_value


class MonteCarloConfig(TabularConfig):
    visit: Visit = Field("first", description="first-visit or every-visit returns")
    max_episode_steps: PositiveInt | None = Field(
        None,
        description="cut longer episodes (as truncated); a greedy policy can circle forever "
        "on an env without a time limit",
    )


class AveragingConfig(MonteCarloConfig):
    alpha: schedule_of(StepSize) | None = Field(  # type: ignore[valid-type]
        None, description="constant (or scheduled) step size; unset: the sample average 1/N"
    )


class MCExploringStartsConfig(AveragingConfig):
    name: Literal["mc_exploring_starts"] = "mc_exploring_starts"
    epsilon: schedule_of(Probability) = Field(  # type: ignore[valid-type]
        0.0, description="exploration after the random first step; 0 is S&B's greedy policy"
    )


class MCOnPolicyConfig(AveragingConfig):
    name: Literal["mc_on_policy"] = "mc_on_policy"


class MCOffPolicyConfig(MonteCarloConfig):
    name: Literal["mc_off_policy"] = "mc_off_policy"
    visit: Visit = Field("every", description="every-visit, as in S&B's box")


class Trajectory(NamedTuple):
    """One played episode. `bootstrap` is G_T; `behaviour_probs[t]` is b(A_t|S_t) for the
    agents that record it (nan otherwise); `masks[t]` the action mask at S_t, if any."""

    states: list[int]
    actions: list[int]
    rewards: list[float]
    behaviour_probs: list[float]
    masks: list[np.ndarray | None]
    bootstrap: float


class MonteCarloAgent(TabularAgent):
    """Plays an episode with its behaviour policy, then learns from the recorded trajectory."""

    Config: ClassVar[type[MonteCarloConfig]] = MonteCarloConfig
    config: MonteCarloConfig
    records_behaviour_probs: ClassVar[bool] = False

    def __init__(
        self,
        config: MonteCarloConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        super().__init__(config, observation_space, action_space, seed)
        # N(s, a) for the sample average; the cumulative weights C(s, a) for mc_off_policy
        self.counts = np.zeros_like(self.q)

    def tables(self) -> dict[str, np.ndarray]:
        return {"q": self.q, "counts": self.counts}

    # ----------------------------------------------------------------- playing

    def start(self, env: gym.Env) -> tuple[Any, dict[str, Any], int | None]:
        """Reset the env; return the observation, info and a forced first action (or None)."""
        obs, info = env.reset()
        return obs, info, None

    def bootstrap_value(self, state: int, info: Mapping[str, Any]) -> float:
        """The value of the state a truncated episode stopped in, under the learned policy."""
        probs = self.action_probabilities(state, info)
        used = probs > 0
        return float(np.dot(probs[used], self.q[state][used]))

    def play(self, env: gym.Env) -> Trajectory:
        obs, info, forced = self.start(env)
        states: list[int] = []
        actions: list[int] = []
        rewards: list[float] = []
        probs: list[float] = []
        masks: list[np.ndarray | None] = []
        cap = self.config.max_episode_steps
        while True:
            state = int(obs)
            if forced is not None:
                action, forced = forced, None
            else:
                action = self.epsilon_greedy(state, info)
            probs.append(
                float(self.action_probabilities(state, info)[action])
                if self.records_behaviour_probs
                else float("nan")
            )
            masks.append(_mask(info))
            obs, reward, terminated, truncated, info = env.step(action)
            self.steps += 1
            states.append(state)
            actions.append(action)
            rewards.append(float(reward))
            if terminated:
                return Trajectory(states, actions, rewards, probs, masks, 0.0)
            if truncated or (cap is not None and len(states) >= cap):
                bootstrap = self.bootstrap_value(int(obs), info)
                return Trajectory(states, actions, rewards, probs, masks, bootstrap)

    # ----------------------------------------------------------------- learning

    def run_episode(self, env: gym.Env) -> EpisodeStats:
        episode = self.play(env)
        scalars = {"train/epsilon": self.epsilon, **self.update(episode)}
        return EpisodeStats(float(sum(episode.rewards)), len(episode.states), scalars)

    def update(self, episode: Trajectory) -> dict[str, float]:
        """Learn from one finished episode; return the scalars to log."""
        raise NotImplementedError(f"{type(self).__name__} must implement update")


class ReturnAveragingAgent(MonteCarloAgent):
    """Moves Q(s, a) towards the (first- or every-visit) returns: by 1/N or by alpha."""

    config: AveragingConfig

    def update(self, episode: Trajectory) -> dict[str, float]:
        config = self.config
        samples = mc_samples(
            episode.states,
            episode.actions,
            episode.rewards,
            config.gamma,
            config.visit,
            episode.bootstrap,
        )
        alpha = None if config.alpha is None else schedule_value(config.alpha, self.steps)
        error = mc_update(self.q, self.counts, samples, alpha)
        scalars = {"train/mean_abs_return_error": error}
        if alpha is not None:
            scalars["train/alpha"] = alpha
        return scalars


class MCExploringStartsAgent(ReturnAveragingAgent):
    """Monte Carlo ES: random start state and first action, greedy afterwards (S&B §5.3)."""

    Config = MCExploringStartsConfig

    def __init__(
        self,
        config: MCExploringStartsConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        super().__init__(config, observation_space, action_space, seed)
        self._starts: np.ndarray | None = None
        self._starts_env: gym.Env | None = None

    def start_states(self, env: gym.Env) -> np.ndarray:
        """The states an episode may start from: those the env lists in its
        `exploring_starts` attribute (Blackjack's decision states), else the non-terminal
        states of the env's model, or every state when the env has neither."""
        if self._starts is None or self._starts_env is not env:
            starts = np.arange(self.n_states)
            listed = getattr(env.unwrapped, "exploring_starts", None)
            if listed is not None:
                starts = np.asarray(listed, dtype=np.int64)
            elif hasattr(env.unwrapped, "P"):
                starts = np.flatnonzero(~TabularMDP.from_env(env).terminal)
            if starts.size == 0:
                raise ValueError(f"{_env_name(env)} has no non-terminal state to start from")
            self._starts, self._starts_env = starts, env
        return self._starts

    def start(self, env: gym.Env) -> tuple[Any, dict[str, Any], int | None]:
        state = int(self.rng.choice(self.start_states(env)))
        try:
            obs, info = env.reset(options={"state": state})
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(_no_exploring_starts(env, state, f"reset raised {exc!r}")) from exc
        if int(obs) != state:
            raise ValueError(
                _no_exploring_starts(
                    env, state, f"reset(options={{'state': {state}}}) started in state {int(obs)}"
                )
            )
        mask = _mask(info)
        allowed = np.flatnonzero(mask) if mask is not None else np.arange(self.n_actions)
        return obs, info, int(self.rng.choice(allowed))


class MCOnPolicyAgent(ReturnAveragingAgent):
    """On-policy Monte Carlo control of an epsilon-greedy policy (S&B §5.4)."""

    Config = MCOnPolicyConfig


class MCOffPolicyAgent(MonteCarloAgent):
    """Off-policy Monte Carlo control with weighted importance sampling (S&B §5.7).

    The target policy is greedy in Q (ties to the lowest index, the action `act` takes when
    deterministic); the behaviour policy is epsilon-greedy in Q. `counts` holds the cumulative
    importance weights C(s, a).
    """

    Config = MCOffPolicyConfig
    records_behaviour_probs = True

    def bootstrap_value(self, state: int, info: Mapping[str, Any]) -> float:
        return float(self.q[state, self.greedy(state, _mask(info), random_ties=False)])

    def update(self, episode: Trajectory) -> dict[str, float]:
        result = weighted_importance_sampling_update(
            self.q,
            self.counts,
            episode.states,
            episode.actions,
            episode.rewards,
            episode.behaviour_probs,
            self.config.gamma,
            episode.bootstrap,
            self.config.visit,
            episode.masks,
        )
        return {
            "train/mean_abs_return_error": result.mean_abs_error,
            "train/importance_weight": result.weight,
            "train/updated_fraction": result.updates / len(episode.states),
        }


def _env_name(env: gym.Env) -> str:
    return env.spec.id if env.spec is not None else type(env.unwrapped).__name__


def _no_exploring_starts(env: gym.Env, state: int, what: str) -> str:
    return (
        f"mc_exploring_starts needs an env that can start an episode in any state through "
        f"reset(options={{'state': s}}), but {_env_name(env)} cannot: {what}. Use an "
        "rlcourse gridworld, or mc_on_policy / mc_off_policy, which need no chosen starts."
    )
