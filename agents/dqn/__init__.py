"""DQN and its classic improvements behind config switches (all on: Rainbow)."""

from agents.dqn.agent import DQNAgent
from agents.dqn.config import DQNConfig

__all__ = ["DQNAgent", "DQNConfig"]
