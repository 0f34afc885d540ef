"""Agents. `REGISTRY` maps a config's `agent.name` to the class that implements it."""

from __future__ import annotations

from typing import Any

from agents.alphazero.agent import AlphaZeroAgent
from agents.dqn import DQNAgent
from agents.imitation import BehaviourCloningAgent
from agents.pg import A2CAgent, PPOAgent, REINFORCEAgent
from agents.tabular import PolicyIterationAgent, ValueIterationAgent
from agents.tabular.bandits import EpsilonGreedyBanditAgent, GradientBanditAgent, UCBBanditAgent
from agents.tabular.dyna import DynaQAgent, PrioritizedSweepingAgent
from agents.tabular.monte_carlo import MCExploringStartsAgent, MCOffPolicyAgent, MCOnPolicyAgent
from agents.tabular.prediction import MCPredictionAgent, TDPredictionAgent
from agents.tabular.td import (
    DoubleQLearningAgent,
    ExpectedSarsaAgent,
    NStepSarsaAgent,
    QLearningAgent,
    SarsaAgent,
)
from rlcourse.config import AgentConfig

REGISTRY: dict[str, Any] = {  # name -> class following `agents.base.Agent`
    "bandit_epsilon_greedy": EpsilonGreedyBanditAgent,
    "bandit_ucb": UCBBanditAgent,
    "bandit_gradient": GradientBanditAgent,
    "value_iteration": ValueIterationAgent,
    "policy_iteration": PolicyIterationAgent,
    "td_prediction": TDPredictionAgent,
    "mc_prediction": MCPredictionAgent,
    "mc_exploring_starts": MCExploringStartsAgent,
    "mc_on_policy": MCOnPolicyAgent,
    "mc_off_policy": MCOffPolicyAgent,
    "sarsa": SarsaAgent,
    "expected_sarsa": ExpectedSarsaAgent,
    "q_learning": QLearningAgent,
    "double_q_learning": DoubleQLearningAgent,
    "n_step_sarsa": NStepSarsaAgent,
    "dyna_q": DynaQAgent,
    "prioritized_sweeping": PrioritizedSweepingAgent,
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
