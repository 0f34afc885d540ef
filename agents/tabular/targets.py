"""The update rules of Monte Carlo and temporal-difference control, as small pure functions.

Each takes plain numbers and arrays, so a test can check it against a value worked out by hand.
Conventions: `terminated` means the episode ended in a terminal state, whose value is zero, so
nothing is bootstrapped; a truncated episode (a time limit) still bootstraps from the state it
stopped in. Masks are boolean arrays over actions, True where an action is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np

Visit = Literal["first", "every"]


# ----------------------------------------------------------------------------- one-step TD


def td_target(reward: float, next_value: float, gamma: float, terminated: bool) -> float:
    """``r + gamma * next_value``, or just ``r`` when the transition terminated.

    With ``next_value = Q(s', a')`` for the action actually chosen next this is SARSA's target.
    """
    return float(reward) if terminated else float(reward) + gamma * float(next_value)


def q_learning_target(
    reward: float,
    next_q: np.ndarray,
    gamma: float,
    terminated: bool,
    mask: np.ndarray | None = None,
) -> float:
    """``r + gamma * max_a Q(s', a)`` over the allowed actions at s'."""
    if terminated:
        return float(reward)
    values = next_q if mask is None else np.asarray(next_q)[np.asarray(mask, bool)]
    return float(reward) + gamma * float(np.max(values))


def expected_sarsa_target(
    reward: float,
    next_q: np.ndarray,
    next_probs: np.ndarray,
    gamma: float,
    terminated: bool,
) -> float:
    """``r + gamma * sum_a pi(a|s') Q(s', a)`` for the policy's probabilities at s'."""
    if terminated:
        return float(reward)
    probs = np.asarray(next_probs, dtype=np.float64)
    # a disallowed action may carry -inf or nan in Q; its probability is zero, so skip it
    used = probs > 0.0
    return float(reward) + gamma * float(np.dot(probs[used], np.asarray(next_q)[used]))


def double_q_target(
    reward: float,
    next_q_select: np.ndarray,
    next_q_evaluate: np.ndarray,
    gamma: float,
    terminated: bool,
    mask: np.ndarray | None = None,
) -> float:
    """``r + gamma * Q_eval(s', argmax_a Q_select(s', a))`` (ties to the lowest index).

    Double Q-learning (S&B §6.7) selects with the table it updates and evaluates with the other.
    """
    if terminated:
        return float(reward)
    select = np.asarray(next_q_select, dtype=np.float64)
    if mask is not None:
        select = np.where(np.asarray(mask, bool), select, -np.inf)
    best = int(np.argmax(select))
    return float(reward) + gamma * float(next_q_evaluate[best])


def td_update(q: np.ndarray, state: int, action: int, target: float, alpha: float) -> float:
    """Move ``q[state, action]`` a fraction `alpha` towards `target`; return the TD error."""
    error = float(target) - float(q[state, action])
    q[state, action] += alpha * error
    return error


# ----------------------------------------------------------------------------- n-step


def n_step_return(rewards: Sequence[float], bootstrap: float, gamma: float) -> float:
    """``sum_i gamma^i r_i + gamma^len(rewards) * bootstrap``.

    `rewards` are R_{tau+1} ... R_{tau+k}, k <= n; pass ``bootstrap = 0`` when the episode
    terminated inside the window (then k < n is the number of rewards left), otherwise the
    value of the state-action pair reached after the last reward (S&B eq. 7.4).
    """
    total = 0.0
    for reward in reversed(list(rewards)):
        total = float(reward) + gamma * total
    return total + gamma ** len(rewards) * float(bootstrap)


# ----------------------------------------------------------------------------- Monte Carlo


def episode_returns(rewards: Sequence[float], gamma: float, bootstrap: float = 0.0) -> np.ndarray:
    """The return G_t from every step t of an episode: ``G_t = R_{t+1} + gamma * G_{t+1}``.

    `bootstrap` is G_T, the value of the state a truncated episode stopped in (0 when it
    terminated).
    """
    returns = np.empty(len(rewards), dtype=np.float64)
    g = float(bootstrap)
    for t in range(len(rewards) - 1, -1, -1):
        g = float(rewards[t]) + gamma * g
        returns[t] = g
    return returns


def first_visit_mask(states: Sequence[int], actions: Sequence[int]) -> np.ndarray:
    """True at the steps where a state-action pair occurs for the first time in the episode."""
    seen: set[tuple[int, int]] = set()
    first = np.zeros(len(states), dtype=bool)
    for t, pair in enumerate(zip(states, actions, strict=True)):
        if pair not in seen:
            seen.add(pair)
            first[t] = True
    return first


class ReturnSample(NamedTuple):
    """One Monte Carlo sample: the return that followed taking `action` in `state` at `step`."""

    step: int
    state: int
    action: int
    value: float


def mc_samples(
    states: Sequence[int],
    actions: Sequence[int],
    rewards: Sequence[float],
    gamma: float,
    visit: Visit = "first",
    bootstrap: float = 0.0,
) -> list[ReturnSample]:
    """The returns an episode contributes, latest step first (the order S&B's loops use).

    First-visit keeps one sample per state-action pair (from its first occurrence);
    every-visit keeps one per occurrence.
    """
    if visit not in ("first", "every"):
        raise ValueError(f"visit must be 'first' or 'every', got {visit!r}")
    returns = episode_returns(rewards, gamma, bootstrap)
    keep = first_visit_mask(states, actions) if visit == "first" else np.ones(len(states), bool)
    return [
        ReturnSample(t, int(states[t]), int(actions[t]), float(returns[t]))
        for t in range(len(states) - 1, -1, -1)
        if keep[t]
    ]


class ImportanceSamplingStats(NamedTuple):
    """What one weighted importance-sampling pass did.

    `updates`: how many Q entries were moved; `mean_abs_error`: mean |G - Q| before each move
    (0 when none); `weight`: the importance weight W when the pass stopped.
    """

    updates: int
    mean_abs_error: float
    weight: float


def weighted_importance_sampling_update(
    q: np.ndarray,
    c: np.ndarray,
    states: Sequence[int],
    actions: Sequence[int],
    rewards: Sequence[float],
    behaviour_probs: Sequence[float],
    gamma: float,
    bootstrap: float = 0.0,
    visit: Visit = "every",
    masks: Sequence[np.ndarray | None] | None = None,
) -> ImportanceSamplingStats:
    """Off-policy MC control with weighted importance sampling (S&B §5.7), in place.

    Walks the episode backwards: ``G <- gamma G + R``, ``C(s,a) += W``,
    ``Q(s,a) += W / C(s,a) * (G - Q(s,a))``; stops at the first step whose action is not the
    greedy action of the updated Q (the target policy, ties to the lowest index among the
    allowed actions), otherwise ``W <- W / b(a|s)``. `behaviour_probs[t]` is the probability
    the behaviour policy gave the action taken at step t. With ``visit="first"`` only a pair's
    first occurrence in the episode is updated; the weight still follows every step.
    """
    if visit not in ("first", "every"):
        raise ValueError(f"visit must be 'first' or 'every', got {visit!r}")
    keep = first_visit_mask(states, actions) if visit == "first" else np.ones(len(states), bool)
    g, w = float(bootstrap), 1.0
    updates, abs_error = 0, 0.0
    for t in range(len(states) - 1, -1, -1):
        s, a = int(states[t]), int(actions[t])
        g = float(rewards[t]) + gamma * g
        if keep[t]:
            c[s, a] += w
            error = g - q[s, a]
            q[s, a] += w / c[s, a] * error
            updates += 1
            abs_error += abs(error)
        values = q[s]
        mask = None if masks is None else masks[t]
        if mask is not None:
            values = np.where(np.asarray(mask, bool), values, -np.inf)
        if a != int(np.argmax(values)):
            break
        w /= float(behaviour_probs[t])
    return ImportanceSamplingStats(updates, abs_error / updates if updates else 0.0, w)


def mc_update(
    q: np.ndarray,
    counts: np.ndarray,
    samples: Sequence[ReturnSample],
    alpha: float | None = None,
) -> float:
    """Move each sampled ``Q(s,a)`` towards its return, in place; return the mean |G - Q|.

    The step is ``1 / N(s,a)`` (the sample average of every return seen so far, `counts`
    holding N) unless a constant `alpha` is given; `counts` is incremented either way.
    """
    abs_error = 0.0
    for sample in samples:
        s, a = sample.state, sample.action
        counts[s, a] += 1
        step = 1.0 / counts[s, a] if alpha is None else alpha
        error = sample.value - q[s, a]
        q[s, a] += step * error
        abs_error += abs(error)
    return abs_error / len(samples) if samples else 0.0
