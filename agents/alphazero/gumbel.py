"""Gumbel AlphaZero's search (Danihelka et al. 2022, "Policy improvement by planning with
Gumbel"), on the tree of :mod:`agents.alphazero.mcts`.

Root: Gumbel noise ``g ~ Gumbel(0, 1)``, drawn once per search (zero without root noise), picks
the ``m = min(considered_actions, legal moves)`` actions of highest ``g + logits``; sequential
halving spends the simulations on them in ``ceil(log2 m)`` phases, each giving its candidates
equal visits and keeping the better half by ``g + logits + sigma(completed Q)``
(:func:`halving_phases`, :func:`considered_visits`, :func:`root_action`). The move played is the
best survivor by that score; the policy target is the improved policy
``softmax(logits + sigma(completed Q))`` over the legal moves (:func:`improved_policy`).

Below the root the choice is deterministic: ``argmax_a pi'(a) - N(a) / (1 + sum_b N(b))`` with
``pi'`` that node's improved policy (:func:`interior_action`).

Completed Q (:func:`completed_q`): visited actions keep their Q, unvisited ones get ``v_mix``,
the node's value estimate mixed with the prior-weighted Q of its visited actions (the paper's
eq. 33); the completed values are then mapped to [0, 1], by default from the value range
[-1, 1] (``q_normalization: bounds``), or by their own min and max (``minmax``, as DeepMind's
mctx does: it stretches any spread of values, however small, to the full range, and on
tic-tac-toe self-play at 16 simulations it learned far worse). ``sigma(q) = (c_visit +
max_b N(b)) * c_scale * q``.

Counting and batching: ``simulations`` counts the root's child visits; the root's own
evaluation comes first and is not one of them. With :func:`search_together` a tree sends up to
``leaves_per_call`` leaves per evaluator call along the halving schedule, but a new phase begins
only once every leaf of the previous one is backed up, so candidates are ranked on finished
values. Each search starts from a fresh root (no tree reuse, as in the paper): the halving's
visit counts and its top-k draw are those of one search.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np

from agents.alphazero.config import MCTSConfig
from agents.alphazero.mcts import MCTS, Evaluator, Node, Path, TreeSearch
from rlcourse.games import Game

TINY = np.finfo(np.float64).tiny  # floor of a prior before its log or as a weight
EPSILON = 1e-8  # smallest max - min when rescaling completed Q


# ------------------------------------------------------------------------- pure pieces


def sigma(
    q: np.ndarray, visits: np.ndarray, c_visit: float = 50.0, c_scale: float = 1.0
) -> np.ndarray:
    """``(c_visit + max_b N(b)) * c_scale * q`` for values ``q`` [A] of the children of a node
    whose children have ``visits`` [A]."""
    return (c_visit + np.max(visits, initial=0.0)) * c_scale * np.asarray(q, dtype=np.float64)


def mixed_value(value: float, q: np.ndarray, n: np.ndarray, prior: np.ndarray) -> float:
    """v_mix (eq. 33): ``(value + sum N * sum_visited p(a) q(a) / sum_visited p(b)) /
    (1 + sum N)`` for a node valued ``value`` whose children have Q ``q``, visits ``n`` and prior
    ``p``; ``value`` itself before any visit."""
    n = np.asarray(n, dtype=np.float64)
    visited = n > 0
    if not visited.any():
        return float(value)
    weights = np.maximum(np.asarray(prior, dtype=np.float64)[visited], TINY)
    weighted_q = float((weights * np.asarray(q)[visited]).sum() / weights.sum())
    total = n.sum()
    return float((value + total * weighted_q) / (1.0 + total))


def completed_q(
    q: np.ndarray,
    n: np.ndarray,
    prior: np.ndarray,
    value: float,
    normalization: Literal["bounds", "minmax"] = "bounds",
) -> np.ndarray:
    """[A] in [0, 1]: Q of the visited children, :func:`mixed_value` for the others, mapped
    from [-1, 1] as ``(q + 1) / 2`` (``bounds``) or rescaled by the min and max of these
    completed values (``minmax``; all 0 when they are equal)."""
    completed = np.where(np.asarray(n) > 0, q, mixed_value(value, q, n, prior))
    if normalization == "bounds":
        return (completed + 1.0) / 2.0
    low, high = completed.min(), completed.max()
    return (completed - low) / max(high - low, EPSILON)


def improved_policy(
    logits: np.ndarray,
    completed: np.ndarray,
    n: np.ndarray,
    c_visit: float = 50.0,
    c_scale: float = 1.0,
) -> np.ndarray:
    """[A]: ``softmax(logits + sigma(completed))`` over a node's legal actions."""
    z = np.asarray(logits, dtype=np.float64) + sigma(completed, n, c_visit, c_scale)
    e = np.exp(z - z.max())
    return e / e.sum()


def halving_phases(simulations: int, considered: int) -> list[tuple[int, int]]:
    """Sequential halving's plan for ``simulations`` root visits over ``considered`` actions:
    (candidates, visits each) per phase. A phase of c candidates gives each
    ``max(1, simulations // (ceil(log2 considered) * c))`` visits; the better half (at least 2)
    go on, and phases of 2 repeat until the budget is spent; the last phase is cut short where
    the budget ends (see :func:`considered_visits`)."""
    if simulations < 1 or considered < 1:
        raise ValueError(
            f"halving needs simulations >= 1 and considered >= 1, got {simulations}, {considered}"
        )
    if considered == 1:
        return [(1, simulations)]
    rounds = math.ceil(math.log2(considered))
    phases: list[tuple[int, int]] = []
    total, candidates = 0, considered
    while total < simulations:
        visits = max(1, simulations // (rounds * candidates))
        phases.append((candidates, visits))
        total += candidates * visits
        candidates = max(2, candidates // 2)
    return phases


def considered_visits(simulations: int, considered: int) -> list[int]:
    """For each simulation of a search, the visits (so far in this search) of the root actions
    it may go to: the candidates still in the halving all have that many, the others fewer."""
    sequence: list[int] = []
    done = 0
    for candidates, visits in halving_phases(simulations, considered):
        for _ in range(visits):
            sequence += [done] * candidates
            done += 1
    return sequence[:simulations]


def phase_starts(simulations: int, considered: int) -> frozenset[int]:
    """Indices of the simulations that begin a phase after the first."""
    starts, total = set(), 0
    for candidates, visits in halving_phases(simulations, considered)[:-1]:
        total += candidates * visits
        starts.add(total)
    return frozenset(s for s in starts if s < simulations)


def root_action(scores: np.ndarray, visits: np.ndarray, required: float) -> int:
    """Index of the highest ``scores`` (``g + logits + sigma(completed Q)``) among the actions
    with ``required`` visits."""
    candidates = np.asarray(visits) == required
    if not candidates.any():
        raise ValueError(f"no root action has {required} visits (visits: {list(visits)})")
    return int(np.argmax(np.where(candidates, scores, -np.inf)))


def interior_action(policy: np.ndarray, n: np.ndarray) -> int:
    """``argmax_a policy(a) - N(a) / (1 + sum_b N(b))``: the child whose visit share lags its
    improved policy most."""
    n = np.asarray(n, dtype=np.float64)
    return int(np.argmax(policy - n / (1.0 + n.sum())))


# ------------------------------------------------------------------------------ search


class GumbelSearch(TreeSearch):
    """One game's Gumbel search. ``policy`` is the root's improved policy; the move played is
    the last survivor of sequential halving (:meth:`chosen_action`); ``search(noise=True)``
    draws the root's Gumbel noise (self-play), without it the search is deterministic."""

    #: the Gumbel draw is how the move played is sampled, so cheap searches keep it too
    noise_in_fast_searches: ClassVar[bool] = True

    def __init__(
        self,
        game: Game,
        evaluator: Evaluator,
        config: MCTSConfig | None = None,
        rng: np.random.Generator | int | None = None,
        state: Any = None,
    ) -> None:
        super().__init__(game, evaluator, config, rng, state)
        self._simulations = 0  # of the running search
        self._gumbel = np.empty(0)  # [legal root actions], set once the root is expanded
        self._visits = np.empty(0)  # this search's visits of each root action, in flight too
        self._sequence: list[int] = []
        self._phase_starts: frozenset[int] = frozenset()
        self._started = 0  # simulations of this search begun at the root

    # -------------------------------------------------------------------------- public

    def improved(self, node: Node) -> np.ndarray:
        """[legal actions of node]: softmax(logits + sigma(completed Q)) at an expanded node."""
        cfg = self.config
        completed = completed_q(node.q, node.n, node.prior, node.estimate, cfg.q_normalization)
        return improved_policy(node.logits, completed, node.n, cfg.c_visit, cfg.c_scale)

    def chosen_action(self) -> int:
        """The move of the last search: among the root actions it visited most, the best by
        ``g + logits + sigma(completed Q)``."""
        if not len(self._visits) or self._visits.max() == 0:
            raise ValueError("no root action was visited: run a search first")
        i = root_action(self._root_scores(), self._visits, self._visits.max())
        return int(self.root.actions[i])  # type: ignore[index]

    def policy(self, temperature: float = 1.0) -> np.ndarray:
        """[num_actions]: the root's improved policy raised to ``1 / temperature`` and
        normalised; at temperature 0 all mass on :meth:`chosen_action`."""
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        root = self.root
        if not root.expanded:
            raise ValueError("the root is not expanded: run a search first")
        probs = np.zeros(self.game.num_actions)
        if temperature == 0:
            probs[self.chosen_action()] = 1.0
            return probs
        improved = self.improved(root) ** (1.0 / temperature)
        probs[root.actions] = improved / improved.sum()
        return probs

    def select_action(self, temperature: float = 0.0) -> int:
        """:meth:`chosen_action` at temperature 0, else drawn from :meth:`policy`."""
        if temperature == 0:
            return self.chosen_action()
        probs = self.policy(temperature)
        return int(self.rng.choice(len(probs), p=probs))

    def policy_target(self) -> np.ndarray:
        """The improved policy."""
        return self.policy(1.0)

    def self_play_action(self, explore: bool) -> int:
        """:meth:`chosen_action` at every move: with root noise it is already a sample."""
        return self.chosen_action()

    def advance(self, action: int) -> None:
        """A fresh root for the position after ``action``."""
        root = self.root
        if root.expanded:
            root.child_index(action)  # refuses an illegal action
        self.root = Node(self.game.apply(root.state, action), self.game)
        self._visits = np.empty(0)

    # ---------------------------------------------------------------------- simulation

    def _select(self, node: Node) -> int:
        return interior_action(self.improved(node), node.n)

    def _expand(self, node: Node, priors: np.ndarray) -> None:
        super()._expand(node, priors)
        node.logits = np.log(np.maximum(node.prior, TINY))

    def _begin(self, simulations: int, noise: bool) -> None:
        super()._begin(simulations, noise)
        self._simulations, self._started = simulations, 0
        self._visits = np.empty(0)

    def _start_halving(self) -> None:
        """The halving schedule and the Gumbel draw, once the root is expanded."""
        legal = len(self.root.actions)  # type: ignore[arg-type]
        considered = min(self.config.considered_actions, legal)
        self._sequence = considered_visits(self._simulations, considered)
        self._phase_starts = phase_starts(self._simulations, considered)
        self._gumbel = self.rng.gumbel(size=legal) if self.noise else np.zeros(legal)
        self._visits = np.zeros(legal)

    def _root_scores(self) -> np.ndarray:
        """``g + logits + sigma(completed Q)`` of the root's legal actions."""
        root, cfg = self.root, self.config
        completed = completed_q(root.q, root.n, root.prior, root.estimate, cfg.q_normalization)
        return self._gumbel + root.logits + sigma(completed, root.n, cfg.c_visit, cfg.c_scale)

    def _collect(self, budget: int) -> tuple[list[tuple[Path, Node]], int]:
        root = self.root
        if not root.expanded:  # its evaluation first, not one of the simulations
            root.pending = True
            return [([], root)], 0
        if not len(self._visits):
            self._start_halving()
        leaves: list[tuple[Path, Node]] = []
        for spent in range(budget):
            if leaves and self._started in self._phase_starts:
                return leaves, spent  # rank the candidates once the last phase is backed up
            i = root_action(self._root_scores(), self._visits, self._sequence[self._started])
            path: Path = []
            path, leaf = self._descend(self._take(root, i, path), path)
            if not self._settle(path, leaf, leaves):
                return leaves, spent
            self._visits[i] += 1
            self._started += 1
        return leaves, budget


def make_search(
    game: Game,
    evaluator: Evaluator,
    config: MCTSConfig,
    rng: np.random.Generator | int | None = None,
    state: Any = None,
) -> TreeSearch:
    """The search ``config.root`` names: PUCT :class:`MCTS` or :class:`GumbelSearch`."""
    search = GumbelSearch if config.root == "gumbel" else MCTS
    return search(game, evaluator, config, rng, state)
