"""Vector envs with an explicit autoreset mode, and the helpers learners need around them.

Every learner collects through `make_vector_env` (a SyncVectorEnv, or an AsyncVectorEnv with one
subprocess per env), which uses Gymnasium's SAME_STEP autoreset:
when a sub-env's episode ends, `step` already returns the next episode's first observation
and puts the true last observation in ``info["final_obs"]``. `true_next_observations` puts
those back, so that a transition is never paired with the reset observation of the next
episode (bootstrapping through a truncation must use the real final state).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np


def make_vector_env(
    env_factory: Callable[[], gym.Env], num_envs: int, asynchronous: bool = False
) -> gym.vector.VectorEnv:
    """`num_envs` copies of `env_factory()`, stepped in this process or (`asynchronous`) in one
    subprocess each; the same seeds give the same observations either way."""
    if num_envs < 1:
        raise ValueError(f"num_envs must be at least 1, got {num_envs}")
    factories = [env_factory for _ in range(num_envs)]
    mode = gym.vector.AutoresetMode.SAME_STEP
    if asynchronous:
        return gym.vector.AsyncVectorEnv(factories, autoreset_mode=mode)
    return gym.vector.SyncVectorEnv(factories, autoreset_mode=mode)


def observation_part(space: gym.Space) -> gym.Space:
    """The space of what a network sees: the "observation" entry of a masked Dict space."""
    if isinstance(space, gym.spaces.Dict) and "observation" in space.spaces:
        return space.spaces["observation"]
    return space


def split_observation(
    obs: Any, info: Mapping[str, Any] | None = None
) -> tuple[Any, np.ndarray | None]:
    """(network input, action mask or None) of a plain or {"observation", "action_mask"} obs;
    a plain obs takes its mask from the step's ``info["action_mask"]`` when given."""
    mask = None
    if isinstance(obs, Mapping) and "observation" in obs:
        obs, mask = obs["observation"], obs.get("action_mask")
    if mask is None and info is not None:
        mask = info.get("action_mask")
    return obs, None if mask is None else np.asarray(mask, dtype=bool)


def true_next_observations(
    next_obs: np.ndarray, infos: Mapping[str, Any], done: np.ndarray
) -> np.ndarray:
    """`next_obs` with the rows of finished sub-envs replaced by their final observations."""
    if not done.any():
        return next_obs
    fixed = np.array(next_obs, copy=True)
    for i in np.flatnonzero(done):
        fixed[i] = infos["final_obs"][i]
    return fixed


def action_masks(infos: Mapping[str, Any], num_envs: int, n_actions: int) -> np.ndarray | None:
    """[num_envs, n_actions] bool masks from vector infos, or None if the env gives none."""
    if "action_mask" not in infos:
        return None
    masks = np.asarray(infos["action_mask"], dtype=bool).reshape(num_envs, n_actions)
    present = infos.get("_action_mask")
    if present is not None and not np.all(present):
        masks = np.where(np.asarray(present)[:, None], masks, True)
    return masks


def next_action_masks(
    infos: Mapping[str, Any], done: np.ndarray, num_envs: int, n_actions: int
) -> np.ndarray | None:
    """Masks of the true next states: the final step's masks for finished sub-envs."""
    masks = action_masks(infos, num_envs, n_actions)
    if masks is None or not done.any():
        return masks
    final = action_masks(infos.get("final_info", {}), num_envs, n_actions)
    if final is not None:
        masks = np.where(done[:, None], final, masks)
    return masks
