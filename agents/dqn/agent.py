"""DQN with switchable improvements (double, dueling, prioritized, n-step, noisy, C51).

Collection runs on a vector env (SAME_STEP autoreset); one update is `gradient_steps`
gradient steps every `train_freq` env steps once `learning_starts` steps are stored. With
`teacher_start`, a teacher picks the actions of the first `teacher_start.steps` env steps
(replay buffer spiking), then of a share of them that falls to 0 over `teacher_start.anneal`
steps; their transitions are stored and learned from like any other, and with
`teacher_start.margin_weight` > 0 the teacher's choices are also kept apart for the
large-margin loss (`large_margin_loss`). A resumed run continues exactly: checkpoints hold both
networks, the optimizer, every random generator, the envs' state as data with their current
observations, the teacher's choices, and the replay buffer (unless `save_replay: false`).

Q networks built from linear layers (MLP encoders, every head) train without autograd: they
run forward and backward by hand (`HandQNetwork`) from the loss gradient `_td_loss` writes
out, and act in NumPy; other networks, and the large-margin loss, go through autograd.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from agents.base import EnvFactory
from agents.dqn.config import DQNConfig
from agents.dqn.network import HandQNetwork, QNetwork
from agents.dqn.targets import (
    bootstrap_actions,
    categorical_projection,
    masked,
    q_targets,
    value_loss,
    value_loss_grad,
)
from rlcourse.buffers import PrioritizedReplayBuffer, ReplayBatch, ReplayBuffer
from rlcourse.files import load_data, save_data
from rlcourse.nn import FlatAdam, FlatParameters
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


def large_margin_loss(
    q: torch.Tensor, actions: torch.Tensor, masks: torch.Tensor | None, margin: float
) -> torch.Tensor:
    """DQfD's supervised loss: the batch mean of max_a [Q(s, a) + margin * (a != a_E)] - Q(s, a_E)
    over the legal actions a, for Q values [B, A] and the teacher's actions a_E [B]."""
    bonus = torch.full_like(q, margin).scatter_(1, actions[:, None], 0.0)
    best = masked(q + bonus, masks).max(dim=1).values
    return (best - q.gather(1, actions[:, None]).squeeze(1)).mean()


class TeacherChoices:
    """The observations [K, ...], actions [K] and action masks [K, A] where the teacher acted."""

    def __init__(
        self, capacity: int, space: gym.spaces.Box | gym.spaces.Discrete, n_actions: int,
        with_masks: bool,
    ):  # fmt: skip
        self.observations = np.zeros((capacity, *(space.shape or ())), dtype=space.dtype)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.masks = np.ones((capacity, n_actions), dtype=bool) if with_masks else None
        self.size = 0

    def add(self, obs: np.ndarray, actions: np.ndarray, masks: np.ndarray | None) -> None:
        k = min(len(actions), len(self.actions) - self.size)  # full: the first ones are kept
        end = self.size + k
        self.observations[self.size : end], self.actions[self.size : end] = obs[:k], actions[:k]
        if self.masks is not None and masks is not None:
            self.masks[self.size : end] = masks[:k]
        self.size = end

    def sample(
        self, n: int, rng: np.random.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(observations, actions, masks or None) of `n` choices drawn uniformly."""
        i = rng.integers(self.size, size=n)
        masks = None if self.masks is None else torch.as_tensor(self.masks[i])
        return torch.as_tensor(self.observations[i]), torch.as_tensor(self.actions[i]), masks

    def state_dict(self) -> dict[str, Any]:
        masks = None if self.masks is None else self.masks[: self.size]
        return {"observations": self.observations[: self.size],
                "actions": self.actions[: self.size], "masks": masks}  # fmt: skip

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.size = 0
        self.add(state["observations"], state["actions"], state["masks"])


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
        # Each network's parameters in one flat tensor: the optimiser step, the clip, a hard
        # target update and a Polyak step are then one operation each.
        self.online_flat = FlatParameters(self.online)
        self.target_flat = FlatParameters(self.target, gradients=False)
        # What a hard update copies: parameters and buffers (noise samples, atom support).
        self._sync_pairs = (
            [self.target_flat.param, *self.target.buffers()],
            [self.online_flat.param, *self.online.buffers()],
        )
        self.optimizer = FlatAdam(self.online_flat, lr=config.lr, eps=config.adam_eps)
        # Both networks forward and backward by hand when they are chains of linear layers.
        online_hand, target_hand = HandQNetwork.of(self.online), HandQNetwork.of(self.target)
        self._hand: tuple[HandQNetwork, HandQNetwork] | None = (
            None if online_hand is None or target_hand is None else (online_hand, target_hand)
        )
        self.buffer: ReplayBuffer | None = None
        self.env_steps = 0
        self.updates = 0
        self._collector: dict[str, Any] = {}
        self._teacher: Any = None  # built by `learn` while the teacher start lasts
        self.teacher_choices: TeacherChoices | None = None  # for the large-margin loss
        self._loss_sum = 0.0
        self._loss_count = 0

    # ------------------------------------------------------------------ acting

    @property
    def epsilon(self) -> float:
        return 0.0 if self.config.noisy else schedule_value(self.config.epsilon, self.env_steps)

    def _greedy(self, obs: np.ndarray, masks: np.ndarray | None) -> np.ndarray:
        if self._hand is not None:  # NumPy is quicker on a few observations
            q_numpy = self._hand[0].numpy_q_values(obs)
            if masks is not None:
                q_numpy = np.where(masks, q_numpy, -np.inf)
            return q_numpy.argmax(axis=1)
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
        if cfg.prioritized:
            return PrioritizedReplayBuffer(
                cfg.buffer_size, space, num_envs, cfg.n_step, cfg.gamma, mask_size, seed,
                alpha=cfg.alpha, beta=cfg.beta,
            )  # fmt: skip
        return ReplayBuffer(
            cfg.buffer_size, space, num_envs, cfg.n_step, cfg.gamma, mask_size, seed
        )

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        cfg = self.config
        envs = make_vector_env(env_factory, cfg.num_envs)
        envs = run.begin(self, envs, env_snapshot="full")
        if run.resumed and self.buffer is None:
            warn("the checkpoint holds no replay buffer (agent.save_replay: false): the replay "
                 "starts empty, so the run will differ from an uninterrupted one")  # fmt: skip
        if not run.env_restored or not self._collector:
            obs, infos = envs.reset(seed=run.reset_seed)
            self._collector = {
                "obs": obs,
                "masks": action_masks(infos, cfg.num_envs, self.n_actions),
                "returns": np.zeros(cfg.num_envs),
                "lengths": np.zeros(cfg.num_envs, dtype=np.int64),
            }
        if self.buffer is None:  # fresh, or resumed from a checkpoint without the replay
            with_masks = self._collector["masks"] is not None
            self.buffer = self._make_buffer(cfg.num_envs, with_masks, int(self.rng.integers(2**31)))
        total = run.total_steps or 0
        start = cfg.teacher_start
        if start is not None and start.share(self.env_steps) > 0:
            self._teacher = self._make_teacher(start.teacher, env_factory)
        if start is not None and start.margin_weight > 0 and self.teacher_choices is None:
            with_masks = self._collector["masks"] is not None
            self.teacher_choices = TeacherChoices(
                start.steps + start.anneal, self.observation_space, self.n_actions, with_masks
            )
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
        c, n = self._collector, self.config.num_envs
        obs, _ = split_observation(c["obs"])
        start = self.config.teacher_start
        share = 0.0 if start is None else start.share(self.env_steps)
        if share >= 1.0:
            actions = self._teacher_actions(obs, c["masks"])
            taught = np.ones(n, dtype=bool)
        else:
            actions = self._explore(obs, c["masks"])
            taught = np.zeros(n, dtype=bool)
            if share > 0.0:
                taught = self.rng.random(n) < share
                actions = np.where(taught, self._teacher_actions(obs, c["masks"]), actions)
        if self.teacher_choices is not None and taught.any():
            masks = None if c["masks"] is None else c["masks"][taught]
            self.teacher_choices.add(obs[taught], actions[taught], masks)
        next_obs, rewards, terminated, truncated, infos = envs.step(actions)
        done = terminated | truncated
        real_next, _ = split_observation(true_next_observations(next_obs, infos, done))
        next_masks = next_action_masks(infos, done, n, self.n_actions)
        assert self.buffer is not None
        self.buffer.add(obs, actions, rewards, real_next, terminated, truncated, next_masks)
        c["returns"] += rewards
        c["lengths"] += 1
        for i in np.flatnonzero(done):
            run.record_episode(float(c["returns"][i]), int(c["lengths"][i]))
            c["returns"][i], c["lengths"][i] = 0.0, 0
        c["obs"], c["masks"] = next_obs, action_masks(infos, n, self.n_actions)
        self.env_steps += n

    @staticmethod
    def _make_teacher(spec: str, env_factory: EnvFactory) -> Callable[[Any, dict], int]:
        """(observation, info) -> the action of the teacher `spec` names."""
        from agents.imitation import make_teacher, reads_true_state

        env = env_factory()  # what the teacher is built for; it acts on observations only
        teacher = make_teacher(spec, env)
        if reads_true_state(teacher):
            env.close()
            raise ValueError(f"teacher {spec!r} reads the true state, which a vector env hides")
        return partial(teacher, env)

    def _teacher_actions(self, obs: np.ndarray, masks: np.ndarray | None) -> np.ndarray:
        """The teacher's action [N] for each env's observation (and action mask)."""
        infos = [{} if masks is None else {"action_mask": masks[i]} for i in range(len(obs))]
        return np.array([self._teacher(o, info) for o, info in zip(obs, infos, strict=True)])

    def _sync_target(self) -> None:
        """Hard update: copy every online parameter and buffer into the target network."""
        with torch.no_grad():
            torch._foreach_copy_(*self._sync_pairs)

    def _train(self, steps: int) -> None:
        """`steps` gradient steps in a row (nothing enters the replay meanwhile).

        With hard target updates, no noise and uniform replay, the target network and the
        sampling distribution stay as they are through these steps: every batch is then drawn
        at once and the target network values all their next states in a few large passes
        (`TARGET_PASS_ROWS` rows each) instead of one small pass per step. The steps compute
        what they would one by one.
        """
        cfg = self.config
        assert self.buffer is not None
        if len(self.buffer) < cfg.batch_size:
            return
        frozen = cfg.target_update == "hard" and not cfg.noisy and not cfg.prioritized
        if not frozen or self._hand is None:
            for _ in range(steps):
                self._update(self.buffer.sample(cfg.batch_size))
            return
        rows = cfg.batch_size
        per_pass = max(1, TARGET_PASS_ROWS // rows)
        for first in range(0, steps, per_pass):
            count = min(per_pass, steps - first)
            stacked = self.buffer.sample_batches(rows, count)
            next_target = self._hand[1].forward(torch.as_tensor(stacked.next_observations))
            for i in range(count):
                part = slice(i * rows, (i + 1) * rows)
                self._update(stacked.rows(part), next_target[part])

    def _update(self, batch: ReplayBatch, next_target: torch.Tensor | None = None) -> None:
        """One gradient step on `batch` (`next_target`: the target network's output for its
        next observations, when already computed)."""
        cfg = self.config
        assert self.buffer is not None
        if cfg.noisy:
            self.online.reset_noise()
            self.target.reset_noise()
        margin = self.teacher_choices is not None and self.teacher_choices.size > 0
        if self._hand is not None and not margin:
            loss, td_errors = self._hand_gradient(batch, next_target)
        else:
            loss, td_errors = self.loss(batch, next_target)
            if margin:
                loss = loss + self._margin_loss()
            self.online_flat.zero_grad()
            loss.backward()
        self.optimizer.clipped_step(cfg.max_grad_norm)
        self.updates += 1
        if cfg.prioritized:
            self.buffer.update_priorities(batch.indices, td_errors.numpy())  # type: ignore[attr-defined]
        if cfg.target_update == "polyak":
            with torch.no_grad():
                self.target_flat.param.lerp_(self.online_flat.param, cfg.tau)
        self._loss_sum += float(loss.detach())
        self._loss_count += 1

    def _margin_loss(self) -> torch.Tensor:
        """The weighted large-margin loss on a batch of the teacher's choices (autograd)."""
        start, choices = self.config.teacher_start, self.teacher_choices
        assert start is not None and choices is not None
        obs, actions, masks = choices.sample(self.config.batch_size, self.rng)
        q = self.online.q_values(obs)
        return start.margin_weight * large_margin_loss(q, actions, masks, start.margin)

    def loss(
        self, batch: ReplayBatch, next_target: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(importance-weighted mean loss, |TD error| per sample for priorities), through
        autograd: ``loss.backward()`` gives the online network's gradient. `next_target`:
        the target network's output for the next observations, if already computed."""
        obs = torch.as_tensor(batch.observations)
        next_obs = torch.as_tensor(batch.next_observations)
        out = self.online(obs)
        with torch.no_grad():
            next_online = self.online(next_obs) if self.config.double else None
            if next_target is None:
                next_target = self.target(next_obs)
        loss, td_errors, _ = self._td_loss(batch, out, next_online, next_target)
        return loss, td_errors

    def _hand_gradient(
        self, batch: ReplayBatch, next_target: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`loss`, with the online network's gradient set without autograd: the networks run
        forward and backward by hand (`HandQNetwork`) from the loss gradient with respect to
        their output, which `_td_loss` writes out. The states and next states share one pass
        of the online network."""
        assert self._hand is not None
        online, target = self._hand
        obs = torch.as_tensor(batch.observations)
        next_obs = torch.as_tensor(batch.next_observations)
        rows = obs.shape[0]
        tape: list = []
        outputs = online.forward(torch.cat([obs, next_obs]) if self.config.double else obs, tape)
        next_online = outputs[rows:] if self.config.double else None
        if next_target is None:
            next_target = target.forward(next_obs)
        loss, td_errors, out_grad = self._td_loss(
            batch, outputs[:rows], next_online, next_target, out_grad=True
        )
        assert out_grad is not None
        self.online_flat.restore_grad_views()  # the backward pass overwrites every gradient
        online.backward(out_grad, tape, rows)
        return loss, td_errors

    def _td_loss(
        self,
        batch: ReplayBatch,
        out: torch.Tensor,
        next_online: torch.Tensor | None,
        next_target: torch.Tensor,
        out_grad: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The loss of the online network's output `out` for the batch's states, given both
        networks' outputs for its next states (the online one for double DQN only): (mean
        loss, |TD error| per sample, and with `out_grad` d(loss)/d(out), else None)."""
        cfg = self.config
        actions = torch.as_tensor(batch.actions)
        rewards = torch.as_tensor(batch.rewards)
        discounts = torch.as_tensor(batch.discounts)
        weights = torch.as_tensor(batch.weights)
        next_mask = (
            None if batch.next_action_masks is None else torch.as_tensor(batch.next_action_masks)
        )
        grad = None
        if cfg.distributional:
            rows = torch.arange(len(actions))
            log_probs = out[rows, actions]  # [B, Z]
            with torch.no_grad():
                next_target_probs = next_target.exp()  # [B, A, Z]
                support = self.target.support
                next_q_target = (next_target_probs * support).sum(-1)
                next_q_online = (
                    None if next_online is None else self.online.head.q_values(next_online)  # type: ignore[operator]
                )
                best = bootstrap_actions(next_q_target, next_q_online, next_mask)
                next_probs = next_target_probs[torch.arange(len(best)), best]
                target = categorical_projection(rewards, discounts, next_probs, support)
            per_sample = -(target * log_probs).sum(-1)
            td_errors = per_sample.detach()
            if out_grad:  # d/d log p of -sum(target * log p), weighted, batch mean
                grad = torch.zeros_like(out)
                grad[rows, actions] = target * (weights / -len(actions))[:, None]
        else:
            q = out.gather(1, actions[:, None]).squeeze(1)
            with torch.no_grad():
                target = q_targets(rewards, discounts, next_target, next_online, next_mask)
            per_sample = value_loss(q, target, cfg.loss)
            error = (q - target).detach()
            td_errors = error.abs()
            if out_grad:
                per_q = value_loss_grad(error, cfg.loss).mul_(weights / len(actions))
                grad = torch.zeros_like(out).scatter_(1, actions[:, None], per_q[:, None])
        return (weights * per_sample).mean(), td_errors, grad

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
        return {
            "online": self.online.state_dict(),
            "target": self.target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": self.rng.bit_generator.state,
            "torch_rng": self.torch_rng.get_state(),
            "env_steps": self.env_steps,
            "updates": self.updates,
            "collector": self._collector,
            "replay": self.buffer.state_dict()
            if self.buffer is not None and self.config.save_replay
            else None,
            "teacher_choices": None
            if self.teacher_choices is None
            else self.teacher_choices.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.online.load_state_dict(state["online"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.rng.bit_generator.state = state["rng"]
        self.torch_rng.set_state(state["torch_rng"])
        self.env_steps, self.updates = state["env_steps"], state["updates"]
        self._collector = dict(state["collector"])
        choices = state.get("teacher_choices")
        start = self.config.teacher_start
        if choices is not None and start is not None:
            self.teacher_choices = TeacherChoices(
                start.steps + start.anneal, self.observation_space, self.n_actions,
                with_masks=choices["masks"] is not None,
            )  # fmt: skip
            self.teacher_choices.load_state_dict(choices)
        if state.get("replay") is not None:
            with_masks = self._collector.get("masks") is not None
            # The seed is irrelevant: the buffer's own generator state is restored next.
            self.buffer = self._make_buffer(self.config.num_envs, with_masks, seed=0)
            self.buffer.load_state_dict(state["replay"])
