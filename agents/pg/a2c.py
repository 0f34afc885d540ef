"""Advantage actor-critic, synchronous (A2C): one gradient step per rollout of all envs.

With ``gae_lambda: 1.0`` (the default) the advantages are n-step returns minus values, as in
Mnih et al. (2016); smaller lambdas give GAE.
"""

from __future__ import annotations

from typing import ClassVar

from agents.pg.config import A2CConfig
from agents.pg.losses import Metrics, actor_critic_loss, explained_variance, normalized
from agents.pg.rollout_agent import RolloutAgent
from rlcourse.rollout import RolloutBuffer


class A2CAgent(RolloutAgent):
    Config: ClassVar[type[A2CConfig]] = A2CConfig
    config: A2CConfig

    def update(self, buffer: RolloutBuffer) -> Metrics:
        cfg = self.config
        whole = buffer.sequences(cfg.sequence_length) if self.policy.recurrent else buffer.flat()
        batch, log_probs, entropy, values = self.evaluate_batch(whole)
        advantages = batch.advantages
        if cfg.normalize_advantage:
            advantages = normalized(advantages)
        loss, metrics = actor_critic_loss(
            log_probs, entropy, values, advantages, batch.returns,
            vf_coef=cfg.vf_coef, ent_coef=cfg.ent_coef,
        )  # fmt: skip
        self.gradient_step(loss)
        return {**metrics, "explained_variance": explained_variance(batch.values, batch.returns)}
