"""REINFORCE (Williams 1992) with reward-to-go, with or without a learned baseline.

Plays whole episodes on one env; every `episodes_per_update` episodes it takes one gradient
step on ``-mean(log pi(a_t|s_t) (G_t - b(s_t)))`` where G_t is the discounted reward-to-go and
b the critic (zero without a baseline; the critic then is not trained). An episode cut by a
time limit bootstraps its last return from the baseline's value of the real final state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
import torch

from agents.base import EnvFactory
from agents.pg.base import PolicyAgent
from agents.pg.config import REINFORCEConfig
from agents.pg.losses import Metrics, actor_critic_loss, normalized
from rlcourse.rollout import reward_to_go
from rlcourse.runs import Run
from rlcourse.vector import split_observation


class Episode(NamedTuple):
    observations: torch.Tensor  # [T, ...] network inputs
    actions: torch.Tensor  # [T] or [T, D]
    action_masks: torch.Tensor | None  # [T, A]
    returns: torch.Tensor  # [T] discounted reward-to-go


class REINFORCEAgent(PolicyAgent):
    Config: ClassVar[type[REINFORCEConfig]] = REINFORCEConfig
    config: REINFORCEConfig

    def __init__(
        self,
        config: REINFORCEConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        super().__init__(config, observation_space, action_space, seed)
        self._pending: list[Episode] = []

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        env = run.begin(self, env_factory())
        while not run.finished:
            episode, total = self._play(env)
            self._pending.append(episode)
            if len(self._pending) >= self.config.episodes_per_update:
                self.set_learning_rate(run.total_steps)
                metrics = self.update(self._pending)
                self._pending = []
                self.updates += 1
                run.log({f"train/{k}": v for k, v in metrics.items()}, self.env_steps)
            run.end_episode(total, len(episode.returns))
        run.checkpoint()
        env.close()

    def _play(self, env: gym.Env) -> tuple[Episode, float]:
        """One episode with the current stochastic policy; returns it and its total reward."""
        obs, info = env.reset()
        observations, actions, masks, rewards = [], [], [], []
        done = truncated = False
        with torch.no_grad():
            while not done:
                x, mask = split_observation(obs, info)
                x_t = self.observations(np.asarray(x)[None])
                mask_t = None if mask is None else torch.as_tensor(mask[None])
                action, _, _, _ = self.policy.step(x_t, mask_t, None, None, self.generator)
                env_action = self.policy.to_env(action.numpy())[0]
                obs, reward, terminated, truncated, info = env.step(
                    int(env_action) if self.policy.discrete else env_action
                )
                observations.append(x_t[0])
                actions.append(action[0])
                masks.append(mask_t)
                rewards.append(float(reward))
                done = terminated or truncated
            total = float(sum(rewards))
            if truncated and not terminated and self.config.baseline:
                final = self.observations(np.asarray(split_observation(obs)[0])[None])
                rewards[-1] += self.config.gamma * float(self.policy.value(final)[0])
        self.env_steps += len(rewards)
        returns = torch.as_tensor(reward_to_go(rewards, self.config.gamma), dtype=torch.float32)
        present = [m for m in masks if m is not None]
        stacked_masks = torch.cat(present) if present else None  # an env masks every step or none
        return Episode(
            torch.stack(observations), torch.stack(actions), stacked_masks, returns
        ), total

    def update(self, episodes: list[Episode]) -> Metrics:
        """One gradient step on the given complete episodes."""
        cfg = self.config
        obs = torch.cat([e.observations for e in episodes])
        actions = torch.cat([e.actions for e in episodes])
        masks = None
        if episodes[0].action_masks is not None:
            masks = torch.cat([e.action_masks for e in episodes])  # type: ignore[misc]
        returns = torch.cat([e.returns for e in episodes])
        log_probs, entropy, values = self.policy.evaluate_actions(obs, actions, masks)
        advantages = returns - values.detach() if cfg.baseline else returns
        if cfg.normalize_advantage:
            advantages = normalized(advantages)
        loss, metrics = actor_critic_loss(
            log_probs, entropy, values if cfg.baseline else None, advantages, returns,
            vf_coef=cfg.vf_coef, ent_coef=cfg.ent_coef,
        )  # fmt: skip
        self.gradient_step(loss)
        return metrics

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "pending": [tuple(e) for e in self._pending]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self._pending = [Episode(*e) for e in state["pending"]]
