"""Planning agents: solve the env's explicit model, then act greedily on the result.

`learn` builds a `TabularMDP` from the env (any env with a Gymnasium `P` dict) and runs value
or policy iteration; no episodes are played, so the run's step count stays at zero.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
from pydantic import Field

from agents.base import EnvFactory
from agents.tabular.base import Discount, discrete_size, fill_tables
from agents.tabular.planning import Solution, policy_iteration, value_iteration
from rlcourse.config import AgentConfig
from rlcourse.files import load_data, save_data
from rlcourse.mdp import TabularMDP
from rlcourse.runs import Run

Tolerance = Annotated[float, Field(gt=0.0, le=1.0)]


class PlannerConfig(AgentConfig):
    gamma: Discount = 1.0
    theta: Tolerance = Field(
        1e-8,
        description="value iteration: stop when no value changes by more than this; policy "
        "iteration (exact evaluation): actions within 10 x this of the best count as greedy",
    )


class ValueIterationConfig(PlannerConfig):
    name: Literal["value_iteration"] = "value_iteration"


class PolicyIterationConfig(PlannerConfig):
    name: Literal["policy_iteration"] = "policy_iteration"


class PlanningAgent:
    """Acts greedily with respect to the values a dynamic-programming planner computed."""

    Config: ClassVar[type[PlannerConfig]] = PlannerConfig

    def __init__(
        self,
        config: PlannerConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        self.config = config
        n_states = discrete_size(observation_space, "observation")
        n_actions = discrete_size(action_space, "action")
        self.values = np.zeros(n_states)
        self.policy = np.full((n_states, n_actions), 1.0 / n_actions)
        self.rng = np.random.default_rng(seed)

    def plan(self, mdp: Any) -> Solution:
        raise NotImplementedError

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        env = env_factory()
        run.begin(self, env)
        started = time.perf_counter()
        solution = self.plan(TabularMDP.from_env(env))
        self.values[:], self.policy[:] = solution.values, solution.policy
        run.log(
            {
                "plan/iterations": solution.iterations,
                "plan/seconds": time.perf_counter() - started,
                "plan/mean_value": float(self.values.mean()),
            },
            0,
        )
        run.checkpoint()
        env.close()

    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False
    ) -> int:
        probs = self.policy[int(obs)]
        if deterministic:
            return int(np.argmax(probs))
        return int(self.rng.choice(len(probs), p=probs))

    def value_table(self) -> tuple[np.ndarray, np.ndarray]:
        """The planner's state values [S] and policy [S, A]."""
        return self.values.copy(), self.policy.copy()

    def save(self, path: str | Path) -> None:
        """The state values and the policy, written atomically as data."""
        save_data(path, {"values": self.values, "policy": self.policy})

    def load(self, path: str | Path) -> None:
        """Read an agent file as data; ValueError naming it when a table is missing or has
        another shape."""
        fill_tables({"values": self.values, "policy": self.policy}, load_data(path), path)

    def state_dict(self) -> dict[str, Any]:
        return {
            "values": self.values.copy(),
            "policy": self.policy.copy(),
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.values[:], self.policy[:] = state["values"], state["policy"]
        self.rng.bit_generator.state = state["rng"]


class ValueIterationAgent(PlanningAgent):
    Config = ValueIterationConfig

    def plan(self, mdp: Any) -> Solution:
        return value_iteration(mdp, self.config.gamma, self.config.theta)


class PolicyIterationAgent(PlanningAgent):
    Config = PolicyIterationConfig

    def plan(self, mdp: Any) -> Solution:
        return policy_iteration(mdp, self.config.gamma, self.config.theta)
