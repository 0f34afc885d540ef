"""On-policy rollout storage, advantage estimators and minibatches.

The estimators are pure functions over time-major arrays [T, N] (T steps of N envs):

- `gae` (Schulman et al. 2016) and `discounted_returns` (n-step returns, bootstrapped at the
  rollout's end) need, for every step t, ``next_values[t]``: the value of the true state after
  step t. A terminated step never bootstraps; a truncated one (a time limit) bootstraps from
  the value of its real final observation, so a time-limit end is not mistaken for a terminal
  state. ``ends[t]`` (terminated or truncated) stops the recursion from reaching into the
  next episode.
- `reward_to_go` is the discounted return of each step of one complete episode.

`RolloutBuffer` holds one rollout in preallocated tensors and hands it out as flat
`RolloutBatch` minibatches or, for recurrent policies, as `SequenceBatch` minibatches of
fixed-length sequences carrying the hidden state that entered each sequence.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

Hidden = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


# ----------------------------------------------------------------------------- estimators


def gae(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    ends: np.ndarray,
    gamma: float,
    lam: float,
) -> np.ndarray:
    """Generalised advantage estimates [T, ...] (same shape as `rewards`).

    ``delta_t = r_t + gamma * (1 - terminated_t) * next_values_t - values_t`` and
    ``A_t = delta_t + gamma * lam * (1 - ends_t) * A_{t+1}``, with A_T = 0.
    """
    _same_shapes(rewards=rewards, values=values, next_values=next_values,
                 terminated=terminated, ends=ends)  # fmt: skip
    not_terminal = 1.0 - terminated.astype(np.float64)
    continues = gamma * lam * (1.0 - ends.astype(np.float64))
    deltas = rewards + gamma * not_terminal * next_values - values
    advantages = np.zeros(rewards.shape, dtype=np.float64)
    running = np.zeros(rewards.shape[1:], dtype=np.float64)
    for t in range(len(rewards) - 1, -1, -1):
        running = deltas[t] + continues[t] * running
        advantages[t] = running
    return advantages


def discounted_returns(
    rewards: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    ends: np.ndarray,
    gamma: float,
) -> np.ndarray:
    """n-step returns [T, ...]: rewards to the episode's end or the rollout's end, then
    ``gamma * next_values`` unless the episode terminated (equal to GAE with lam=1 plus V)."""
    _same_shapes(rewards=rewards, next_values=next_values, terminated=terminated, ends=ends)
    returns = np.zeros(rewards.shape, dtype=np.float64)
    following = next_values[-1].astype(np.float64)
    for t in range(len(rewards) - 1, -1, -1):
        bootstrap = np.where(ends[t], next_values[t], following)
        following = rewards[t] + gamma * np.where(terminated[t], 0.0, bootstrap)
        returns[t] = following
    return returns


def reward_to_go(rewards: Sequence[float] | np.ndarray, gamma: float) -> np.ndarray:
    """``G_t = sum_k gamma^k r_{t+k}`` [T] for the rewards of one complete episode."""
    rewards = np.asarray(rewards, dtype=np.float64)
    if rewards.ndim != 1:
        raise ValueError(f"rewards must be one episode [T], got shape {list(rewards.shape)}")
    returns = np.zeros_like(rewards)
    following = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        following = rewards[t] + gamma * following
        returns[t] = following
    return returns


def _same_shapes(**arrays: np.ndarray) -> None:
    shapes = {name: np.shape(a) for name, a in arrays.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"arrays must share one [T, ...] shape, got {shapes}")


# ----------------------------------------------------------------------------- batches


class RolloutBatch(NamedTuple):
    """Flat samples [B, ...] of a rollout."""

    observations: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor  # [B] under the policy that collected them
    values: torch.Tensor  # [B] critic estimates at collection time
    advantages: torch.Tensor  # [B]
    returns: torch.Tensor  # [B] value targets: advantages + values
    action_masks: torch.Tensor | None  # [B, A] bool, or None without masks


class SequenceBatch(NamedTuple):
    """S sequences of L consecutive steps of one env each: every field is [S, L, ...]."""

    observations: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    action_masks: torch.Tensor | None
    starts: torch.Tensor  # [S, L] bool: the step begins an episode (reset the state)
    hidden: Hidden  # the recurrent state entering each sequence: [layers, S, H] (pair: LSTM)

    def flat(self) -> RolloutBatch:
        """The same samples as a flat [S * L] batch."""
        return per_step(self, _merge_two_leading)


def _merge_two_leading(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(0, 1)


def per_step(source: Any, take: Callable[[torch.Tensor], torch.Tensor]) -> RolloutBatch:
    """`take` applied to each per-step field of `source` (sequences, a buffer or a batch)."""
    masks = None if source.action_masks is None else take(source.action_masks)
    return RolloutBatch(
        take(source.observations), take(source.actions), take(source.log_probs),
        take(source.values), take(source.advantages), take(source.returns), masks,
    )  # fmt: skip


# ----------------------------------------------------------------------------- storage


class RolloutBuffer:
    """One rollout of `n_steps` steps of `num_envs` envs, in preallocated storage.

    Fill it with `add` once per vector step (and `set_final_values` for truncated steps),
    then `finish(last_values, ...)` computes advantages and returns; `minibatches` or
    `sequence_minibatches` hand the rollout out for updates. With `hidden_shapes` (one
    [layers, N, H] shape per recurrent state tensor) the state entering each step is kept too.
    """

    def __init__(
        self,
        n_steps: int,
        num_envs: int,
        observation_shape: Sequence[int],
        observation_dtype: torch.dtype,
        action_shape: Sequence[int],
        action_dtype: torch.dtype,
        n_masked_actions: int | None = None,
        hidden_shapes: Sequence[Sequence[int]] = (),
    ):
        if n_steps < 1 or num_envs < 1:
            raise ValueError(f"n_steps and num_envs must be positive, got {n_steps}, {num_envs}")
        t, n = n_steps, num_envs
        self.n_steps, self.num_envs = t, n
        self.observations = torch.zeros((t, n, *observation_shape), dtype=observation_dtype)
        self.actions = torch.zeros((t, n, *action_shape), dtype=action_dtype)
        self.log_probs = torch.zeros((t, n))
        self.values = torch.zeros((t, n))
        self.rewards = np.zeros((t, n), dtype=np.float64)
        self.terminated = np.zeros((t, n), dtype=bool)
        self.ends = np.zeros((t, n), dtype=bool)
        self.final_values = np.zeros((t, n), dtype=np.float64)  # V(final obs) where truncated
        self.starts = torch.zeros((t, n), dtype=torch.bool)
        self.action_masks = (
            None
            if n_masked_actions is None
            else torch.ones((t, n, n_masked_actions), dtype=torch.bool)
        )
        self.hidden = tuple(torch.zeros((t, *shape)) for shape in hidden_shapes)
        self.advantages = torch.zeros((t, n))
        self.returns = torch.zeros((t, n))
        self.pos = 0

    @property
    def full(self) -> bool:
        return self.pos == self.n_steps

    def add(
        self,
        observations: torch.Tensor,
        actions: torch.Tensor,
        log_probs: torch.Tensor,
        values: torch.Tensor,
        rewards: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        starts: np.ndarray,
        action_masks: np.ndarray | None = None,
        hidden: Sequence[torch.Tensor] = (),
    ) -> None:
        """Store one vector step; `starts` marks envs whose step began an episode."""
        if self.full:
            raise RuntimeError("the rollout is full: call reset() after using it")
        t = self.pos
        self.observations[t] = observations
        self.actions[t] = actions
        self.log_probs[t] = log_probs
        self.values[t] = values
        self.rewards[t] = rewards
        self.terminated[t] = terminated
        self.ends[t] = terminated | truncated
        self.starts[t] = torch.from_numpy(starts)
        if self.action_masks is not None and action_masks is not None:
            self.action_masks[t] = torch.from_numpy(action_masks)
        for store, h in zip(self.hidden, hidden, strict=True):
            store[t] = h
        self.pos += 1

    def set_final_values(self, env_indices: np.ndarray, values: np.ndarray) -> None:
        """The values of the real final observations of the envs truncated at the last step."""
        self.final_values[self.pos - 1, env_indices] = values

    def finish(self, last_values: np.ndarray, gamma: float, lam: float) -> None:
        """Compute advantages and returns; `last_values` [N] are V of the next observations."""
        if not self.full:
            raise RuntimeError(f"the rollout holds {self.pos} of {self.n_steps} steps")
        values = self.values.numpy().astype(np.float64)
        next_values = np.empty_like(values)
        next_values[:-1] = values[1:]
        next_values[-1] = last_values
        next_values = np.where(self.ends, self.final_values, next_values)
        advantages = gae(self.rewards, values, next_values, self.terminated, self.ends, gamma, lam)
        self.advantages.copy_(torch.from_numpy(advantages))
        self.returns.copy_(torch.from_numpy(advantages + values))

    def reset(self) -> None:
        self.pos = 0
        self.final_values.fill(0.0)

    # ------------------------------------------------------------------ handing out

    def flat(self) -> RolloutBatch:
        """The whole rollout as one flat [T * N] batch."""
        return per_step(self, _merge_two_leading)

    def minibatches(self, batch_size: int, generator: torch.Generator) -> Iterator[RolloutBatch]:
        """One pass over the rollout in shuffled flat minibatches of `batch_size` samples
        (the whole rollout, unshuffled, when it fits in one)."""
        whole = self.flat()
        size = self.n_steps * self.num_envs
        if batch_size >= size:  # one minibatch: its order changes nothing
            yield whole
            return
        order = torch.randperm(size, generator=generator)
        for lo in range(0, size, batch_size):
            idx = order[lo : lo + batch_size]
            yield per_step(whole, functools.partial(torch.index_select, dim=0, index=idx))

    def sequences(self, seq_len: int) -> SequenceBatch:
        """The rollout cut into N * T / seq_len sequences of `seq_len` steps [S, L, ...]."""
        t, n = self.n_steps, self.num_envs
        if not self.hidden:
            raise ValueError("sequences need the recurrent state: give hidden_shapes")
        if seq_len < 1 or t % seq_len:
            raise ValueError(f"seq_len must divide n_steps ({t}), got {seq_len}")
        chunks = t // seq_len

        def cut(x: torch.Tensor) -> torch.Tensor:  # [T, N, ...] -> [N * chunks, L, ...]
            x = x.reshape(chunks, seq_len, n, *x.shape[2:]).transpose(1, 2)
            return x.reshape(chunks * n, seq_len, *x.shape[3:])

        # The state entering each sequence: [T, layers, N, H] at the chunk starts.
        entering = [h[::seq_len].permute(1, 0, 2, 3).reshape(h.shape[1], chunks * n, -1)
                    for h in self.hidden]  # fmt: skip
        hidden: Hidden = (entering[0], entering[1]) if len(entering) == 2 else entering[0]
        masks = None if self.action_masks is None else cut(self.action_masks)
        return SequenceBatch(
            cut(self.observations), cut(self.actions), cut(self.log_probs), cut(self.values),
            cut(self.advantages), cut(self.returns), masks, cut(self.starts), hidden,
        )  # fmt: skip

    def sequence_minibatches(
        self, seq_len: int, sequences_per_batch: int, generator: torch.Generator
    ) -> Iterator[SequenceBatch]:
        """One pass over the rollout in shuffled minibatches of whole sequences."""
        whole = self.sequences(seq_len)
        count = whole.observations.shape[0]
        order = torch.randperm(count, generator=generator)
        for lo in range(0, count, sequences_per_batch):
            idx = order[lo : lo + sequences_per_batch]
            h = whole.hidden
            hidden: Hidden = (h[0][:, idx], h[1][:, idx]) if isinstance(h, tuple) else h[:, idx]
            masks = None if whole.action_masks is None else whole.action_masks[idx]
            yield whole._replace(
                observations=whole.observations[idx], actions=whole.actions[idx],
                log_probs=whole.log_probs[idx], values=whole.values[idx],
                advantages=whole.advantages[idx], returns=whole.returns[idx],
                action_masks=masks, starts=whole.starts[idx], hidden=hidden,
            )  # fmt: skip
