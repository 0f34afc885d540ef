"""Agents. `REGISTRY` maps a config's `agent.name` to the class that implements it."""

from __future__ import annotations

from agents.tabular import PolicyIterationAgent, ValueIterationAgent

REGISTRY: dict[str, type] = {
    "value_iteration": ValueIterationAgent,
    "policy_iteration": PolicyIterationAgent,
}


def agent_schemas() -> dict[str, type]:
    """Each registered agent's config section model, for `rlcourse.config`."""
    return {name: cls.Config for name, cls in REGISTRY.items()}
