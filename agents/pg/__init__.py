"""Policy-gradient and actor-critic agents: REINFORCE, A2C and PPO (feed-forward or recurrent,
discrete with action masks or continuous)."""

from agents.pg.a2c import A2CAgent
from agents.pg.config import A2CConfig, PPOConfig, REINFORCEConfig
from agents.pg.ppo import PPOAgent
from agents.pg.reinforce import REINFORCEAgent

__all__ = ["A2CAgent", "A2CConfig", "PPOAgent", "PPOConfig", "REINFORCEAgent", "REINFORCEConfig"]
