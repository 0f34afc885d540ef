"""Agents. `REGISTRY` maps a config's `agent.name` to the class that implements it.

Each class is imported when its name is first looked up, so importing `agents` (or one agent)
imports no other agent, and an agent's module may import `agents.training` at its top.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from rlcourse.config import AgentConfig


class AgentRegistry(Mapping[str, Any]):
    """name -> class following `agents.base.Agent`, from ``"module:Class"`` paths."""

    def __init__(self, paths: Mapping[str, str]) -> None:
        self.paths = dict(paths)

    def __getitem__(self, name: str) -> Any:
        module, _, cls = self.paths[name].partition(":")
        return getattr(importlib.import_module(module), cls)

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


REGISTRY = AgentRegistry({
    "bandit_epsilon_greedy": "agents.tabular.bandits:EpsilonGreedyBanditAgent",
    "bandit_ucb": "agents.tabular.bandits:UCBBanditAgent",
    "bandit_gradient": "agents.tabular.bandits:GradientBanditAgent",
    "value_iteration": "agents.tabular.dp:ValueIterationAgent",
    "policy_iteration": "agents.tabular.dp:PolicyIterationAgent",
    "td_prediction": "agents.tabular.prediction:TDPredictionAgent",
    "mc_prediction": "agents.tabular.prediction:MCPredictionAgent",
    "mc_exploring_starts": "agents.tabular.monte_carlo:MCExploringStartsAgent",
    "mc_on_policy": "agents.tabular.monte_carlo:MCOnPolicyAgent",
    "mc_off_policy": "agents.tabular.monte_carlo:MCOffPolicyAgent",
    "sarsa": "agents.tabular.td:SarsaAgent",
    "expected_sarsa": "agents.tabular.td:ExpectedSarsaAgent",
    "q_learning": "agents.tabular.td:QLearningAgent",
    "double_q_learning": "agents.tabular.td:DoubleQLearningAgent",
    "n_step_sarsa": "agents.tabular.td:NStepSarsaAgent",
    "behaviour_cloning": "agents.imitation.agent:BehaviourCloningAgent",
    "dqn": "agents.dqn.agent:DQNAgent",
    "reinforce": "agents.pg.reinforce:REINFORCEAgent",
    "a2c": "agents.pg.a2c:A2CAgent",
    "ppo": "agents.pg.ppo:PPOAgent",
    "ddpg": "agents.actor_critic.ddpg:DDPGAgent",
    "td3": "agents.actor_critic.td3:TD3Agent",
    "sac": "agents.actor_critic.sac:SACAgent",
    "alphazero": "agents.alphazero.agent:AlphaZeroAgent",
    "dyna_q": "agents.tabular.dyna:DynaQAgent",
    "prioritized_sweeping": "agents.tabular.dyna:PrioritizedSweepingAgent",
})  # fmt: skip


def agent_schemas() -> dict[str, type[AgentConfig]]:
    """Each registered agent's config section model, for `rlcourse.config`."""
    return {name: cls.Config for name, cls in REGISTRY.items()}
