"""Dynamic programming over a `TabularMDP` (Sutton & Barto, chapter 4).

Every planner works on the sparse model `mdp.P_continue` (transition probabilities with the
terminating ones removed, so terminal states are worth zero) and `mdp.R` (expected immediate
reward [S, A]). One Bellman backup of all state-action pairs is a single sparse mat-vec:
``Q = R + gamma * (P_continue @ V).reshape(S, A)``.

A policy is evaluated exactly by one sparse linear solve of ``(I - gamma P_pi) v = r_pi`` over
the non-terminal states; the textbook's sweeps remain as ``method="iterative"``. With gamma = 1
the solve needs a *proper* policy, one that ends the episode from every state, and an improper
one is refused naming a state it never ends from.

Policies are arrays of action probabilities of shape [S, A]. The planners' greedy policies are
one-hot and proper wherever that is possible: among the actions within tolerance of the best, a
state takes one that moves (with positive probability) one step closer to the end of the
episode, so that equally good actions such as bumping into a wall for free cannot trap the agent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse.linalg import spsolve

if TYPE_CHECKING:
    from rlcourse.mdp import TabularMDP

Evaluation = Literal["exact", "iterative"]
# Called with the values [S] after every sweep (value iteration, iterative evaluation) or with
# each evaluated policy's values [S] and the policy [S, A] (policy iteration): what the
# textbook's figures of successive estimates draw.
SweepTrace = Callable[[np.ndarray], None]
PolicyTrace = Callable[[np.ndarray, np.ndarray], None]


class Solution(NamedTuple):
    """What a planner returns: state values [S], a policy [S, A] and the sweeps it took."""

    values: np.ndarray
    policy: np.ndarray
    iterations: int


def q_values(mdp: TabularMDP, values: np.ndarray, gamma: float) -> np.ndarray:
    """One-step look-ahead action values Q[s, a] = R[s, a] + gamma * E[V(s') | s, a]."""
    backup = (mdp.P_continue @ values).reshape(mdp.n_states, mdp.n_actions)
    q = mdp.R + gamma * backup
    q[mdp.terminal] = 0.0
    return q


def row_max(q: np.ndarray) -> np.ndarray:
    """max over actions of Q [S, A]; column-wise maximum is ~10x faster than q.max(axis=1)
    for the tall, narrow arrays of gridworlds."""
    return np.maximum.reduce([q[:, a] for a in range(q.shape[1])]) if q.shape[1] else q[:, 0]


def greedy_policy(q: np.ndarray, atol: float = 1e-9) -> np.ndarray:
    """One-hot [S, A] policy taking the first action within `atol` of the best.

    With gamma = 1 this may be improper (a free self-loop tied with the way to the goal); the
    planners use :func:`proper_greedy_policy`.
    """
    best = q.max(axis=1, keepdims=True)
    return _one_hot(np.argmax(q >= best - atol, axis=1), q.shape[1])


def proper_greedy_policy(
    mdp: TabularMDP, q: np.ndarray, atol: float = 1e-9, previous: np.ndarray | None = None
) -> np.ndarray:
    """One-hot [S, A] policy greedy for `q` that ends episodes wherever greedy actions can.

    A state keeps its action in the one-hot `previous` policy while that action is within
    `atol` of the best (as in Sutton & Barto's policy iteration); otherwise it takes, among the
    actions within `atol` of the best, one that may reach a state closer to the end of the
    episode (breadth-first distances over those actions). States from which no greedy action
    leads to the end take the first greedy action.
    """
    n_s, n_a = mdp.n_states, mdp.n_actions
    greedy = q >= q.max(axis=1, keepdims=True) - atol
    if previous is not None:
        kept = (previous == 1.0) & greedy
        greedy = np.where(kept.any(axis=1, keepdims=True), kept, greedy)
    ends = _ends(mdp).reshape(n_s, n_a)
    pairs = np.flatnonzero(greedy)  # rows s * A + a of the greedy pairs
    moves = mdp.P_continue[pairs].tocoo()
    graph = sparse.csr_array(
        (np.ones(moves.nnz), (pairs[moves.row] // n_a, moves.col)), shape=(n_s, n_s)
    )
    step = _steps_to_end(graph, (greedy & ends).any(axis=1))
    # An action is good if it may end the episode where that is the next step, or may reach
    # the state that the breadth-first search found one step closer to the end.
    good = greedy & ends & (step == n_s)[:, None]
    every = mdp.P_continue.tocoo()
    hits = every.col == step[every.row // n_a]
    good.reshape(-1)[every.row[hits]] = True
    good &= greedy
    return _one_hot(np.argmax(np.where(good.any(axis=1, keepdims=True), good, greedy), 1), n_a)


def uniform_policy(mdp: TabularMDP) -> np.ndarray:
    """The equiprobable random policy [S, A]."""
    return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)


def policy_evaluation(
    mdp: TabularMDP,
    policy: np.ndarray,
    gamma: float = 1.0,
    theta: float = 1e-10,
    max_iterations: int = 100_000,
    values: np.ndarray | None = None,
    *,
    method: Evaluation = "exact",
    trace: SweepTrace | None = None,
) -> np.ndarray:
    """State values [S] of `policy`.

    ``method="exact"`` solves ``(I - gamma P_pi) v = r_pi`` over the non-terminal states
    (terminal states are worth 0); with gamma = 1 it raises ValueError for an improper policy,
    naming a state from which the episode never ends. ``method="iterative"`` runs synchronous
    (Jacobi) sweeps from `values` (zeros by default) until no value changes by more than
    `theta`, and raises RuntimeError after `max_iterations` sweeps; `theta`, `max_iterations`
    and `values` matter to it alone; `trace` sees the values after each of its sweeps.
    """
    _check_gamma(gamma)
    chain, reward = _chain(mdp, policy)
    live = ~mdp.terminal
    if method == "exact":
        if gamma == 1.0:
            _check_proper(mdp, chain, policy)
        inner = np.flatnonzero(live)
        system = sparse.eye_array(inner.size, format="csc") - gamma * chain[inner][:, inner]
        v = np.zeros(mdp.n_states)
        if inner.size:
            v[inner] = spsolve(sparse.csc_array(system), reward[inner])
        return v
    if method != "iterative":
        raise ValueError(f"method must be 'exact' or 'iterative', got {method!r}")
    v = np.zeros(mdp.n_states) if values is None else np.array(values, dtype=np.float64)
    for _ in range(max_iterations):
        new = np.where(live, reward + gamma * (chain @ v), 0.0)
        delta = np.max(np.abs(new - v)) if mdp.n_states else 0.0
        v = new
        if trace is not None:
            trace(v)
        if delta <= theta:
            return v
    raise RuntimeError(
        f"policy evaluation did not converge within {max_iterations} sweeps (last change "
        f"{delta:.3g}); with gamma = 1 the policy may never reach a terminal state"
    )


def value_iteration(
    mdp: TabularMDP,
    gamma: float = 1.0,
    theta: float = 1e-8,
    max_iterations: int = 100_000,
    trace: SweepTrace | None = None,
) -> Solution:
    """Optimal values and a greedy optimal policy by value iteration.

    Stops when the largest change in a sweep is at most `theta`; actions within
    ``max(1e-9, 10 * theta)`` of the best count as greedy (see :func:`proper_greedy_policy`).
    `trace` sees the values after each sweep.
    """
    _check_gamma(gamma)
    tol = max(1e-9, 10 * theta)
    v = np.zeros(mdp.n_states)
    for sweep in range(1, max_iterations + 1):
        q = q_values(mdp, v, gamma)
        new = row_max(q)
        delta = np.max(np.abs(new - v)) if mdp.n_states else 0.0
        v = new
        if trace is not None:
            trace(v)
        if delta <= theta:
            return Solution(v, proper_greedy_policy(mdp, q_values(mdp, v, gamma), tol), sweep)
    raise RuntimeError(
        f"value iteration did not converge within {max_iterations} sweeps (last change {delta:.3g})"
    )


def policy_iteration(
    mdp: TabularMDP,
    gamma: float = 1.0,
    theta: float = 1e-10,
    max_iterations: int = 1_000,
    policy: np.ndarray | None = None,
    *,
    method: Evaluation = "exact",
    trace: PolicyTrace | None = None,
) -> Solution:
    """Optimal values and policy by alternating evaluation and greedy improvement.

    The initial policy must be proper (reach a terminal state) when gamma = 1; the default
    is the uniform random policy. Each improvement keeps a state's action while it is still
    greedy and otherwise picks a greedy action that heads for the end of the episode, so the
    policies stay proper. Returns when the policy is greedy for its own values. `method` is
    :func:`policy_evaluation`'s (`theta` is also the iterative evaluation's tolerance).
    `trace` sees every evaluated policy's values and the policy, the last one optimal.
    """
    _check_gamma(gamma)
    pi = uniform_policy(mdp) if policy is None else np.asarray(policy, dtype=np.float64)
    tol = max(1e-9, 10 * theta)
    v = None
    for improvement in range(1, max_iterations + 1):
        v = policy_evaluation(mdp, pi, gamma, theta, values=v, method=method)
        if trace is not None:
            trace(v, pi)
        q = q_values(mdp, v, gamma)
        stable = np.all((pi * q).sum(axis=1) >= q.max(axis=1) - tol)
        pi = proper_greedy_policy(mdp, q, tol, previous=pi)
        if stable:  # the policy puts weight only on actions greedy for its own values
            return Solution(v, pi, improvement)
    raise RuntimeError(f"policy iteration did not stabilise within {max_iterations} improvements")


# ----------------------------------------------------------------------------- helpers


def _check_gamma(gamma: float) -> None:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma}")


def _one_hot(actions: np.ndarray, n_actions: int) -> np.ndarray:
    policy = np.zeros((actions.size, n_actions))
    policy[np.arange(actions.size), actions] = 1.0
    return policy


def _chain(mdp: TabularMDP, policy: np.ndarray) -> tuple[sparse.csr_array, np.ndarray]:
    """The policy's state-to-state chain P_pi [S, S] (over P_continue) and rewards r_pi [S]."""
    policy = np.asarray(policy, dtype=np.float64)
    n_s, n_a = mdp.n_states, mdp.n_actions
    if policy.shape != (n_s, n_a):
        raise ValueError(
            f"policy has shape {policy.shape}, expected (n_states, n_actions) = ({n_s}, {n_a})"
        )
    live = ~mdp.terminal
    bad = live & ((policy < 0).any(axis=1) | ~np.isclose(policy.sum(axis=1), 1.0))
    if bad.any():
        s = int(np.flatnonzero(bad)[0])
        raise ValueError(f"policy[{s}] = {policy[s].tolist()} is not a probability distribution")
    sa = np.flatnonzero(policy.reshape(-1) > 0)
    mix = sparse.csr_array((policy.reshape(-1)[sa], (sa // n_a, sa)), shape=(n_s, n_s * n_a))
    return sparse.csr_array(mix @ mdp.P_continue), (policy * mdp.R).sum(axis=1)


def _ends(mdp: TabularMDP) -> np.ndarray:
    """[S*A] bool: the state-action pairs that may end the episode, by a terminating
    transition or by entering a terminal state."""
    terminating = np.asarray((mdp.P_matrix - mdp.P_continue).sum(axis=1)).ravel() > 0
    return terminating | (mdp.P_continue @ mdp.terminal.astype(np.float64) > 0)


def _steps_to_end(moves: sparse.csr_array, ending: np.ndarray) -> np.ndarray:
    """Breadth-first search towards the end of the episode over the graph `moves` [S, S]
    (nonzero where a state may move to another): for each state, the next state on a shortest
    path to the end; S where the state itself may end the episode, -1 where it never ends."""
    n = moves.shape[0]
    src, dst = moves.nonzero()
    enders = np.flatnonzero(ending)
    # Backwards from an extra node n, the end: edges dst -> src, and n -> every ending state.
    backwards = sparse.csr_array(
        (
            np.ones(src.size + enders.size),
            (np.r_[dst, np.full(enders.size, n)], np.r_[src, enders]),
        ),
        shape=(n + 1, n + 1),
    )
    _, before = csgraph.breadth_first_order(backwards, n, return_predecessors=True)
    step = before[:n]
    step[step < 0] = -1
    return step


def _check_proper(mdp: TabularMDP, chain: sparse.csr_array, policy: np.ndarray) -> None:
    """Raise ValueError if the policy never ends the episode from some non-terminal state."""
    ends = _ends(mdp).reshape(mdp.n_states, mdp.n_actions)
    never = ~mdp.terminal & (_steps_to_end(chain, ((policy > 0) & ends).any(axis=1)) < 0)
    if never.any():
        states = np.flatnonzero(never)
        raise ValueError(
            f"with gamma = 1 the policy never reaches a terminal state from {states.size} "
            f"state(s), e.g. state {int(states[0])}, so its values are not finite: give a "
            "proper policy or gamma < 1"
        )
