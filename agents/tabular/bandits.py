"""Multi-armed bandit methods (Sutton & Barto, chapter 2), batched over independent tasks.

Every agent keeps its estimates for `tasks` bandit problems at once (arrays [tasks, arms]):
one task behind the Gymnasium API when trained from a config, 2,000 at once when a figure
averages over the testbed. The rules are the pure functions below; the classes only hold the
arrays and call them.

- `bandit_epsilon_greedy`: action values by sample average (``alpha`` unset) or a constant
  step size, epsilon-greedy choice; ``initial_q`` > 0 with ``epsilon = 0`` is the optimistic
  greedy method of §2.6.
- `bandit_ucb`: upper-confidence-bound choice (§2.7, eq. 2.10) on the same estimates.
- `bandit_gradient`: soft-max preferences moved by the gradient-bandit rule (§2.8, eq. 2.12),
  with or without the average-reward baseline.

Every episode of the env is a new task, so the agents start every episode from their initial
estimates and learn within it; each episode logs ``train/optimal_fraction``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple, Protocol

import gymnasium as gym
import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveFloat

from agents.base import EnvFactory
from agents.tabular.base import discrete_size, fill_tables
from rlcourse.config import AgentConfig
from rlcourse.files import load_data, save_data
from rlcourse.runs import Run
from rlcourse.schedules import Probability, StepSize

# ----------------------------------------------------------------------------- the rules


def greedy_choice(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """[tasks] an arm of highest value in each row of `values` [tasks, arms], ties at random."""
    best = values == values.max(axis=1, keepdims=True)
    # a uniform draw among the tied arms: the largest random key among them
    keys = np.where(best, rng.random(values.shape), -1.0)
    return keys.argmax(axis=1)


def epsilon_greedy_choice(
    values: np.ndarray, epsilon: float, rng: np.random.Generator
) -> np.ndarray:
    """[tasks] greedy arms, each replaced with probability `epsilon` by a uniform one."""
    actions = greedy_choice(values, rng)
    explore = rng.random(len(actions)) < epsilon
    actions[explore] = rng.integers(0, values.shape[1], int(explore.sum()))
    return actions


def ucb_scores(q: np.ndarray, counts: np.ndarray, t: int, c: float) -> np.ndarray:
    """``Q(a) + c sqrt(ln t / N(a))`` [tasks, arms] at time step t >= 1; +inf where N(a) = 0,
    so every arm is tried once first (eq. 2.10)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        bonus = c * np.sqrt(np.log(t) / counts)
    return np.where(counts > 0, q + bonus, np.inf)


def softmax(preferences: np.ndarray) -> np.ndarray:
    """pi(a) = exp(H(a)) / sum_b exp(H(b)) per row of [tasks, arms] (eq. 2.11)."""
    z = np.exp(preferences - preferences.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def value_update(
    q: np.ndarray,
    counts: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
    alpha: float | None = None,
) -> None:
    """``Q(A) += step (R - Q(A))`` in each task, in place; step 1/N(A) (the sample average,
    eq. 2.3) unless a constant `alpha` is given. `counts` N is incremented either way."""
    rows = np.arange(len(actions))
    counts[rows, actions] += 1
    step = 1.0 / counts[rows, actions] if alpha is None else alpha
    q[rows, actions] += step * (rewards - q[rows, actions])


def gradient_update(
    preferences: np.ndarray,
    probs: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
    baseline: np.ndarray,
    alpha: float,
) -> None:
    """Gradient-bandit step, in place (eq. 2.12): ``H(a) += alpha (R - baseline)(1[a = A] -
    pi(a))`` for every arm a of each task; `probs` is pi [tasks, arms] before the step."""
    rows = np.arange(len(actions))
    chosen = np.zeros_like(probs)
    chosen[rows, actions] = 1.0
    preferences += alpha * (rewards - baseline)[:, None] * (chosen - probs)


# ----------------------------------------------------------------------------- configs


class EpsilonGreedyBanditConfig(AgentConfig):
    name: Literal["bandit_epsilon_greedy"] = "bandit_epsilon_greedy"
    epsilon: Probability = 0.1
    alpha: StepSize | None = Field(None, description="constant step size; unset: 1/N")
    initial_q: float = Field(0.0, description="initial estimates; 5 is optimistic (§2.6)")


class UCBBanditConfig(AgentConfig):
    name: Literal["bandit_ucb"] = "bandit_ucb"
    c: NonNegativeFloat = Field(2.0, description="weight of the exploration bonus")
    alpha: StepSize | None = Field(None, description="constant step size; unset: 1/N")
    initial_q: float = 0.0


class GradientBanditConfig(AgentConfig):
    name: Literal["bandit_gradient"] = "bandit_gradient"
    alpha: PositiveFloat = Field(0.1, description="step size of the preferences")
    baseline: bool = Field(True, description="subtract the average reward so far")


# ----------------------------------------------------------------------------- agents


class BanditCurves(NamedTuple):
    """Per-step means over tasks [steps]: the reward and the fraction of optimal pulls."""

    reward: np.ndarray
    optimal: np.ndarray


class BanditAgent:
    """Estimates for `tasks` bandit problems; `choose` picks an arm in each, `observe` learns."""

    Config: ClassVar[type[AgentConfig]] = AgentConfig

    def __init__(
        self,
        config: Any,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
        tasks: int = 1,
    ):
        self.config = config
        self.arms = discrete_size(action_space, "action")
        discrete_size(observation_space, "observation")
        self.tasks = tasks
        self.rng = np.random.default_rng(seed)
        self.t = 0  # pulls made in each task since the last reset_estimates
        self.reset_estimates()

    def reset_estimates(self) -> None:
        """Start a new task: every estimate back to its initial value."""
        self.t = 0

    def values(self) -> np.ndarray:
        """What the agent ranks arms by [tasks, arms] (estimates or preferences)."""
        raise NotImplementedError

    def choose(self) -> np.ndarray:
        """[tasks] the arm to pull next in each task."""
        raise NotImplementedError

    def observe(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        """Learn from the rewards [tasks] of pulling `actions` [tasks]."""
        raise NotImplementedError

    # ----------------------------------------------------------------- the agent contract

    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False
    ) -> int:
        if deterministic:
            return int(np.argmax(self.values()[0]))
        return int(self.choose()[0])

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        if self.tasks != 1:
            raise ValueError(f"an agent learns from one env, not {self.tasks} tasks at once")
        env = env_factory()
        run.begin(self, env)
        while not run.finished:
            env.reset()
            self.reset_estimates()
            total, optimal, length = 0.0, 0.0, 0
            while True:
                action = self.choose()
                _, reward, terminated, truncated, info = env.step(int(action[0]))
                self.observe(action, np.array([float(reward)]))
                total, optimal = total + float(reward), optimal + info["optimal"]
                length += 1
                if terminated or truncated:
                    break
            run.end_episode(total, length, **{"train/optimal_fraction": optimal / length})
        run.checkpoint()
        env.close()

    def tables(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def save(self, path: str | Path) -> None:
        """The estimates, written atomically as data."""
        save_data(path, {**self.tables(), "t": np.array(self.t)})

    def load(self, path: str | Path) -> None:
        """Read an agent file as data; ValueError naming it when a table is missing or has
        another shape."""
        saved = load_data(path)
        fill_tables(self.tables(), saved, path)
        self.t = int(saved["t"])

    def state_dict(self) -> dict[str, Any]:
        return {
            "tables": {k: v.copy() for k, v in self.tables().items()},
            "rng": self.rng.bit_generator.state,
            "t": self.t,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for name, array in self.tables().items():
            array[...] = state["tables"][name]
        self.rng.bit_generator.state = state["rng"]
        self.t = int(state["t"])


class _ValueEstimating(BanditAgent):
    """Action-value estimates Q and pull counts N, moved by `value_update`."""

    config: EpsilonGreedyBanditConfig | UCBBanditConfig

    def reset_estimates(self) -> None:
        super().reset_estimates()
        self.q = np.full((self.tasks, self.arms), float(self.config.initial_q))
        self.counts = np.zeros((self.tasks, self.arms))

    def values(self) -> np.ndarray:
        return self.q

    def observe(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        self.t += 1
        value_update(self.q, self.counts, actions, rewards, self.config.alpha)

    def tables(self) -> dict[str, np.ndarray]:
        return {"q": self.q, "counts": self.counts}


class EpsilonGreedyBanditAgent(_ValueEstimating):
    """Epsilon-greedy on sample-average or constant-step estimates (§2.2-2.6)."""

    Config = EpsilonGreedyBanditConfig
    config: EpsilonGreedyBanditConfig

    def choose(self) -> np.ndarray:
        return epsilon_greedy_choice(self.q, self.config.epsilon, self.rng)


class UCBBanditAgent(_ValueEstimating):
    """Upper-confidence-bound action selection (§2.7)."""

    Config = UCBBanditConfig
    config: UCBBanditConfig

    def choose(self) -> np.ndarray:
        return greedy_choice(ucb_scores(self.q, self.counts, self.t + 1, self.config.c), self.rng)


class GradientBanditAgent(BanditAgent):
    """Soft-max over preferences H learned by stochastic gradient ascent (§2.8).

    The baseline is the average of the rewards before the current one (the first reward is
    its own baseline), or 0 without one.
    """

    Config = GradientBanditConfig
    config: GradientBanditConfig

    def reset_estimates(self) -> None:
        super().reset_estimates()
        self.preferences = np.zeros((self.tasks, self.arms))
        self.average_reward = np.zeros(self.tasks)

    def values(self) -> np.ndarray:
        return self.preferences

    def choose(self) -> np.ndarray:
        cumulative = softmax(self.preferences).cumsum(axis=1)
        draws = self.rng.random((self.tasks, 1))
        return np.minimum((cumulative < draws).sum(axis=1), self.arms - 1)

    def observe(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        probs = softmax(self.preferences)
        if not self.config.baseline:
            baseline = np.zeros(self.tasks)
        elif self.t == 0:
            baseline = rewards
        else:
            baseline = self.average_reward
        gradient_update(self.preferences, probs, actions, rewards, baseline, self.config.alpha)
        self.t += 1
        self.average_reward += (rewards - self.average_reward) / self.t

    def tables(self) -> dict[str, np.ndarray]:
        return {"preferences": self.preferences, "average_reward": self.average_reward}


class Pullable(Protocol):
    """What `average_over_tasks` pulls arms in: ``envs.bandit.KArmedTestbed`` or anything alike."""

    def pull(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def average_over_tasks(agent: BanditAgent, testbed: Pullable, steps: int) -> BanditCurves:
    """Let `agent` learn all its tasks at once for `steps` pulls; the mean over tasks of the
    reward and of the optimal-arm indicator at every step (the y axes of Figures 2.2-2.5)."""
    agent.reset_estimates()
    rewards, optimal = np.zeros(steps), np.zeros(steps)
    for t in range(steps):
        actions = agent.choose()
        r, best = testbed.pull(actions)
        agent.observe(actions, r)
        rewards[t], optimal[t] = r.mean(), best.mean()
    return BanditCurves(rewards, optimal)
