"""Argument checks shared by the replay modules, and `StepFormat`, the check of the vector-env
step that a buffer's `add` takes; each error names the argument at fault."""

from __future__ import annotations

import math
import numbers
from typing import Any

import gymnasium as gym
import numpy as np

INT64, FLOAT64, BOOL = np.dtype(np.int64), np.dtype(np.float64), np.dtype(bool)


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
    space; int64 actions; float64 rewards; bool flags and masks)."""

    def __init__(
        self,
        observation_space: gym.spaces.Box | gym.spaces.Discrete,
        num_envs: int,
        action_mask_size: int | None,
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
        self.num_envs, self.action_mask_size = num_envs, action_mask_size
        self._step_shape = (num_envs, *self.observation_shape)  # of obs and next_obs
        self._env_shape = (num_envs,)  # of actions, rewards, terminated, truncated
        # obs, next_obs, actions, rewards, terminated, truncated that need no conversion
        self._plain_shapes = (self._step_shape,) * 2 + (self._env_shape,) * 4
        self._plain_dtypes = (self.observation_dtype,) * 2 + (INT64, FLOAT64, BOOL, BOOL)

    def is_plain(
        self, obs: Any, actions: Any, rewards: Any, next_obs: Any, terminated: Any, truncated: Any
    ) -> bool:
        """Whether a one-env step is arrays that the checks below would pass unchanged:
        observations of the stored shape and dtype, int64 actions, a finite float64 reward and
        bool flags. Attribute checks only, cheaper than the checks themselves."""
        return (
            type(obs) is type(next_obs) is type(actions) is type(rewards) is type(terminated)
            is type(truncated) is np.ndarray
            and (obs.shape, next_obs.shape, actions.shape, rewards.shape, terminated.shape,
                 truncated.shape) == self._plain_shapes
            and (obs.dtype, next_obs.dtype, actions.dtype, rewards.dtype, terminated.dtype,
                 truncated.dtype) == self._plain_dtypes
            and math.isfinite(rewards.item())
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

    def actions(self, value: Any) -> list[int]:
        actions = self._per_env(value, "actions", "iu")
        return (actions if actions.dtype == np.int64 else actions.astype(np.int64)).tolist()

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
