"""Replay storage for value-based agents: uniform and prioritized replay with n-step returns.

`ReplayBuffer.add` takes one vector-env step (leading dimension `num_envs`) and `sample` returns
a `ReplayBatch` of n-step transitions (see `rlcourse.replay.nstep` for the reward and discount
of windows cut short by an episode end). `len(buffer)` counts the transitions that can be
sampled; the newest `capacity` of them are kept, in the order they were completed.

Each observation is stored once (`rlcourse.replay.frames`): the `next_obs` of step t is the
`obs` of step t+1 of the same env, so it is not stored again, and a final observation is kept
in addition when an episode ends. `add` checks that claim and refuses an `obs` that differs from
the `next_obs` of the previous step while that env's episode went on. Frames use about
`capacity` slots plus a small margin (they grow only when episodes are very short), not the
2 x capacity of storing both ends of every transition.

A frame slot is reused only once no stored transition refers to it. Transitions are evicted in
the order they were completed, which gives the rule: an evicted transition frees its own first
observation (the one transition that ends there was completed, and so evicted, before it), and
the last transition of an episode also frees the episode's final observation (which only the
transitions flushed with it refer to, all completed just before it).

`PrioritizedReplayBuffer` samples transition i with probability p_i / sum_j p_j, where
p = (|td error| + epsilon)**alpha (new transitions get the largest p seen so far), one draw from
each of `batch_size` equal segments of the total, and weighs it by
w_i = (N * P(i))**-beta / max_j w_j.

Randomness comes only from the buffer's own seeded generator, and `state_dict` holds all of
the contents, the open n-step windows and the generator state, so a reloaded buffer samples
exactly as the original would have.
"""

from __future__ import annotations

import copy
import math
import numbers
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from rlcourse.replay.checks import in_range, index_array, positive_int
from rlcourse.replay.frames import FrameStore
from rlcourse.replay.nstep import ClosedWindow, NStepWindows
from rlcourse.replay.sum_tree import SumTree

# Frame slots beyond `capacity`: each stored episode end keeps its final observation (1/64 of
# capacity covers episodes of 64 steps or more); each env holds the first frames of its open
# windows (fewer than n_step), its latest frame, and the frame that `add` writes before
# evictions give old ones back.
EPISODE_END_MARGIN = 1 / 64
INT64, FLOAT64, BOOL = np.dtype(np.int64), np.dtype(np.float64), np.dtype(bool)


class ReplayBatch(NamedTuple):
    """B sampled transitions, field by field."""

    observations: np.ndarray  # [B, *obs_shape], the stored dtype (int64 for Discrete spaces)
    actions: np.ndarray  # [B] int64
    rewards: np.ndarray  # [B] float32: the n-step discounted reward sum R_t^(n)
    next_observations: np.ndarray  # [B, *obs_shape]: n steps later, or the episode's final one
    discounts: np.ndarray  # [B] float32: gamma**k for the k steps taken, 0 if terminated
    next_action_masks: np.ndarray | None  # [B, A] bool: legal actions at next_observations
    weights: np.ndarray  # [B] float32 importance weights (all 1 for uniform replay)
    indices: np.ndarray  # [B] int64 storage indices (for update_priorities)

    def rows(self, part: slice) -> ReplayBatch:
        """The transitions in rows `part` (views, not copies)."""
        return ReplayBatch._make(None if field is None else field[part] for field in self)


class ReplayBuffer:
    """The newest `capacity` n-step transitions of `num_envs` envs, sampled uniformly."""

    def __init__(
        self,
        capacity: int,
        observation_space: gym.spaces.Box | gym.spaces.Discrete,
        num_envs: int = 1,
        n_step: int = 1,
        gamma: float = 0.99,
        action_mask_size: int | None = None,
        seed: int | None = None,
    ):
        self.capacity = positive_int(capacity, "capacity")
        self.num_envs = positive_int(num_envs, "num_envs")
        self.n_step = positive_int(n_step, "n_step")
        self.gamma = in_range(gamma, "gamma", 0.0, 1.0)
        self.action_mask_size = (
            None if action_mask_size is None else positive_int(action_mask_size, "action_mask_size")
        )
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
        self._step_shape = (self.num_envs, *self.observation_shape)  # of obs and next_obs
        self._env_shape = (self.num_envs,)  # of actions, rewards, terminated, truncated
        # obs, next_obs, actions, rewards, terminated, truncated as `add` converts them
        self._plain_shapes = (self._step_shape,) * 2 + (self._env_shape,) * 4
        self._plain_dtypes = (self.observation_dtype,) * 2 + (INT64, FLOAT64, BOOL, BOOL)
        self._rng = np.random.default_rng(seed)

        slots = (
            self.capacity
            + int(self.capacity * EPISODE_END_MARGIN)
            + self.num_envs * (self.n_step + 1)
        )
        self._frames = FrameStore(
            self.observation_shape, self.observation_dtype, slots, self.action_mask_size
        )
        self._windows = NStepWindows(self.num_envs, self.n_step, self.gamma)
        # the frame slot of each env's latest observation while its episode goes on, else -1
        self._current = [-1] * self.num_envs

        self._obs_slot = np.zeros(self.capacity, dtype=np.int64)
        self._next_slot = np.zeros(self.capacity, dtype=np.int64)
        self._owns_next = np.zeros(self.capacity, dtype=bool)  # the last of its episode
        self._action = np.zeros(self.capacity, dtype=np.int64)
        self._reward = np.zeros(self.capacity, dtype=np.float32)
        self._discount = np.zeros(self.capacity, dtype=np.float32)
        self._position = 0  # where the next transition goes
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def frame_store(self) -> FrameStore:
        """Where the observations live (read-only use: its arrays and sizes)."""
        return self._frames

    @property
    def nbytes(self) -> int:
        """Bytes held by the stored observations, masks and transitions."""
        transitions = (
            self._obs_slot, self._next_slot, self._owns_next, self._action, self._reward,
            self._discount,
        )  # fmt: skip
        return self._frames.nbytes + sum(array.nbytes for array in transitions)

    def add(
        self,
        obs: Any,
        actions: Any,
        rewards: Any,
        next_obs: Any,
        terminated: Any,
        truncated: Any,
        next_action_masks: Any = None,
    ) -> None:
        """One vector-env step: arrays with leading dimension num_envs.

        `next_obs` is each env's true next observation: for an env whose episode ended at this
        step, its final observation (not the reset observation that follows it). The next
        call's `obs` must equal this call's `next_obs` for every env whose episode went on.
        `next_action_masks` ([num_envs, A] bool, the legal actions at `next_obs`) is required
        when the buffer was made with `action_mask_size`, refused otherwise.

        With one env, a step given as arrays that need no conversion (observations of the
        stored dtype, int64 actions, float64 rewards, bool flags) takes a shorter path to the
        same result.
        """
        if self.num_envs == 1 and self._needs_no_conversion(
            obs, actions, rewards, next_obs, terminated, truncated
        ):  # the usual step: nothing to convert, and plain numbers instead of lists
            self._add_to_one_env(
                obs, actions.item(), rewards.item(), next_obs, terminated.item(),
                truncated.item(), self._masks(next_action_masks),
            )  # fmt: skip
            return
        obs = self._observations(obs, "obs")
        next_obs = self._observations(next_obs, "next_obs")
        actions = self._actions(actions)
        rewards = self._rewards(rewards)
        terminated = self._per_env(terminated, "terminated", "b").tolist()
        truncated = self._per_env(truncated, "truncated", "b").tolist()
        masks = self._masks(next_action_masks)
        self._check_continuing(obs)

        # a continuing env's latest frame is the first observation of its next window
        obs_slot = self._current if -1 not in self._current else self._first_frames(obs)
        next_slot = self._frames.write(next_obs, masks)
        ended = list(map(operator.or_, terminated, truncated))
        closed = self._windows.push(obs_slot, actions, rewards, terminated, ended)
        self._store_windows(closed, next_slot)
        if True in ended:
            next_slot = [-1 if end else slot for slot, end in zip(next_slot, ended, strict=True)]
        self._current = next_slot

    def sample(self, batch_size: int) -> ReplayBatch:
        """`batch_size` transitions drawn uniformly, with replacement."""
        batch_size = self._check_batch_size(batch_size)
        return self.gather(self._rng.integers(self._size, size=batch_size))

    def sample_batches(self, batch_size: int, count: int) -> ReplayBatch:
        """`count` batches of `batch_size` drawn at once and stacked: rows
        ``[i * batch_size, (i + 1) * batch_size)`` are the i-th, distributed as `count` calls
        of `sample` with nothing added in between would draw them."""
        batch_size = self._check_batch_size(batch_size)
        count = positive_int(count, "count")
        return self.gather(self._rng.integers(self._size, size=batch_size * count))

    def gather(self, indices: Any) -> ReplayBatch:
        """The transitions at storage `indices` (in [0, len)), with weights 1."""
        indices = index_array(indices, "indices", self._size)
        obs_slot, next_slot = self._obs_slot[indices], self._next_slot[indices]
        masks = self._frames.masks
        return ReplayBatch(
            observations=self._frames.frames[obs_slot],
            actions=self._action[indices],
            rewards=self._reward[indices],
            next_observations=self._frames.frames[next_slot],
            discounts=self._discount[indices],
            next_action_masks=None if masks is None else masks[next_slot],
            weights=np.ones(len(indices), dtype=np.float32),
            indices=indices,
        )

    def state_dict(self) -> dict[str, Any]:
        """A copy of everything needed to resume: settings, contents, open windows, RNG."""
        return {
            "settings": self._settings(),
            "rng": copy.deepcopy(self._rng.bit_generator.state),
            "frames": self._frames.state_dict(),
            "windows": self._windows.state_dict(),
            "current": list(self._current),
            "transitions": {
                "obs_slot": self._obs_slot.copy(),
                "next_slot": self._next_slot.copy(),
                "owns_next": self._owns_next.copy(),
                "action": self._action.copy(),
                "reward": self._reward.copy(),
                "discount": self._discount.copy(),
            },
            "position": self._position,
            "size": self._size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned; the settings must match this buffer's."""
        mine, saved = self._settings(), state["settings"]
        differences = [
            f"{key}={saved.get(key)!r} (this buffer: {value!r})"
            for key, value in mine.items()
            if saved.get(key) != value
        ]
        if differences:
            raise ValueError("state was saved by a different buffer: " + ", ".join(differences))
        self._frames.load_state_dict(state["frames"])
        self._windows.load_state_dict(state["windows"])
        self._current = [int(slot) for slot in state["current"]]
        transitions = state["transitions"]
        self._obs_slot = np.array(transitions["obs_slot"], dtype=np.int64)
        self._next_slot = np.array(transitions["next_slot"], dtype=np.int64)
        self._owns_next = np.array(transitions["owns_next"], dtype=bool)
        self._action = np.array(transitions["action"], dtype=np.int64)
        self._reward = np.array(transitions["reward"], dtype=np.float32)
        self._discount = np.array(transitions["discount"], dtype=np.float32)
        self._position = int(state["position"])
        self._size = int(state["size"])
        self._rng.bit_generator.state = copy.deepcopy(state["rng"])

    # -- internals ------------------------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        return {
            "kind": type(self).__name__,
            "capacity": self.capacity,
            "num_envs": self.num_envs,
            "n_step": self.n_step,
            "gamma": self.gamma,
            "observation_shape": self.observation_shape,
            "observation_dtype": self.observation_dtype.str,
            "action_mask_size": self.action_mask_size,
        }

    def _add_to_one_env(
        self,
        obs: np.ndarray,
        action: int,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
        truncated: bool,
        masks: np.ndarray | None,
    ) -> None:
        """`add` for a buffer of one env, its arguments checked: the same steps on numbers."""
        obs_slot = self._current[0]
        if obs_slot < 0:
            obs_slot = self._frames.write(obs)[0]
        elif self._frames.frames[obs_slot].tobytes() != obs.tobytes():
            self._check_continuing(obs)  # refuses unless equal in value (0.0 and -0.0, NaNs)
        next_slot = self._frames.write(next_obs, masks)[0]
        ended = terminated or truncated
        closed = self._windows.push_env(0, obs_slot, action, reward, terminated, ended)
        if len(closed) == 1:  # as `_store_windows` would, one call sooner
            _, first_slot, first_action, reward_sum, discount, last = closed[0]
            self._store_one(first_slot, next_slot, last, first_action, reward_sum, discount)
        else:
            self._store_windows(closed, [next_slot])
        self._current = [-1 if ended else next_slot]

    def _first_frames(self, obs: np.ndarray) -> list[int]:
        """Each env's frame slot for `obs`: a continuing env's latest frame, else `obs` written
        now."""
        slots = list(self._current)
        starting = [env for env, slot in enumerate(slots) if slot < 0]
        if starting:
            written = self._frames.write(obs if len(starting) == self.num_envs else obs[starting])
            for env, slot in zip(starting, written, strict=True):
                slots[env] = slot
        return slots

    def _store_one(
        self,
        obs_slot: int,
        next_slot: int,
        owns_next: bool,
        action: int,
        reward: float,
        discount: float,
    ) -> None:
        """`_store` for a single transition, element by element."""
        position = self._position
        # until the buffer is full, `position` is the end of the contents: nothing to evict
        if self._size == self.capacity:
            evicted = self._obs_slot.item(position)
            if self._owns_next[position]:
                self._frames.free([evicted, self._next_slot.item(position)])
            else:
                self._frames.free([evicted])
        else:
            self._size += 1
        self._obs_slot[position] = obs_slot
        self._next_slot[position] = next_slot
        self._owns_next[position] = owns_next
        self._action[position] = action
        self._reward[position] = reward
        self._discount[position] = discount
        self._position = (position + 1) % self.capacity
        self._on_stored((position,))

    def _store_windows(self, closed: list[ClosedWindow], next_slot: list[int]) -> None:
        """Store the windows that one step closed; `next_slot`: each env's new frame."""
        if len(closed) == 1:  # the usual case: plain indexing, no arrays to build
            env, obs_slot, action, reward, discount, last = closed[0]
            self._store_one(obs_slot, next_slot[env], last, action, reward, discount)
            return
        if not closed:
            return
        envs, obs_slots, actions, rewards, discounts, lasts = zip(*closed, strict=True)
        self._store(
            np.array(obs_slots, dtype=np.int64),
            np.array([next_slot[e] for e in envs], dtype=np.int64),
            np.array(lasts, dtype=bool),
            np.array(actions, dtype=np.int64),
            np.array(rewards, dtype=np.float64),
            np.array(discounts, dtype=np.float64),
        )

    def _store(
        self,
        obs_slot: np.ndarray,
        next_slot: np.ndarray,
        owns_next: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        discount: np.ndarray,
    ) -> None:
        """Append completed transitions, evicting the oldest and freeing the frames they own."""
        if len(obs_slot) == 0:
            return
        dropped = max(len(obs_slot) - self.capacity, 0)  # more closed at once than fit:
        if dropped:  # as if written one by one, the first ones overwritten by the last
            self._position = (self._position + dropped) % self.capacity
            self._frames.free(_owned(obs_slot[:dropped], next_slot[:dropped], owns_next[:dropped]))
            obs_slot, next_slot, owns_next = (
                obs_slot[dropped:],
                next_slot[dropped:],
                owns_next[dropped:],
            )
            action, reward, discount = action[dropped:], reward[dropped:], discount[dropped:]
        start, count = self._position, len(obs_slot)
        positions: slice | np.ndarray
        evicted: slice | np.ndarray  # the positions among them that hold a transition
        stored: range | np.ndarray
        if start + count <= self.capacity:  # no wrap-around: slices, cheaper than index arrays
            positions, stored = slice(start, start + count), range(start, start + count)
            evicted = slice(start, min(start + count, self._size))
            any_evicted = self._size > start
        else:
            positions = stored = np.arange(start, start + count) % self.capacity
            full = self._size == self.capacity
            evicted = positions if full else positions[positions < self._size]
            any_evicted = len(evicted) > 0
        if any_evicted:
            self._frames.free(
                _owned(self._obs_slot[evicted], self._next_slot[evicted], self._owns_next[evicted])
            )
        self._obs_slot[positions] = obs_slot
        self._next_slot[positions] = next_slot
        self._owns_next[positions] = owns_next
        self._action[positions] = action
        self._reward[positions] = reward
        self._discount[positions] = discount
        self._position = (start + count) % self.capacity
        self._size = min(self._size + count, self.capacity)
        self._on_stored(stored)

    def _on_stored(self, positions: Sequence[int] | np.ndarray) -> None:
        """Called with the storage indices of newly stored transitions."""

    def _check_batch_size(self, batch_size: int) -> int:
        batch_size = positive_int(batch_size, "batch_size")
        if batch_size > self._size:
            raise ValueError(f"batch_size {batch_size} exceeds the {self._size} transitions stored")
        return batch_size

    def _needs_no_conversion(
        self,
        obs: Any,
        actions: Any,
        rewards: Any,
        next_obs: Any,
        terminated: Any,
        truncated: Any,
    ) -> bool:
        """Whether a one-env step is arrays that the argument checks would pass unchanged:
        observations of the stored shape and dtype, int64 actions, finite float64 rewards and
        bool flags. Attribute checks only; any other step takes the general path."""
        return (
            type(obs) is type(next_obs) is type(actions) is type(rewards) is type(terminated)
            is type(truncated) is np.ndarray
            and (obs.shape, next_obs.shape, actions.shape, rewards.shape, terminated.shape,
                 truncated.shape) == self._plain_shapes
            and (obs.dtype, next_obs.dtype, actions.dtype, rewards.dtype, terminated.dtype,
                 truncated.dtype) == self._plain_dtypes
            and math.isfinite(rewards.item())
        )  # fmt: skip

    def _observations(self, value: Any, name: str) -> np.ndarray:
        array = np.asarray(value)
        expected = self._step_shape
        if array.shape != expected:
            raise ValueError(
                f"{name} must have shape {expected} (num_envs, *observation shape), "
                f"got {array.shape}"
            )
        return _stored_as(array, self.observation_dtype, name)

    def _per_env(self, value: Any, name: str, kinds: str) -> np.ndarray:
        array = value if type(value) is np.ndarray else np.asarray(value)
        if array.shape != self._env_shape:
            raise ValueError(f"{name} must have shape ({self.num_envs},), got {array.shape}")
        if array.dtype.kind not in kinds:
            wanted = "bool" if kinds == "b" else "integer" if kinds == "iu" else "real numbers"
            raise ValueError(f"{name} must hold {wanted}, got dtype {array.dtype}")
        return array

    def _actions(self, value: Any) -> list[int]:
        actions = self._per_env(value, "actions", "iu")
        return (actions if actions.dtype == np.int64 else actions.astype(np.int64)).tolist()

    def _rewards(self, value: Any) -> list[float]:
        rewards = self._per_env(value, "rewards", "biuf")
        if rewards.dtype != np.float64:
            rewards = rewards.astype(np.float64)
        as_floats = rewards.tolist()
        if not all(map(math.isfinite, as_floats)):
            raise ValueError(f"rewards must be finite, got {rewards}")
        return as_floats

    def _masks(self, value: Any) -> np.ndarray | None:
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

    def _check_continuing(self, obs: np.ndarray) -> None:
        """Refuse an `obs` that is not the `next_obs` stored for an env whose episode went on."""
        current, frames = self._current, self._frames.frames
        if -1 not in current:  # every episode went on, as in most steps: one comparison
            stored = frames[current[0]] if len(current) == 1 else frames[current]
            # equal bytes are equal values (unequal ones may still be: 0.0 and -0.0, NaNs)
            if stored.tobytes() == obs.tobytes():
                return
        envs = [env for env, slot in enumerate(current) if slot >= 0]
        if not envs:
            return
        stored = frames[[current[env] for env in envs]]
        given = obs if len(envs) == self.num_envs else obs[envs]
        equal_nan = self.observation_dtype.kind in "fc"
        if (stored == given).all() or (equal_nan and np.array_equal(stored, given, True)):
            return
        differ = [
            env
            for env, frame in zip(envs, stored, strict=True)
            if not np.array_equal(frame, obs[env], equal_nan=equal_nan)
        ]
        raise ValueError(
            f"obs of env(s) {differ} differ from the next_obs added at the previous step, though "
            "their episodes did not end; pass each env's true next observation as next_obs (the "
            "final observation when an episode ends) and the observation acted on as obs"
        )


class PrioritizedReplayBuffer(ReplayBuffer):
    """Proportional prioritized replay (Schaul et al., 2016) over a `SumTree`.

    `beta` may be set at any time (agents anneal it towards 1); `alpha` and `epsilon` are fixed.
    """

    def __init__(
        self,
        capacity: int,
        observation_space: gym.spaces.Box | gym.spaces.Discrete,
        num_envs: int = 1,
        n_step: int = 1,
        gamma: float = 0.99,
        action_mask_size: int | None = None,
        seed: int | None = None,
        alpha: float = 0.6,
        beta: float = 0.4,
        epsilon: float = 1e-6,
    ):
        self.alpha = in_range(alpha, "alpha", 0.0, 1.0)
        self.beta = beta
        if (
            isinstance(epsilon, bool)
            or not isinstance(epsilon, numbers.Real)
            or not (0.0 < epsilon < np.inf)
        ):
            raise ValueError(
                f"epsilon must be a positive number (it keeps every priority above 0), "
                f"got {epsilon!r}"
            )
        self.epsilon: float = float(epsilon)
        super().__init__(
            capacity, observation_space, num_envs, n_step, gamma, action_mask_size, seed
        )
        self._tree: SumTree = SumTree(self.capacity)
        self._max_priority: float = 1.0

    @property
    def beta(self) -> float:
        """The importance-weight exponent in [0, 1]."""
        return self._beta

    @beta.setter
    def beta(self, value: float) -> None:
        self._beta = in_range(value, "beta", 0.0, 1.0)

    @property
    def nbytes(self) -> int:
        return super().nbytes + self._tree.nbytes

    def sample(self, batch_size: int) -> ReplayBatch:
        """`batch_size` transitions drawn in proportion to priority (stratified), with
        importance weights normalised so that the largest possible weight is 1."""
        batch_size = self._check_batch_size(batch_size)
        indices = self._tree.sample(self._rng, batch_size)
        # w_i / max_j w_j = (N P(i))**-beta / (N P_min)**-beta = (p_i / p_min)**-beta
        weights = (self._tree[indices] / self._tree.min) ** -self.beta
        return self.gather(indices)._replace(weights=weights.astype(np.float32))

    def sample_batches(self, batch_size: int, count: int) -> ReplayBatch:
        """`count` batches, each drawn like `sample` from the current priorities, stacked. A
        learner that updates priorities between batches must call `sample` per batch."""
        count = positive_int(count, "count")
        batches = [self.sample(batch_size) for _ in range(count)]
        fields = zip(*batches, strict=True)
        return ReplayBatch._make(None if f[0] is None else np.concatenate(f) for f in fields)

    def update_priorities(self, indices: Any, td_errors: Any) -> None:
        """Set p = (|td error| + epsilon)**alpha for the transitions at `indices`.

        Call it before further adds: an index whose transition was evicted in between now holds
        a newer transition, and this sets that one's priority.
        """
        indices = index_array(indices, "indices", self._size)
        td_errors = np.asarray(td_errors, dtype=np.float64)
        if td_errors.shape != indices.shape:
            raise ValueError(
                f"td_errors must have the shape of indices {indices.shape}, got {td_errors.shape}"
            )
        if not np.all(np.isfinite(td_errors)):
            raise ValueError("td_errors must be finite")
        priorities = (np.abs(td_errors) + self.epsilon) ** self.alpha
        self._tree.update(indices, priorities)
        if len(priorities):
            self._max_priority = max(self._max_priority, float(priorities.max()))

    def priorities(self, indices: Any) -> np.ndarray:
        """The current priorities p of the transitions at `indices`."""
        return self._tree[index_array(indices, "indices", self._size)]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.update(priorities=self._tree.state_dict(), max_priority=self._max_priority)
        state.update(beta=self.beta)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._tree.load_state_dict(state["priorities"])
        self._max_priority = float(state["max_priority"])
        self.beta = state["beta"]

    def _settings(self) -> dict[str, Any]:
        return {**super()._settings(), "alpha": self.alpha, "epsilon": self.epsilon}

    def _on_stored(self, positions: Sequence[int] | np.ndarray) -> None:
        self._tree.fill(positions, self._max_priority)


def _owned(obs_slot: np.ndarray, next_slot: np.ndarray, owns_next: np.ndarray) -> np.ndarray:
    """The frame slots that these transitions free when they leave the buffer."""
    return np.concatenate([obs_slot, next_slot[owns_next]])


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
