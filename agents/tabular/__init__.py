"""Tabular methods: bandits, dynamic programming, Monte Carlo and temporal-difference prediction
and control, and planning with a learned model (Dyna, prioritized sweeping)."""

from agents.tabular.dp import PolicyIterationAgent, ValueIterationAgent
from agents.tabular.monte_carlo import (
    MCExploringStartsAgent,
    MCOffPolicyAgent,
    MCOnPolicyAgent,
)
from agents.tabular.planning import (
    Solution,
    policy_evaluation,
    policy_iteration,
    value_iteration,
)
from agents.tabular.td import (
    DoubleQLearningAgent,
    ExpectedSarsaAgent,
    NStepSarsaAgent,
    QLearningAgent,
    SarsaAgent,
)

__all__ = [
    "DoubleQLearningAgent",
    "ExpectedSarsaAgent",
    "MCExploringStartsAgent",
    "MCOffPolicyAgent",
    "MCOnPolicyAgent",
    "NStepSarsaAgent",
    "PolicyIterationAgent",
    "QLearningAgent",
    "SarsaAgent",
    "Solution",
    "ValueIterationAgent",
    "policy_evaluation",
    "policy_iteration",
    "value_iteration",
]
