"""Tabular methods: dynamic programming, Monte Carlo control and temporal-difference control."""

from agents.tabular.dp import PolicyIterationAgent, ValueIterationAgent
from agents.tabular.planning import (
    Solution,
    policy_evaluation,
    policy_iteration,
    value_iteration,
)

__all__ = [
    "PolicyIterationAgent",
    "Solution",
    "ValueIterationAgent",
    "policy_evaluation",
    "policy_iteration",
    "value_iteration",
]
