"""Proximal policy optimisation (Schulman et al. 2017) with the clipped surrogate.

Each rollout is learned from for `n_epochs` epochs of shuffled minibatches (whole sequences
for recurrent policies); the epochs stop early once the approximate KL to the collecting
policy passes 1.5 x `target_kl`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from agents.pg.config import PPOConfig
from agents.pg.losses import Metrics, explained_variance, normalized, ppo_loss
from agents.pg.rollout_agent import RolloutAgent
from rlcourse.rollout import RolloutBatch, RolloutBuffer, SequenceBatch


class PPOAgent(RolloutAgent):
    Config: ClassVar[type[PPOConfig]] = PPOConfig
    config: PPOConfig

    def _minibatches(self, buffer: RolloutBuffer) -> Iterator[RolloutBatch | SequenceBatch]:
        cfg = self.config
        if self.policy.recurrent:
            seq_len = cfg.sequence_length
            return buffer.sequence_minibatches(seq_len, cfg.batch_size // seq_len, self.generator)
        return buffer.minibatches(cfg.batch_size, self.generator)

    def update(self, buffer: RolloutBuffer) -> Metrics:
        cfg = self.config
        totals: dict[str, float] = {}
        steps = 0
        stopped_early = False
        for _ in range(cfg.n_epochs):
            for minibatch in self._minibatches(buffer):
                batch, log_probs, entropy, values = self.evaluate_batch(minibatch)
                advantages = batch.advantages
                if cfg.normalize_advantage:
                    advantages = normalized(advantages)
                loss, metrics = ppo_loss(
                    log_probs, entropy, values, batch.log_probs, batch.values, advantages,
                    batch.returns, clip_range=cfg.clip_range, clip_range_vf=cfg.clip_range_vf,
                    vf_coef=cfg.vf_coef, ent_coef=cfg.ent_coef,
                )  # fmt: skip
                if cfg.target_kl is not None and metrics["approx_kl"] > 1.5 * cfg.target_kl:
                    stopped_early = True
                    break
                self.gradient_step(loss)
                steps += 1
                for key, value in metrics.items():
                    totals[key] = totals.get(key, 0.0) + value
            if stopped_early:
                break
        averaged = {key: value / max(steps, 1) for key, value in totals.items()}
        return {
            **averaged,
            "gradient_steps": float(steps),
            "explained_variance": explained_variance(
                buffer.values.flatten(), buffer.returns.flatten()
            ),
        }
