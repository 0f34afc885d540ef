"""Uniform replay of n-step transitions from a vector env, and the batch it samples.

`ReplayBuffer.add` takes one vector-env step (leading dimension `num_envs`) and `sample` returns
a `ReplayBatch` of n-step transitions (see `rlcourse.replay.nstep` for the reward and discount
of windows cut short by an episode end). `len(buffer)` counts the transitions that can be
sampled; the newest `capacity` of them are kept, in the order they were completed.

With `optimize_memory_usage` (the default; Stable-Baselines3's name for the same saving) each
observation is stored once (`rlcourse.replay.frames`): the `next_obs` of step t is the `obs` of
step t+1 of the same env, so it is not stored again, and a final observation is kept in
addition when an episode ends. `add` checks that claim and refuses an `obs` that differs from
the `next_obs` of the previous step while that env's episode went on. Frames use about
`capacity` slots plus a small margin (they grow only when episodes are very short). Without it,
every transition keeps frames of its own, its first and its last observation: 2 x capacity
slots, no claim to check, the same samples.

A frame slot is reused only once no stored transition refers to it. Transitions are evicted in
the order they were completed, which gives the rule for shared frames: an evicted transition
frees its own first observation (the one transition that ends there was completed, and so
evicted, before it), and the last transition of an episode also frees the episode's final
observation (which only the transitions flushed with it refer to, all completed just before it).

Actions are int64 numbers by default; with a Box `action_space` (continuous control) each is a
float32 vector of the space's shape, stored as given (bounds are the agent's business).

Randomness comes only from the buffer's own seeded generator, and `state_dict` holds all of
the contents, the open n-step windows and the generator state (arrays and plain values only),
so a reloaded buffer samples exactly as the original would have.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from rlcourse.replay.checks import StepFormat, in_range, index_array, positive_int
from rlcourse.replay.frames import FrameStore
from rlcourse.replay.nstep import ClosedWindow, NStepWindows

# Frame slots with shared frames beyond one per transition: each stored episode end keeps its
# final observation (1/64 of capacity covers episodes of 64 steps or more). Per env, in both
# modes, `add` holds the first frames of its open windows and the frames it writes before
# evictions give old ones back: n_step + 1 with shared frames, 2 * n_step without.
EPISODE_END_MARGIN = 1 / 64


class ReplayBatch(NamedTuple):
    """B sampled transitions, field by field."""

    observations: np.ndarray  # [B, *obs_shape], the stored dtype (int64 for Discrete spaces)
    actions: np.ndarray  # [B] int64, or [B, *action_shape] float32 for a Box action_space
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
        *,
        optimize_memory_usage: bool = True,
        action_space: gym.spaces.Box | gym.spaces.Discrete | None = None,
    ):
        self.capacity = positive_int(capacity, "capacity")
        self.num_envs = positive_int(num_envs, "num_envs")
        self.n_step = positive_int(n_step, "n_step")
        self.gamma = in_range(gamma, "gamma", 0.0, 1.0)
        self.action_mask_size = (
            None if action_mask_size is None else positive_int(action_mask_size, "action_mask_size")
        )
        if not isinstance(optimize_memory_usage, bool):
            raise ValueError(f"optimize_memory_usage must be a bool, got {optimize_memory_usage!r}")
        self.optimize_memory_usage = optimize_memory_usage
        self._step_format = StepFormat(
            observation_space, self.num_envs, self.action_mask_size, action_space
        )
        self.observation_shape = self._step_format.observation_shape
        self.observation_dtype = self._step_format.observation_dtype
        self.action_shape = self._step_format.action_shape
        self.action_dtype = self._step_format.action_dtype
        self._rng = np.random.default_rng(seed)

        if optimize_memory_usage:
            slots = self.capacity + int(self.capacity * EPISODE_END_MARGIN)
            slots += self.num_envs * (self.n_step + 1)
        else:
            slots = 2 * self.capacity + self.num_envs * 2 * self.n_step
        self._frames = FrameStore(
            self.observation_shape, self.observation_dtype, slots, self.action_mask_size
        )
        self._windows = NStepWindows(self.num_envs, self.n_step, self.gamma)
        # with shared frames, the slot of each env's latest observation while its episode goes
        # on, else -1 (always -1 without)
        self._current = [-1] * self.num_envs

        self._obs_slot = np.zeros(self.capacity, dtype=np.int64)
        self._next_slot = np.zeros(self.capacity, dtype=np.int64)
        self._owns_next = np.zeros(self.capacity, dtype=bool)  # frees next_slot on eviction
        self._action = np.zeros((self.capacity, *self.action_shape), dtype=self.action_dtype)
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
        step, its final observation (not the reset observation that follows it). With
        `optimize_memory_usage`, the next call's `obs` must equal this call's `next_obs` for
        every env whose episode went on. `next_action_masks` ([num_envs, A] bool, the legal
        actions at `next_obs`) is required when the buffer was made with `action_mask_size`,
        refused otherwise.

        With one env and shared frames, a step given as arrays that need no conversion
        (observations of the stored dtype, int64 actions, float64 rewards, bool flags) takes a
        shorter path to the same result.
        """
        check = self._step_format
        if (
            self.num_envs == 1
            and self.optimize_memory_usage
            and check.is_plain(obs, actions, rewards, next_obs, terminated, truncated)
        ):  # the usual step: nothing to convert, and plain numbers instead of lists
            self._add_to_one_env(
                obs, check.one_action(actions), rewards.item(), next_obs, terminated.item(),
                truncated.item(), check.masks(next_action_masks),
            )  # fmt: skip
            return
        obs = check.observations(obs, "obs")
        next_obs = check.observations(next_obs, "next_obs")
        actions = check.actions(actions)
        rewards = check.rewards(rewards)
        terminated = check.flags(terminated, "terminated")
        ended = list(map(operator.or_, terminated, check.flags(truncated, "truncated")))
        masks = check.masks(next_action_masks)
        if not self.optimize_memory_usage:
            self._add_with_own_frames(obs, actions, rewards, next_obs, terminated, ended, masks)
            return
        self._check_continuing(obs)
        # a continuing env's latest frame is the first observation of its next window
        obs_slot = self._current if -1 not in self._current else self._first_frames(obs)
        next_slot = self._frames.write(next_obs, masks)
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
        # states saved before these settings existed shared frames and held Discrete actions
        older = {"optimize_memory_usage": True, "action_shape": (), "action_dtype": "<i8"}
        mine, saved = self._settings(), {**older, **state["settings"]}
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
        self._action = np.array(transitions["action"], dtype=self.action_dtype)
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
            "optimize_memory_usage": self.optimize_memory_usage,
            "action_shape": self.action_shape,
            "action_dtype": self.action_dtype.str,
        }

    def _add_to_one_env(
        self,
        obs: np.ndarray,
        action: int | np.ndarray,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
        truncated: bool,
        masks: np.ndarray | None,
    ) -> None:
        """`add` for a buffer of one env with shared frames, its arguments checked: the same
        steps on numbers."""
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

    def _add_with_own_frames(
        self,
        obs: np.ndarray,
        actions: list[int] | np.ndarray,
        rewards: list[float],
        next_obs: np.ndarray,
        terminated: list[bool],
        ended: list[bool],
        masks: np.ndarray | None,
    ) -> None:
        """`add` without shared frames: `obs` written for the windows it opens, `next_obs` once
        for every window it closes, so that each transition frees both its frames."""
        obs_slot = self._frames.write(obs)
        closed = self._windows.push(obs_slot, actions, rewards, terminated, ended)
        if not closed:
            return
        envs = [env for env, *_ in closed]
        next_slot = self._frames.write(next_obs[envs], None if masks is None else masks[envs])
        _, obs_slots, window_actions, window_rewards, discounts, _ = zip(*closed, strict=True)
        self._store(
            np.array(obs_slots, dtype=np.int64),
            np.array(next_slot, dtype=np.int64),
            np.ones(len(closed), dtype=bool),
            np.array(window_actions, dtype=self.action_dtype),
            np.array(window_rewards, dtype=np.float64),
            np.array(discounts, dtype=np.float64),
        )

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
        action: int | np.ndarray,
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
        """Store the windows that one step closed with shared frames; `next_slot`: each env's
        new frame, freed by the last transition of an episode."""
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
            np.array(actions, dtype=self.action_dtype),
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
            "final observation when an episode ends) and the observation acted on as obs, or "
            "make the buffer with optimize_memory_usage=False"
        )


def _owned(obs_slot: np.ndarray, next_slot: np.ndarray, owns_next: np.ndarray) -> np.ndarray:
    """The frame slots that these transitions free when they leave the buffer."""
    return np.concatenate([obs_slot, next_slot[owns_next]])
