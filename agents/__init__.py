"""Agents. `REGISTRY` maps a config's `agent.name` to the class that implements it."""

from __future__ import annotations

from typing import Any

from agents.alphazero.agent import AlphaZeroAgent
from agents.dqn import DQNAgent
from agents.imitation import BehaviourCloningAgent
from agents.pg import A2CAgent, PPOAgent, REINFORCEAgent
from agents.tabular import PolicyIterationAgent, ValueIterationAgent
from agents.tabular.monte_carlo import MCExploringStartsAgent, MCOffPolicyAgent, MCOnPolicyAgent
from agents.tabular.td import (
    DoubleQLearningAgent,
    ExpectedSarsaAgent,
    NStepSarsaAgent,
    QLearningAgent,
    SarsaAgent,
)
from rlcourse.config import AgentConfig

REGISTRY: dict[str, Any] = {  # name -> class following `agents.base.Agent`
    "value_iteration": ValueIterationAgent,
    "policy_iteration": PolicyIterationAgent,
    "mc_exploring_starts": MCExploringStartsAgent,
    "mc_on_policy": MCOnPolicyAgent,
    "mc_off_policy": MCOffPolicyAgent,
    "sarsa": SarsaAgent,
    "expected_sarsa": ExpectedSarsaAgent,
    "q_learning": QLearningAgent,
    "double_q_learning": DoubleQLearningAgent,
    "n_step_sarsa": NStepSarsaAgent,
    "behaviour_cloning": BehaviourCloningAgent,
    "dqn": DQNAgent,
    "reinforce": REINFORCEAgent,
    "a2c": A2CAgent,
    "ppo": PPOAgent,
    "alphazero": AlphaZeroAgent,
}


def agent_schemas() -> dict[str, type[AgentConfig]]:
    """Each registered agent's config section model, for `rlcourse.config`."""
    return {name: cls.Config for name, cls in REGISTRY.items()}
