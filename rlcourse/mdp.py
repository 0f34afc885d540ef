"""`TabularMDP`: an explicit, sparse transition model for planners, built from any env with a
toy-text `P` dict (`TabularMDP.from_env`).

Terminated transitions are kept in `P_matrix` (so its rows are proper distributions) and zeroed
in `P_continue`, the matrix planners bootstrap through::

    Q = mdp.R + gamma * (mdp.P_continue @ V).reshape(mdp.n_states, mdp.n_actions)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
from scipy import sparse

Transitions = Mapping[int, Mapping[int, Sequence[tuple[float, int, float, bool]]]]

# The dense [S, A, S'] array is refused above this many entries (8 bytes each).
MAX_DENSE_ENTRIES = 200_000_000
_ROW_SUM_TOLERANCE = 1e-8


class TabularMDP:
    """A finite MDP with ``n_states`` states and ``n_actions`` actions.

    Attributes:
        P_matrix: ``scipy.sparse.csr_array`` [S*A, S]; row ``s*A + a`` is the distribution of the
            next state after action ``a`` in state ``s``.
        P_continue: the same with the probability of every terminated transition set to 0.
        R: [S, A] float64 expected immediate reward.
        terminal: [S] bool, True for states entered by a terminating transition (goals, holes,
            and the absorbing cells the agent can never occupy, such as walls).
        initial: [S] float64 start-state distribution.
    """

    def __init__(
        self,
        P_matrix: sparse.csr_array,
        P_continue: sparse.csr_array,
        R: np.ndarray,
        terminal: np.ndarray,
        initial: np.ndarray,
    ) -> None:
        n_states, n_actions = R.shape
        if P_matrix.shape != (n_states * n_actions, n_states):
            raise ValueError(f"P_matrix has shape {P_matrix.shape}, R has shape {R.shape}")
        if P_continue.shape != P_matrix.shape:
            raise ValueError("P_continue and P_matrix shapes differ")
        if terminal.shape != (n_states,) or initial.shape != (n_states,):
            raise ValueError("terminal and initial must have shape [n_states]")
        sums = np.asarray(P_matrix.sum(axis=1)).ravel()
        bad = np.flatnonzero(np.abs(sums - 1.0) > _ROW_SUM_TOLERANCE)
        if bad.size:
            s, a = divmod(int(bad[0]), n_actions)
            raise ValueError(f"P[{s}][{a}] sums to {float(sums[bad[0]])!r}, not 1")
        if not np.isclose(initial.sum(), 1.0):
            raise ValueError(f"the initial distribution sums to {float(initial.sum())!r}, not 1")
        self.P_matrix = P_matrix
        self.P_continue = P_continue
        self.R = R
        self.terminal = terminal
        self.initial = initial

    @property
    def n_states(self) -> int:
        return int(self.R.shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.R.shape[1])

    @cached_property
    def P(self) -> np.ndarray:
        """Dense [S, A, S'] float64 transition probabilities (built on first use; small worlds)."""
        entries = self.n_states * self.n_actions * self.n_states
        if entries > MAX_DENSE_ENTRIES:
            raise ValueError(
                f"a dense P would hold {entries:,} entries; use the sparse P_matrix instead"
            )
        return self.P_matrix.toarray().reshape(self.n_states, self.n_actions, self.n_states)

    def __repr__(self) -> str:
        return (
            f"TabularMDP(n_states={self.n_states}, n_actions={self.n_actions}, "
            f"nnz={self.P_matrix.nnz}, terminal={int(self.terminal.sum())})"
        )

    # ------------------------------------------------------------------------- constructors

    @classmethod
    def from_arrays(
        cls,
        sa: np.ndarray,
        next_state: np.ndarray,
        prob: np.ndarray,
        reward: np.ndarray,
        terminated: np.ndarray,
        n_states: int,
        n_actions: int,
        initial: np.ndarray | None = None,
    ) -> TabularMDP:
        """Build from flat outcome arrays: outcome ``i`` goes from row ``sa[i] = s*A + a`` to
        ``next_state[i]`` with probability ``prob[i]``, reward ``reward[i]`` and flag
        ``terminated[i]``. Repeated (row, next state) pairs are summed.

        ``initial`` defaults to the uniform distribution over non-terminal states.
        """
        sa = np.asarray(sa, dtype=np.int64)
        next_state = np.asarray(next_state, dtype=np.int64)
        prob = np.asarray(prob, dtype=np.float64)
        reward = np.asarray(reward, dtype=np.float64)
        terminated = np.asarray(terminated, dtype=bool)
        shape = (n_states * n_actions, n_states)
        P_matrix = sparse.csr_array(sparse.coo_array((prob, (sa, next_state)), shape=shape))
        P_continue = sparse.csr_array(
            sparse.coo_array((np.where(terminated, 0.0, prob), (sa, next_state)), shape=shape)
        )
        P_matrix.eliminate_zeros()
        P_continue.eliminate_zeros()
        R = np.bincount(sa, weights=prob * reward, minlength=shape[0]).reshape(n_states, n_actions)
        terminal = np.zeros(n_states, dtype=bool)
        terminal[next_state[terminated & (prob > 0)]] = True
        if initial is None:
            initial = (~terminal).astype(np.float64)
            if not initial.any():
                raise ValueError("every state is terminal: give the initial distribution")
            initial /= initial.sum()
        initial = np.asarray(initial, dtype=np.float64)
        return cls(P_matrix, P_continue, R, terminal, initial)

    @classmethod
    def from_transitions(
        cls,
        P_dict: Transitions,
        n_states: int,
        n_actions: int,
        initial: np.ndarray | None = None,
    ) -> TabularMDP:
        """Build from a toy-text ``P[s][a] = [(prob, next_state, reward, terminated), ...]``.

        ``initial`` defaults to the uniform distribution over non-terminal states.
        """
        rows: list[int] = []
        flat: list[tuple[float, int, float, bool]] = []
        for s in range(n_states):
            by_action = P_dict[s]
            for a in range(n_actions):
                outcomes = by_action[a]
                if not outcomes:
                    raise ValueError(f"P[{s}][{a}] is empty")
                rows.extend([s * n_actions + a] * len(outcomes))
                flat.extend(outcomes)
        prob, next_state, reward, terminated = (np.array(col) for col in zip(*flat, strict=True))
        return cls.from_arrays(
            np.array(rows), next_state, prob, reward, terminated, n_states, n_actions, initial
        )

    @classmethod
    def from_env(cls, env: Any) -> TabularMDP:
        """Build from any env (wrapped or not) whose unwrapped env has a toy-text ``P`` dict.

        An env that keeps its own model in ``mdp`` returns it. The initial distribution comes from
        the env's ``initial_state_distrib`` (or ``isd``) attribute; failing that, a point mass on
        the state that ``reset(seed=0)`` gives.
        """
        base = env.unwrapped
        own = getattr(base, "mdp", None)
        if isinstance(own, TabularMDP):
            return own
        if not hasattr(base, "P"):
            raise TypeError(f"{type(base).__name__} has no transition dict P")
        n_states = int(base.observation_space.n)
        n_actions = int(base.action_space.n)
        initial = getattr(base, "initial_state_distrib", None)
        if initial is None:
            initial = getattr(base, "isd", None)
        if initial is None:
            start, _ = base.reset(seed=0)
            initial = np.zeros(n_states)
            initial[int(start)] = 1.0
        return cls.from_transitions(base.P, n_states, n_actions, np.asarray(initial, float))
