"""A2C and PPO's shared learner: vector-env rollouts, GAE, normalisation, exact resume.

Each iteration collects `n_steps` steps from `num_envs` envs (Gymnasium SAME_STEP autoreset;
stepped in this process, or in subprocesses with ``vector_env: async``),
computes GAE (a truncated episode bootstraps from the value of its real final observation),
sets the learning rate, and calls the subclass's `update`. Checkpoints fall between
iterations and hold the network, optimiser, generator, normalisers, the collector's current
observations and recurrent state, and the vector env's state as data, so a resumed run
continues exactly (an async run, whose envs live in subprocesses, starts new episodes when
resumed, and says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agents.base import EnvFactory
from agents.pg.base import PolicyAgent
from agents.pg.config import RolloutConfig
from agents.pg.losses import Metrics
from rlcourse.normalization import RewardScaler
from rlcourse.rollout import RolloutBatch, RolloutBuffer, SequenceBatch
from rlcourse.runs import Run
from rlcourse.vector import action_masks, make_vector_env, split_observation

LOG_EVERY = 2_000  # env steps between train/* scalars


class RolloutAgent(PolicyAgent):
    config: RolloutConfig

    def __init__(
        self,
        config: RolloutConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        super().__init__(
            config, observation_space, action_space, seed, config.normalize_obs, config.clip_obs
        )
        self.reward_scaler = (
            RewardScaler(config.num_envs, config.gamma, config.clip_reward)
            if config.normalize_reward
            else None
        )
        self._collector: dict[str, Any] = {}
        self._logged: dict[str, float] = {}
        self._logged_count = 0

    # ------------------------------------------------------------------ the update

    def update(self, buffer: RolloutBuffer) -> Metrics:
        """Learn from a finished rollout; returns averaged metrics."""
        raise NotImplementedError

    def evaluate_batch(
        self, batch: RolloutBatch | SequenceBatch
    ) -> tuple[RolloutBatch, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(the batch flattened, log-probs, entropies, values) under the current policy."""
        if isinstance(batch, SequenceBatch):
            log_probs, entropy, values = self.policy.evaluate_actions(
                batch.observations, batch.actions, batch.action_masks, batch.hidden, batch.starts
            )
            return batch.flat(), log_probs, entropy, values
        log_probs, entropy, values = self.policy.evaluate_actions(
            batch.observations, batch.actions, batch.action_masks
        )
        return batch, log_probs, entropy, values

    # ------------------------------------------------------------------ collection

    def _split(self, obs: Any, infos: Mapping[str, Any]) -> tuple[Any, np.ndarray | None]:
        x, masks = split_observation(obs)
        if masks is None and self.n_actions:
            masks = action_masks(infos, self.config.num_envs, self.n_actions)
        return x, masks

    def _start(self, envs: gym.vector.VectorEnv, seed: int) -> None:
        n = self.config.num_envs
        obs, infos = envs.reset(seed=seed)
        x, masks = self._split(obs, infos)
        self._collector = {
            "obs": self.observations(x, update_stats=True),
            "masks": masks,
            "starts": np.ones(n, dtype=bool),
            "hidden": self.policy.initial_state(n) if self.policy.recurrent else None,
            "returns": np.zeros(n),
            "lengths": np.zeros(n, dtype=np.int64),
        }

    def _make_buffer(self) -> RolloutBuffer:
        cfg = self.config
        action_shape = self.action_space.shape or ()
        hidden = self._collector["hidden"]
        hidden_shapes = [] if hidden is None else [h.shape for h in _tensors(hidden)]
        return RolloutBuffer(
            cfg.n_steps, cfg.num_envs, self.observation_space.shape or (), self.obs_dtype,
            action_shape, torch.int64 if self.policy.discrete else torch.float32,
            self.n_actions if self._collector["masks"] is not None else None, hidden_shapes,
        )  # fmt: skip

    def collect(self, envs: gym.vector.VectorEnv, buffer: RolloutBuffer, run: Run) -> None:
        """Fill `buffer` with one rollout and compute its advantages."""
        cfg, c, policy = self.config, self._collector, self.policy
        buffer.reset()
        with torch.inference_mode():
            for _ in range(cfg.n_steps):
                obs, masks, starts, hidden = c["obs"], c["masks"], c["starts"], c["hidden"]
                mask_t = None if masks is None else torch.from_numpy(masks)
                starts_t = torch.from_numpy(starts) if hidden is not None else None
                actions, log_probs, values, next_hidden = policy.step(
                    obs, mask_t, hidden, starts_t, self.generator
                )
                next_obs, rewards, terminated, truncated, infos = envs.step(
                    policy.to_env(actions.numpy())
                )
                ends = terminated | truncated
                learn_rewards = (
                    rewards if self.reward_scaler is None else self.reward_scaler(rewards, ends)
                )
                buffer.add(
                    obs, actions, log_probs, values, learn_rewards, terminated, truncated, starts,
                    masks, () if hidden is None else _tensors(hidden),
                )  # fmt: skip
                if truncated.any():
                    self._bootstrap_truncated(buffer, infos, truncated, next_hidden)
                c["returns"] += rewards
                c["lengths"] += 1
                for i in np.flatnonzero(ends):
                    run.record_episode(float(c["returns"][i]), int(c["lengths"][i]))
                c["returns"][ends], c["lengths"][ends] = 0.0, 0
                x, c["masks"] = self._split(next_obs, infos)
                c["obs"] = self.observations(x, update_stats=True)
                c["starts"], c["hidden"] = ends, next_hidden
            self.env_steps += cfg.rollout_size
            last_starts = None if c["hidden"] is None else torch.from_numpy(c["starts"])
            last_values = policy.value(c["obs"], c["hidden"], last_starts)
        buffer.finish(last_values.numpy(), cfg.gamma, cfg.gae_lambda)

    def _bootstrap_truncated(
        self,
        buffer: RolloutBuffer,
        infos: Mapping[str, Any],
        truncated: np.ndarray,
        hidden: Any,
    ) -> None:
        """Store V(real final observation) of the envs whose episode hit a time limit."""
        rows = np.flatnonzero(truncated)
        finals = [split_observation(infos["final_obs"][i])[0] for i in rows]
        obs = self.observations(np.stack(finals))
        if hidden is not None:
            idx = torch.from_numpy(rows)
            if isinstance(hidden, tuple):
                hidden = (hidden[0][:, idx], hidden[1][:, idx])
            else:
                hidden = hidden[:, idx]
        buffer.set_final_values(rows, self.policy.value(obs, hidden).numpy())

    # ------------------------------------------------------------------ the loop

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        asynchronous = self.config.vector_env == "async"
        envs = make_vector_env(env_factory, self.config.num_envs, asynchronous)
        # Subprocess envs cannot be saved as data: a resumed async run starts new episodes
        # (seeded by the step it resumes at) instead of finishing the old ones.
        envs = run.begin(self, envs, env_snapshot="full")
        if not run.env_restored or not self._collector:
            self._start(envs, run.reset_seed)
        buffer = self._make_buffer()
        while not run.finished:
            self.collect(envs, buffer, run)
            lr = self.set_learning_rate(run.total_steps)
            metrics = self.update(buffer)
            self.updates += 1
            self._log(run, {**metrics, "learning_rate": lr})
            run.advance(self.config.rollout_size)
        run.checkpoint()
        envs.close()

    def _log(self, run: Run, metrics: Metrics) -> None:
        """Average train/* scalars over the updates of every LOG_EVERY env steps."""
        for key, value in metrics.items():
            self._logged[key] = self._logged.get(key, 0.0) + value
        self._logged_count += 1
        size = self.config.rollout_size
        if self.env_steps // LOG_EVERY != (self.env_steps - size) // LOG_EVERY:
            n = self._logged_count
            run.log({f"train/{k}": v / n for k, v in self._logged.items()}, self.env_steps)
            run.log({"train/updates": self.updates}, self.env_steps)
            self._logged, self._logged_count = {}, 0

    # ------------------------------------------------------------------ persistence

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "reward_scaler": None
            if self.reward_scaler is None
            else self.reward_scaler.state_dict(),
            "collector": dict(self._collector),
            "logged": (dict(self._logged), self._logged_count),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        if self.reward_scaler is not None:
            self.reward_scaler.load_state_dict(state["reward_scaler"])
        self._collector = dict(state["collector"])
        self._logged, self._logged_count = dict(state["logged"][0]), state["logged"][1]


def _tensors(hidden: Any) -> tuple[torch.Tensor, ...]:
    return tuple(hidden) if isinstance(hidden, tuple) else (hidden,)
