"""DQN's teacher start: who acts at each env step while a teacher hands over, and the extra loss.

Replay buffer spiking (Lipton et al. 2018): the teacher picks the actions of the first
`steps` env steps, then of a share of them that falls linearly to 0 over `anneal` steps
(`TeacherStart.share`); their transitions are stored and learned from like any other.
With `margin_weight` > 0 the teacher's (observation, action) pairs are also kept, and every
update adds DQfD's large-margin loss (Hester et al. 2018, `losses.large_margin_loss`) on a
batch of them, so that Q ranks the teacher's action first unless the returns say otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agents.base import EnvFactory
from agents.dqn.config import TeacherStart
from agents.dqn.losses import QFunction, large_margin_loss
from agents.teachers import Teacher, TeacherSpec, make_teacher, reads_true_state

#: (observations [N, ...], action masks [N, A] or None) -> actions [N]
Actor = Callable[[np.ndarray, np.ndarray | None], np.ndarray]


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


class WarmStart:
    """The teacher start (`config.teacher_start`) of one DQN agent: `actions` says who acts,
    `margin_loss` adds DQfD's term. Draws its randomness from the agent's generator `rng`."""

    def __init__(
        self, config: TeacherStart, space: gym.spaces.Box | gym.spaces.Discrete,
        n_actions: int, rng: np.random.Generator,
    ):  # fmt: skip
        self.config, self.space, self.n_actions, self.rng = config, space, n_actions, rng
        self.teacher: Teacher | None = None  # built by `begin`
        self.choices: TeacherChoices | None = None  # kept for the large-margin loss

    def begin(self, env_factory: EnvFactory, env_steps: int, with_masks: bool) -> None:
        """Build the teacher if it still has steps to play, and the store of its choices."""
        if self.config.share(env_steps) > 0:
            self.teacher = _make_teacher(self.config.teacher, env_factory)
        if self.config.margin_weight > 0 and self.choices is None:
            self._new_choices(with_masks)

    def actions(
        self, obs: np.ndarray, masks: np.ndarray | None, env_steps: int, learner: Actor
    ) -> np.ndarray:
        """The actions [N] of env step `env_steps` for observations [N, ...]: the teacher's
        with probability `share`, else the `learner`'s."""
        n, share = len(obs), self.config.share(env_steps)
        if share >= 1.0:
            actions, taught = self._teacher_actions(obs, masks), np.ones(n, dtype=bool)
        else:
            actions = learner(obs, masks)
            taught = np.zeros(n, dtype=bool)
            if share > 0.0:
                taught = self.rng.random(n) < share
                actions = np.where(taught, self._teacher_actions(obs, masks), actions)
        if self.choices is not None and taught.any():
            self.choices.add(obs[taught], actions[taught], None if masks is None else masks[taught])
        return actions

    def margin_loss(self, online: QFunction, batch_size: int) -> torch.Tensor | None:
        """The weighted large-margin loss of `online` on `batch_size` of the teacher's choices;
        None before there are any (or with `margin_weight` 0)."""
        if self.choices is None or self.choices.size == 0:
            return None
        obs, actions, masks = self.choices.sample(batch_size, self.rng)
        q = online.expected(online(obs))
        return self.config.margin_weight * large_margin_loss(q, actions, masks, self.config.margin)

    def _teacher_actions(self, obs: np.ndarray, masks: np.ndarray | None) -> np.ndarray:
        assert self.teacher is not None, "begin() builds the teacher"
        infos = [{} if masks is None else {"action_mask": masks[i]} for i in range(len(obs))]
        return np.array([self.teacher.act(o, info) for o, info in zip(obs, infos, strict=True)])

    def _new_choices(self, with_masks: bool) -> None:
        capacity = self.config.steps + self.config.anneal
        self.choices = TeacherChoices(capacity, self.space, self.n_actions, with_masks)

    def state_dict(self) -> dict[str, Any] | None:
        return None if self.choices is None else self.choices.state_dict()

    def load_state_dict(self, state: Mapping[str, Any] | None) -> None:
        if state is not None:
            self._new_choices(with_masks=state["masks"] is not None)
            assert self.choices is not None
            self.choices.load_state_dict(state)


def _make_teacher(spec: TeacherSpec, env_factory: EnvFactory) -> Teacher:
    """The teacher `spec` names, built for one env of the factory's; it must act on
    observations, since a vector env hides the true state."""
    env = env_factory()
    teacher = make_teacher(spec, env)
    if reads_true_state(teacher):
        env.close()
        raise ValueError(f"teacher {spec!r} reads the true state, which a vector env hides")
    return teacher
