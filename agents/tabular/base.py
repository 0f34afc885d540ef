"""Shared machinery of the tabular learners: the Q table, epsilon-greedy, the episode loop.

Subclasses implement `run_episode(env)`, which plays one episode while updating their tables,
adds the steps it took to `self.steps`, and returns an `EpisodeStats`. Schedules (epsilon,
alpha) are evaluated at the number of env steps the agent has learned from so far.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
from pydantic import Field

from agents.base import EnvFactory
from rlcourse.config import AgentConfig
from rlcourse.files import load_data, save_data
from rlcourse.runs import Run
from rlcourse.schedules import Probability, StepSize, schedule_of, schedule_value

Discount = Annotated[float, Field(ge=0.0, le=1.0)]


class TabularConfig(AgentConfig):
    """Hyper-parameters every tabular learner shares."""

    gamma: Discount = 1.0
    epsilon: schedule_of(Probability) = 0.1  # type: ignore[valid-type]
    initial_q: float = 0.0


class TDConfig(TabularConfig):
    alpha: schedule_of(StepSize) = 0.5  # type: ignore[valid-type]


class EpisodeStats(NamedTuple):
    episode_return: float
    length: int
    scalars: dict[str, float]


def discrete_size(space: gym.Space, what: str) -> int:
    if not isinstance(space, gym.spaces.Discrete):
        raise TypeError(
            f"tabular agents need a Discrete {what} space, got {space}; for gridworlds use "
            "env.kwargs.obs_type=index"
        )
    return int(space.n)


class TabularAgent:
    """A Q table over Discrete states and actions with epsilon-greedy behaviour."""

    Config: ClassVar[type[TabularConfig]] = TabularConfig

    def __init__(
        self,
        config: TabularConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        self.config = config
        self.n_states = discrete_size(observation_space, "observation")
        self.n_actions = discrete_size(action_space, "action")
        self.q = np.full((self.n_states, self.n_actions), float(config.initial_q))
        self.rng = np.random.default_rng(seed)
        self.steps = 0

    # ----------------------------------------------------------------- acting

    @property
    def epsilon(self) -> float:
        return schedule_value(self.config.epsilon, self.steps)

    def action_values(self, state: int) -> np.ndarray:
        """The values greedy and epsilon-greedy choices rank (Double Q sums its two tables)."""
        return self.q[state]

    def greedy(self, state: int, mask: np.ndarray | None = None, random_ties: bool = True) -> int:
        """An action of highest value; ties broken at random (or to the lowest index)."""
        values = self.action_values(state)
        if mask is not None:
            values = np.where(mask, values, -np.inf)
        best = np.flatnonzero(values == values.max())
        if not random_ties or len(best) == 1:
            return int(best[0])
        return int(self.rng.choice(best))

    def epsilon_greedy(self, state: int, info: Mapping[str, Any] | None = None) -> int:
        mask = _mask(info)
        if self.rng.random() < self.epsilon:
            allowed = np.flatnonzero(mask) if mask is not None else np.arange(self.n_actions)
            return int(self.rng.choice(allowed))
        return self.greedy(state, mask)

    def action_probabilities(self, state: int, info: Mapping[str, Any] | None = None) -> np.ndarray:
        """The epsilon-greedy policy's distribution over actions at `state` (ties share)."""
        mask = _mask(info)
        allowed = np.ones(self.n_actions, bool) if mask is None else np.asarray(mask, bool)
        values = np.where(allowed, self.action_values(state), -np.inf)
        best = values == values.max()
        eps = self.epsilon
        probs = allowed * (eps / allowed.sum())
        probs = probs + best * ((1.0 - eps) / best.sum())
        return probs

    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False
    ) -> int:
        state = int(obs)
        if deterministic:
            return self.greedy(state, _mask(info), random_ties=False)
        return self.epsilon_greedy(state, info)

    def value_table(self) -> tuple[np.ndarray, np.ndarray]:
        """State values max_a Q [S] and the greedy policy [S, A], for value/arrow pictures."""
        q = np.stack([self.action_values(s) for s in range(self.n_states)])
        policy = np.zeros_like(q)
        policy[np.arange(self.n_states), np.argmax(q, axis=1)] = 1.0
        return q.max(axis=1), policy

    # ----------------------------------------------------------------- learning

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        env = env_factory()
        run.begin(self, env)
        while not run.finished:
            stats = self.run_episode(env)
            run.end_episode(stats.episode_return, stats.length, **stats.scalars)
        run.checkpoint()
        env.close()

    def run_episode(self, env: gym.Env) -> EpisodeStats:
        raise NotImplementedError(f"{type(self).__name__} must implement run_episode")

    # ----------------------------------------------------------------- persistence

    def tables(self) -> dict[str, np.ndarray]:
        """The arrays `save` writes; subclasses with more tables extend this."""
        return {"q": self.q}

    def save(self, path: str | Path) -> None:
        """The tables, written atomically as data."""
        save_data(path, self.tables())

    def load(self, path: str | Path) -> None:
        """Read the tables of an agent file as data; ValueError naming the file and the table
        when one is missing or has another shape."""
        fill_tables(self.tables(), load_data(path), path)

    def state_dict(self) -> dict[str, Any]:
        return {
            "tables": {k: v.copy() for k, v in self.tables().items()},
            "rng": self.rng.bit_generator.state,
            "steps": self.steps,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for name, array in self.tables().items():
            array[...] = state["tables"][name]
        self.rng.bit_generator.state = state["rng"]
        self.steps = int(state["steps"])


def _mask(info: Mapping[str, Any] | None) -> np.ndarray | None:
    if info is None or "action_mask" not in info:
        return None
    return np.asarray(info["action_mask"], dtype=bool)


def fill_tables(tables: Mapping[str, np.ndarray], saved: Any, path: str | Path) -> None:
    """Copy the arrays of an agent file (`saved`, read from `path`) into `tables` in place;
    ValueError naming the file and the table when one is missing or has another shape."""
    for name, array in tables.items():
        found = saved.get(name) if isinstance(saved, Mapping) else None
        if not isinstance(found, np.ndarray):
            raise ValueError(f"{path}: no table {name!r} (is it this agent's file?)")
        if found.shape != array.shape:
            raise ValueError(
                f"{path}: table {name!r} has shape {found.shape}, this agent expects {array.shape}"
            )
        array[...] = found
