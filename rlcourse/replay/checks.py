"""Argument checks shared by the replay modules, and `StepFormat`, the check of the vector-env
step that a buffer's `add` takes; each error names the argument at fault."""

from __future__ import annotations

import math
import numbers
from typing import Any

import gymnasium as gym
import numpy as np

INT64, FLOAT32, FLOAT64 = np.dtype(np.int64), np.dtype(np.float32), np.dtype(np.float64)
BOOL = np.dtype(bool)


def positive_int(value: Any, name: str) -> int:
    """`value` as an int, or a ValueError naming `name` unless it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def in_range(value: Any, name: str, low: float, high: float) -> float:
    """`value` as a float, or a ValueError naming `name` unless low <= value <= high."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    if not low <= float(value) <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    return float(value)


def index_array(indices: Any, name: str, size: int) -> np.ndarray:
    """`indices` as a 1-D int64 array, or a ValueError unless every entry is in [0, size)."""
    array = np.asarray(indices)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False)
    if array.size and (array.min() < 0 or array.max() >= size):
        raise ValueError(
            f"{name} must lie in [0, {size}), got values from {array.min()} to {array.max()}"
        )
    return array


class StepFormat:
    """What `ReplayBuffer.add` accepts: one step of `num_envs` envs, each argument checked and
    converted to the stored dtype (observations of the space's dtype, int64 for a Discrete
    space; int64 actions, or float32 vectors for a Box action space; float64 rewards; bool
    flags and masks)."""

    def __init__(
        self,
        observation_space: gym.spaces.Box | gym.spaces.Discrete,
        num_envs: int,
        action_mask_size: int | None,
        action_space: gym.spaces.Box | gym.spaces.Discrete | None = None,
    ):
        if isinstance(observation_space, gym.spaces.Discrete):
            self.observation_shape: tuple[int, ...] = ()
            self.observation_dtype: np.dtype[Any] = np.dtype(np.int64)
        elif isinstance(observation_space, gym.spaces.Box):
            self.observation_shape = tuple(observation_space.shape)
            self.observation_dtype = np.dtype(observation_space.dtype)
        else:
            raise TypeError(
                f"observation_space must be a gymnasium Box or Discrete space, "
                f"got {observation_space!r}"
            )
        if action_space is None or isinstance(action_space, gym.spaces.Discrete):
            self.action_shape: tuple[int, ...] = ()
            self.action_dtype: np.dtype[Any] = INT64
        elif isinstance(action_space, gym.spaces.Box):
            self.action_shape, self.action_dtype = tuple(action_space.shape), FLOAT32
        else:
            raise TypeError(
                f"action_space must be a gymnasium Discrete or Box space, got {action_space!r}"
            )
        self.num_envs, self.action_mask_size = num_envs, action_mask_size
        self._step_shape = (num_envs, *self.observation_shape)  # of obs and next_obs
        self._env_shape = (num_envs,)  # of rewards, terminated, truncated (and Discrete actions)
        self._action_shape = (num_envs, *self.action_shape)
        # obs, next_obs, actions, rewards, terminated, truncated that need no conversion
        obs_shape, obs_dtype = self._step_shape, self.observation_dtype
        self._plain_shapes = (obs_shape, obs_shape, self._action_shape) + (self._env_shape,) * 3
        self._plain_dtypes = (obs_dtype, obs_dtype, self.action_dtype, FLOAT64, BOOL, BOOL)

    def is_plain(
        self, obs: Any, actions: Any, rewards: Any, next_obs: Any, terminated: Any, truncated: Any
    ) -> bool:
        """Whether a one-env step is arrays that the checks below would pass unchanged:
        observations of the stored shape and dtype, actions of the stored shape and dtype
        (int64, or float32 vectors; finite), a finite float64 reward and bool flags. Attribute
        checks (and one finiteness check of a vector action), cheaper than the checks."""
        return (
            type(obs) is type(next_obs) is type(actions) is type(rewards) is type(terminated)
            is type(truncated) is np.ndarray
            and (obs.shape, next_obs.shape, actions.shape, rewards.shape, terminated.shape,
                 truncated.shape) == self._plain_shapes
            and (obs.dtype, next_obs.dtype, actions.dtype, rewards.dtype, terminated.dtype,
                 truncated.dtype) == self._plain_dtypes
            and math.isfinite(rewards.item())
            and (actions.dtype == INT64 or bool(np.isfinite(actions).all()))
        )  # fmt: skip

    def observations(self, value: Any, name: str) -> np.ndarray:
        """[num_envs, *observation_shape] in the stored dtype."""
        array = np.asarray(value)
        expected = self._step_shape
        if array.shape != expected:
            raise ValueError(
                f"{name} must have shape {expected} (num_envs, *observation shape), "
                f"got {array.shape}"
            )
        return _stored_as(array, self.observation_dtype, name)

    def actions(self, value: Any) -> list[int] | np.ndarray:
        """Discrete actions as a list of ints; Box actions as a float32 [num_envs, *shape] array
        of finite values."""
        if not self.action_shape and self.action_dtype == INT64:
            actions = self._per_env(value, "actions", "iu")
            return (actions if actions.dtype == np.int64 else actions.astype(np.int64)).tolist()
        array = np.asarray(value)
        if array.shape != self._action_shape or array.dtype.kind not in "biuf":
            raise ValueError(
                f"actions must be numbers of shape {self._action_shape} (num_envs, *action "
                f"shape), got {array.dtype} {array.shape}"
            )
        if not np.isfinite(array).all():
            raise ValueError(f"actions must be finite, got {array}")
        return array.astype(FLOAT32)

    def one_action(self, actions: np.ndarray) -> int | np.ndarray:
        """The action of a plain one-env step (see `is_plain`): an int, or a copied vector."""
        return actions.item() if self.action_dtype == INT64 else actions[0].copy()

    def rewards(self, value: Any) -> list[float]:
        rewards = self._per_env(value, "rewards", "biuf")
        if rewards.dtype != np.float64:
            rewards = rewards.astype(np.float64)
        as_floats = rewards.tolist()
        if not all(map(math.isfinite, as_floats)):
            raise ValueError(f"rewards must be finite, got {rewards}")
        return as_floats

    def flags(self, value: Any, name: str) -> list[bool]:
        return self._per_env(value, name, "b").tolist()

    def masks(self, value: Any) -> np.ndarray | None:
        """[num_envs, action_mask_size] bool, or None for a buffer made without masks."""
        if self.action_mask_size is None:
            if value is not None:
                raise ValueError(
                    "next_action_masks given, but the buffer was made without action_mask_size"
                )
            return None
        if value is None:
            raise ValueError(
                f"next_action_masks is required: the buffer was made with action_mask_size="
                f"{self.action_mask_size}"
            )
        masks = np.asarray(value)
        expected = (self.num_envs, self.action_mask_size)
        if masks.shape != expected or masks.dtype != bool:
            raise ValueError(
                f"next_action_masks must be a bool array of shape {expected}, "
                f"got {masks.dtype} {masks.shape}"
            )
        return masks

    def _per_env(self, value: Any, name: str, kinds: str) -> np.ndarray:
        array = value if type(value) is np.ndarray else np.asarray(value)
        if array.shape != self._env_shape:
            raise ValueError(f"{name} must have shape ({self.num_envs},), got {array.shape}")
        if array.dtype.kind not in kinds:
            wanted = "bool" if kinds == "b" else "integer" if kinds == "iu" else "real numbers"
            raise ValueError(f"{name} must hold {wanted}, got dtype {array.dtype}")
        return array


def _stored_as(array: np.ndarray, dtype: np.dtype, name: str) -> np.ndarray:
    """`array` converted to the storage `dtype`, refusing conversions that would change values
    (floats into integers, integers outside the storage range)."""
    if array.dtype == dtype:
        return array
    if dtype.kind in "iu":
        if array.dtype.kind not in "biu":
            raise ValueError(
                f"{name} must hold integers to be stored as {dtype}, got {array.dtype}"
            )
        info = np.iinfo(dtype)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise ValueError(f"{name} has values outside the range of {dtype}")
    elif dtype.kind == "b" and array.dtype.kind != "b":
        raise ValueError(f"{name} must hold bools, got {array.dtype}")
    elif array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers, got {array.dtype}")
    return array.astype(dtype)
