"""DQN with switchable improvements (double, dueling, prioritized, n-step, noisy, C51).

Collection runs on a vector env (SAME_STEP autoreset); one update is `gradient_steps`
gradient steps every `train_freq` env steps once `learning_starts` steps are stored. Each
gradient step (`_update`) is `losses.td_loss` through autograd, a clipped Adam step, new
priorities and the target update. With `teacher_start` a `WarmStart` picks who acts and
adds its large-margin loss. A resumed run continues exactly: checkpoints hold both networks,
the optimizer, every random generator, the envs' state as data with their current
observations, the teacher's choices, and the replay buffer (unless `save_replay: false`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from agents.base import EnvFactory
from agents.dqn.config import DQNConfig
from agents.dqn.losses import masked, td_loss
from agents.dqn.network import QNetwork
from agents.dqn.warm_start import WarmStart
from rlcourse.files import load_data, save_data
from rlcourse.nn import FlatParameters, fused_adam
from rlcourse.replay import PrioritizedReplayBuffer, ReplayBatch, ReplayBuffer
from rlcourse.runs import Run, warn
from rlcourse.schedules import schedule_value
from rlcourse.vector import (
    action_masks,
    make_vector_env,
    next_action_masks,
    observation_part,
    split_observation,
    true_next_observations,
)

LOG_EVERY = 1_000  # env steps between train/* scalars
TARGET_PASS_ROWS = 2_048  # next states the target network values in one pass (see `_train`)


@dataclass
class Collector:
    """What collection carries from one env step to the next, per env: the current
    observations [N, ...] and action masks [N, A] (None without masks), and the return and
    length of each episode so far [N]."""

    obs: Any
    masks: np.ndarray | None
    returns: np.ndarray
    lengths: np.ndarray

    def state_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class DQNAgent:
    Config: ClassVar[type[DQNConfig]] = DQNConfig

    def __init__(
        self,
        config: DQNConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        if not isinstance(action_space, gym.spaces.Discrete):
            raise TypeError(f"DQN needs a Discrete action space, got {action_space}")
        self.config = config
        space = observation_part(observation_space)
        if not isinstance(space, gym.spaces.Box | gym.spaces.Discrete):
            raise TypeError(f"DQN needs Box or Discrete observations, got {space}")
        self.observation_space: gym.spaces.Box | gym.spaces.Discrete = space
        self.n_actions = int(action_space.n)
        self.rng = np.random.default_rng(seed)
        self.torch_rng = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):  # seeded initial weights, global RNG untouched
            torch.manual_seed(seed)
            self.online = QNetwork(config, self.observation_space, self.n_actions, self.torch_rng)
            self.target = QNetwork(config, self.observation_space, self.n_actions, self.torch_rng)
        self.target.load_state_dict(self.online.state_dict())
        self.target.requires_grad_(False)
        # Each network's parameters in one flat tensor: zeroing, the clip, the Adam step, a
        # hard target update and a Polyak step are then one operation each.
        self.online_flat = FlatParameters(self.online)
        self.target_flat = FlatParameters(self.target, gradients=False)
        self.optimizer = fused_adam([self.online_flat.param], lr=config.lr, eps=config.adam_eps)
        # What a hard update copies: parameters, and buffers (noise samples, atom support).
        self._hard_copies = list(
            zip([self.target_flat.param, *self.target.buffers()],
                [self.online_flat.param, *self.online.buffers()], strict=True)
        )  # fmt: skip
        self.warm_start = (
            None
            if config.teacher_start is None
            else WarmStart(config.teacher_start, space, self.n_actions, self.rng)
        )
        self.buffer: ReplayBuffer | None = None
        self.env_steps = 0
        self.updates = 0
        self.collector: Collector | None = None  # built by `learn`
        self._loss_sum = 0.0
        self._loss_count = 0

    # ------------------------------------------------------------------ acting

    @property
    def epsilon(self) -> float:
        return 0.0 if self.config.noisy else schedule_value(self.config.epsilon, self.env_steps)

    def _greedy(self, obs: np.ndarray, masks: np.ndarray | None) -> np.ndarray:
        with torch.inference_mode():
            q = self.online.q_values(torch.as_tensor(obs))
            if masks is not None:
                q = masked(q, torch.as_tensor(masks))
            return q.argmax(dim=1).numpy()

    def _explore(self, obs: np.ndarray, masks: np.ndarray | None) -> np.ndarray:
        """Epsilon-greedy actions for a batch of observations (legal ones only)."""
        n = obs.shape[0]
        explore = np.asarray(self.rng.random(n) < self.epsilon)
        if explore.all():  # no forward pass needed
            return self._random_actions(masks, n)
        actions = self._greedy(obs, masks)
        if explore.any():
            actions = np.where(explore, self._random_actions(masks, n), actions)
        return actions

    def _random_actions(self, masks: np.ndarray | None, n: int) -> np.ndarray:
        """One uniformly random (legal) action per row."""
        if masks is None:
            return self.rng.integers(self.n_actions, size=n)
        # The k-th legal action, k uniform over each row's legal count.
        counts = masks.sum(axis=1)
        picks = np.floor(self.rng.random(n) * counts).astype(np.int64)
        return (np.cumsum(masks, axis=1) > picks[:, None]).argmax(axis=1)

    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False
    ) -> int:
        x, mask = split_observation(obs, info)
        x = np.asarray(x)[None]
        masks = None if mask is None else mask[None]
        if deterministic:
            return int(self._greedy(x, masks)[0])
        return int(self._explore(x, masks)[0])

    # ------------------------------------------------------------------ learning

    def _make_buffer(self, num_envs: int, with_masks: bool, seed: int) -> ReplayBuffer:
        cfg = self.config
        space = self.observation_space
        mask_size = self.n_actions if with_masks else None
        frames = cfg.optimize_memory_usage
        if cfg.prioritized:
            return PrioritizedReplayBuffer(
                cfg.buffer_size, space, num_envs, cfg.n_step, cfg.gamma, mask_size, seed,
                alpha=cfg.alpha, beta=cfg.beta, optimize_memory_usage=frames,
            )  # fmt: skip
        return ReplayBuffer(cfg.buffer_size, space, num_envs, cfg.n_step, cfg.gamma, mask_size,
                            seed, optimize_memory_usage=frames)  # fmt: skip

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        cfg = self.config
        envs = make_vector_env(env_factory, cfg.num_envs)
        envs = run.begin(self, envs, env_snapshot="full")
        if run.resumed and self.buffer is None:
            warn("the checkpoint holds no replay buffer (agent.save_replay: false): the replay "
                 "starts empty, so the run will differ from an uninterrupted one")  # fmt: skip
        if not run.env_restored or self.collector is None:
            obs, infos = envs.reset(seed=run.reset_seed)
            masks = action_masks(infos, cfg.num_envs, self.n_actions)
            zeros = np.zeros(cfg.num_envs)
            self.collector = Collector(obs, masks, zeros, zeros.astype(np.int64))
        with_masks = self.collector.masks is not None
        if self.buffer is None:  # fresh, or resumed from a checkpoint without the replay
            self.buffer = self._make_buffer(cfg.num_envs, with_masks, int(self.rng.integers(2**31)))
        if self.warm_start is not None:
            self.warm_start.begin(env_factory, self.env_steps, with_masks)
        total = run.total_steps or 0
        while not run.finished:
            self._collect_step(envs, run)
            if (
                self.env_steps >= cfg.learning_starts
                and self.env_steps % cfg.train_freq < cfg.num_envs
            ):
                if cfg.prioritized and total:
                    frac = min(1.0, self.env_steps / total)
                    self.buffer.beta = cfg.beta + frac * (1.0 - cfg.beta)  # type: ignore[attr-defined]
                self._train(cfg.gradient_steps)
            if (
                cfg.target_update == "hard"
                and self.env_steps % cfg.target_update_interval < cfg.num_envs
            ):
                self._sync_target()
            if self.env_steps % LOG_EVERY < cfg.num_envs and self._loss_count:
                run.log(
                    {
                        "train/loss": self._loss_sum / self._loss_count,
                        "train/epsilon": self.epsilon,
                        "train/updates": self.updates,
                    },
                    self.env_steps,
                )
                self._loss_sum, self._loss_count = 0.0, 0
            run.advance(cfg.num_envs)
        run.checkpoint()
        envs.close()

    def _collect_step(self, envs: gym.vector.VectorEnv, run: Run) -> None:
        c, n = self.collector, self.config.num_envs
        assert c is not None and self.buffer is not None
        obs, _ = split_observation(c.obs)
        if self.warm_start is None:
            actions = self._explore(obs, c.masks)
        else:
            actions = self.warm_start.actions(obs, c.masks, self.env_steps, self._explore)
        next_obs, rewards, terminated, truncated, infos = envs.step(actions)
        done = terminated | truncated
        real_next, _ = split_observation(true_next_observations(next_obs, infos, done))
        next_masks = next_action_masks(infos, done, n, self.n_actions)
        self.buffer.add(obs, actions, rewards, real_next, terminated, truncated, next_masks)
        c.returns += rewards
        c.lengths += 1
        for i in np.flatnonzero(done):
            run.record_episode(float(c.returns[i]), int(c.lengths[i]))
            c.returns[i], c.lengths[i] = 0.0, 0
        c.obs, c.masks = next_obs, action_masks(infos, n, self.n_actions)
        self.env_steps += n

    def _sync_target(self) -> None:
        """Hard update: copy every online parameter and buffer into the target network."""
        with torch.no_grad():
            for mine, theirs in self._hard_copies:
                mine.copy_(theirs)

    def _train(self, steps: int) -> None:
        """`steps` gradient steps in a row (nothing enters the replay meanwhile).

        With hard target updates, no noise and uniform replay, neither the target network nor
        the sampling changes within these steps: their batches are drawn together and the
        target network values the next states of `TARGET_PASS_ROWS` rows in one pass.
        """
        cfg = self.config
        assert self.buffer is not None
        if len(self.buffer) < cfg.batch_size:
            return
        if cfg.target_update != "hard" or cfg.noisy or cfg.prioritized:
            for _ in range(steps):
                self._update(self.buffer.sample(cfg.batch_size))
            return
        per_pass = max(1, TARGET_PASS_ROWS // cfg.batch_size)
        for first in range(0, steps, per_pass):
            batches = self.buffer.sample_batches(cfg.batch_size, min(per_pass, steps - first))
            with torch.no_grad():
                next_target = self.target(torch.as_tensor(batches.next_observations))
            for row in range(0, len(batches.indices), cfg.batch_size):
                part = slice(row, row + cfg.batch_size)
                self._update(batches.rows(part), next_target[part])

    def _update(self, batch: ReplayBatch, next_target: torch.Tensor | None = None) -> None:
        """One gradient step on `batch` (`next_target`: the target network's output for its
        next observations, when already computed)."""
        cfg = self.config
        if cfg.noisy:
            self.online.reset_noise()
            self.target.reset_noise()
        loss, metrics = td_loss(batch, self.online, self.target, cfg, next_target)
        if self.warm_start is not None:
            margin = self.warm_start.margin_loss(self.online, cfg.batch_size)
            loss = loss if margin is None else loss + margin
        self.online_flat.zero_grad()
        loss.backward()
        if cfg.max_grad_norm is not None:
            self.online_flat.clip_grad_norm(cfg.max_grad_norm)
        self.optimizer.step()
        if cfg.prioritized:
            self.buffer.update_priorities(batch.indices, metrics.td_errors.numpy())  # type: ignore[union-attr]
        if cfg.target_update == "polyak":
            with torch.no_grad():
                self.target_flat.param.lerp_(self.online_flat.param, cfg.tau)
        self.updates += 1
        self._loss_sum += float(loss.detach())
        self._loss_count += 1

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        """The online network's weights, written atomically as data."""
        save_data(path, {"online": self.online.state_dict()})

    def load(self, path: str | Path) -> None:
        """Read an agent file as data (`rlcourse.files.FileError` naming it when it is not)."""
        state = load_data(path)
        self.online.load_state_dict(state["online"])
        self.target.load_state_dict(state["online"])

    def state_dict(self) -> dict[str, Any]:
        save_replay = self.buffer is not None and self.config.save_replay
        return {
            "online": self.online.state_dict(),
            "target": self.target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": self.rng.bit_generator.state,
            "torch_rng": self.torch_rng.get_state(),
            "env_steps": self.env_steps,
            "updates": self.updates,
            "collector": None if self.collector is None else self.collector.state_dict(),
            "replay": self.buffer.state_dict() if save_replay else None,  # type: ignore[union-attr]
            "teacher_choices": None if self.warm_start is None else self.warm_start.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.online.load_state_dict(state["online"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.rng.bit_generator.state = state["rng"]
        self.torch_rng.set_state(state["torch_rng"])
        self.env_steps, self.updates = state["env_steps"], state["updates"]
        collector = state["collector"]
        self.collector = Collector(**collector) if collector else None
        if self.warm_start is not None:
            self.warm_start.load_state_dict(state.get("teacher_choices"))
        if state.get("replay") is not None:
            with_masks = self.collector is not None and self.collector.masks is not None
            # The seed is irrelevant: the buffer's own generator state is restored next.
            self.buffer = self._make_buffer(self.config.num_envs, with_masks, seed=0)
            self.buffer.load_state_dict(state["replay"])
