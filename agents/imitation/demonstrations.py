"""Demonstrations: episodes played while a teacher labels every step, and their batching."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from agents.teachers import Teacher, reset_state
from rlcourse.mdp import TabularMDP


class Demonstration(NamedTuple):
    """One episode: what was observed and what the teacher chose there."""

    observations: np.ndarray  # [T, *obs_shape]
    actions: np.ndarray  # [T] int64, the teacher's actions (not always the executed ones)
    masks: np.ndarray | None  # [T, A] bool action masks, None when the env gives none
    episode_return: float  # undiscounted return of the executed actions


def action_mask(info: Mapping[str, Any]) -> np.ndarray | None:
    """The boolean action mask [A] in `info`, or None when the env gives none."""
    mask = info.get("action_mask")
    return None if mask is None else np.asarray(mask, dtype=bool)


def non_terminal_states(env: gym.Env) -> np.ndarray:
    """The states [K] of the env's model that an episode may start in (exploring starts)."""
    try:
        mdp = TabularMDP.from_env(env)
    except TypeError as exc:
        raise TypeError(f"start_states: uniform needs an env with a model: {exc}") from None
    return np.flatnonzero(~mdp.terminal)


def record_episode(
    env: gym.Env,
    teacher: Teacher,
    rng: np.random.Generator,
    exploration: float = 0.0,
    start_states: np.ndarray | None = None,
    driver: Teacher | None = None,
) -> Demonstration:
    """Play one episode from ``env.reset()`` (no seed), recording the teacher's choices.

    With probability `exploration` a uniformly random legal action is executed instead. With
    `start_states` [K] the episode starts in one of them drawn by `rng`
    (``env.reset(options={"state": s})``). `driver` (default: the teacher) chooses the actions
    that are executed, the teacher's are recorded; both are asked at every step.
    """
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    reset_state(teacher)
    if driver is not None:
        reset_state(driver)
    if start_states is None:
        obs, info = env.reset()
    else:
        obs, info = env.reset(options={"state": int(rng.choice(start_states))})
    observations, actions, masks = [], [], []
    total, done = 0.0, False
    while not done:
        label = teacher.act(obs, info)
        mask = action_mask(info)
        executed = label if driver is None else driver.act(obs, info)
        if exploration > 0.0 and rng.random() < exploration:
            legal = np.flatnonzero(mask) if mask is not None else np.arange(n_actions)
            executed = int(rng.choice(legal))
        observations.append(obs)
        actions.append(label)
        masks.append(mask)
        obs, reward, terminated, truncated, info = env.step(executed)
        total += float(reward)
        done = terminated or truncated
    has_masks = any(m is not None for m in masks)
    return Demonstration(
        np.asarray(observations),
        np.asarray(actions, dtype=np.int64),
        np.stack([np.ones(n_actions, bool) if m is None else m for m in masks])
        if has_masks
        else None,
        total,
    )


def collect_demonstrations(
    env: gym.Env,
    teacher: Teacher,
    episodes: int,
    rng: np.random.Generator,
    exploration: float = 0.0,
    start_states: np.ndarray | None = None,
    driver: Teacher | None = None,
) -> list[Demonstration]:
    """`episodes` recorded episodes (seed the env with ``env.reset(seed=...)`` first)."""
    return [
        record_episode(env, teacher, rng, exploration, start_states, driver)
        for _ in range(episodes)
    ]


def stack_demonstrations(
    demos: Sequence[Demonstration],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """All steps of `demos`: observations [N, ...], actions [N], masks [N, A] or None."""
    if not demos:
        raise ValueError("no demonstrations to stack")
    observations = np.concatenate([d.observations for d in demos])
    actions = np.concatenate([d.actions for d in demos])
    if all(d.masks is None for d in demos):
        return observations, actions, None
    n = max(d.masks.shape[1] for d in demos if d.masks is not None)
    masks = np.concatenate(
        [d.masks if d.masks is not None else np.ones((len(d.actions), n), bool) for d in demos]
    )
    return observations, actions, masks


def pad_demonstrations(
    demos: Sequence[Demonstration],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """`demos` as sequences padded to the longest episode: observations [E, T, ...], actions
    [E, T], masks [E, T, A] or None, and which steps are real [E, T] (padding: zero
    observations, action 0, every action legal)."""
    if not demos:
        raise ValueError("no demonstrations to pad")
    steps = max(len(d.actions) for d in demos)
    first = demos[0].observations
    observations = np.zeros((len(demos), steps, *first.shape[1:]), dtype=first.dtype)
    actions = np.zeros((len(demos), steps), dtype=np.int64)
    valid = np.zeros((len(demos), steps), dtype=bool)
    has_masks = any(d.masks is not None for d in demos)
    n = max((d.masks.shape[1] for d in demos if d.masks is not None), default=0)
    masks = np.ones((len(demos), steps, n), dtype=bool) if has_masks else None
    for i, demo in enumerate(demos):
        length = len(demo.actions)
        observations[i, :length] = demo.observations
        actions[i, :length] = demo.actions
        valid[i, :length] = True
        if masks is not None and demo.masks is not None:
            masks[i, :length] = demo.masks
    return observations, actions, masks, valid
