"""PUCT Monte Carlo tree search over the small game protocol, with an injected evaluator.

A simulation descends from the root by PUCT, ``argmax_a Q(a) + c_puct P(a) sqrt(N) / (1 + N(a))``
where N is the node's own visit count (1 for its expansion plus its children's visits) and an
unvisited child's Q is ``fpu``; it stops at a node not yet expanded or a terminal one. The
evaluator gives the leaf's priors and value, the leaf is expanded over its legal actions, and the
value is backed up: each node on the path adds the value for *its* mover, so the sign flips
between the players of a two-player game.

Many simulations run per evaluator call: each tree collects up to ``leaves_per_call`` leaves,
with a virtual loss on every edge of a pending path (that many visits valued -1) steering the
next descent elsewhere, and :func:`search_together` evaluates the leaves of many trees (games)
in one batched call. A descent that meets a leaf already in flight is undone and ends the tree's
collection for that call. Statistics of a node's children live in NumPy arrays at the node, so a
selection is a handful of vector operations.

Root Dirichlet noise (self-play) mixes ``Dir(dirichlet_total / legal moves)`` into the root
priors only; :meth:`MCTS.advance` keeps the subtree of the move played (tree reuse). With
``forced_playouts_k`` (KataGo, Wu 2019) a noised root first gives each child
``sqrt(k P N)`` visits (:func:`forced_visits`), and the policy target takes them back
(:func:`pruned_visits`).

:class:`TreeSearch` holds what every search shares (nodes, virtual loss, backup, expansion,
batched collection); :class:`MCTS` adds PUCT and the root noise, and
:class:`agents.alphazero.gumbel.GumbelSearch` Gumbel AlphaZero's root and interior rules.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

import numpy as np

from agents.alphazero.config import MCTSConfig
from rlcourse.games import Game


class Evaluator(Protocol):
    def evaluate(self, states: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Priors [B, num_actions] (mass on illegal actions is ignored) and values [B] in
        [-1, 1], each from the point of view of its state's player to move."""
        ...


def as_returns(player: int, value: float) -> tuple[float, float]:
    """A value for ``player`` as the (player 0, player 1) returns of a zero-sum game."""
    return (value, -value) if player == 0 else (-value, value)


class Node:
    """A search node: its state and, once expanded, its legal actions with per-child arrays
    ``prior``, ``n`` (visits), ``w`` (value sums) and ``q`` (= w / n, or fpu if unvisited), all
    from the point of view of this node's player to move; ``estimate`` is the evaluator's value
    of the node (for its player to move) and ``logits`` the log-priors (Gumbel search only)."""

    __slots__ = ("actions", "c_prior", "children", "estimate", "logits", "n", "noised",
                 "pending", "player", "prior", "q", "state", "terminal", "value_sum", "visits",
                 "w")  # fmt: skip

    def __init__(self, state: Any, game: Game) -> None:
        self.state = state
        self.player = game.current_player(state)
        self.terminal: tuple[float, float] | None = (
            game.returns(state) if game.is_terminal(state) else None
        )
        self.actions: np.ndarray | None = None
        self.prior = self.c_prior = self.logits = self.n = self.w = self.q = np.empty(0)
        self.estimate = 0.0
        self.children: list[Node | None] = []
        self.visits = 0.0  # own expansion + children's visits (+ virtual losses in flight)
        self.value_sum = 0.0  # values backed up through this node, for its player to move
        self.noised = False
        self.pending = False  # an evaluation of this leaf is in flight

    @property
    def expanded(self) -> bool:
        return self.actions is not None

    def value(self) -> float:
        """Mean backed-up value for this node's player to move (0 before any visit)."""
        return self.value_sum / self.visits if self.visits else 0.0

    def child_index(self, action: int) -> int:
        """Position of ``action`` among the expanded node's legal actions."""
        assert self.actions is not None
        i = int(np.searchsorted(self.actions, action))
        if i == len(self.actions) or self.actions[i] != action:
            raise ValueError(f"action {action} is not legal here (legal: {self.actions.tolist()})")
        return i


Path = list[tuple[Node, int]]  # (node, child index) from the root down


def puct_scores(node: Node) -> np.ndarray:
    """Q + U of every child of an expanded node (``c_prior`` = c_puct * prior)."""
    return node.q + node.c_prior * (math.sqrt(node.visits) / (1.0 + node.n))


def forced_visits(prior: np.ndarray, n: np.ndarray, k: float) -> np.ndarray:
    """[A]: ``sqrt(k P(c) sum_b N(b))``, the visits KataGo's forced playouts give each child of
    a noised root (Wu 2019, section 3.1) with priors ``prior`` and visits ``n``."""
    return np.sqrt(k * np.asarray(prior, dtype=np.float64) * np.sum(n))


def pruned_visits(node: Node, k: float) -> np.ndarray:
    """[A]: the expanded root's child visits with its forced playouts taken back (policy target
    pruning, Wu 2019, section 3.1). The most visited child c* keeps its visits; every other
    child loses up to :func:`forced_visits` as long as its PUCT score stays below c*'s, and a
    child left with 1 visit or fewer drops to 0."""
    n = np.asarray(node.n, dtype=np.float64)
    best = int(n.argmax())
    explore = node.c_prior * math.sqrt(node.visits)  # PUCT's U is explore / (1 + n)
    gap = node.q[best] + explore[best] / (1.0 + n[best]) - node.q
    # the visits at which a child's U closes the gap to c*'s score: fewer would overtake c*
    floor = np.divide(explore, gap, out=np.full_like(n, np.inf), where=gap > 0) - 1.0
    pruned = np.minimum(n, np.maximum(n - forced_visits(node.prior, n, k), floor))
    pruned[pruned <= 1.0] = 0.0
    pruned[best] = n[best]
    return pruned


def visit_policy(counts: np.ndarray, temperature: float) -> np.ndarray:
    """Move probabilities from visit counts: proportional to ``counts ** (1 / temperature)``;
    at temperature 0 the most visited moves share the mass equally."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    counts = np.asarray(counts, dtype=np.float64)
    top = counts.max(initial=0.0)
    if top <= 0:
        raise ValueError("no visits to turn into a policy: run a search first")
    if temperature == 0:
        best = (counts == top).astype(np.float64)
        return best / best.sum()
    weights = (counts / top) ** (1.0 / temperature)
    return weights / weights.sum()


class TreeSearch(ABC):
    """One game's search tree without a selection rule: subclasses choose the child to descend
    into (``_select``) and what a search returns as a policy. ``search`` runs simulations from
    the root; ``advance`` moves the root to the child played."""

    #: whether a cheap self-play search (playout cap randomisation) still takes its root noise:
    #: no where the noise only explores for the policy target (PUCT's Dirichlet noise)
    noise_in_fast_searches: ClassVar[bool] = False

    def __init__(
        self,
        game: Game,
        evaluator: Evaluator,
        config: MCTSConfig | None = None,
        rng: np.random.Generator | int | None = None,
        state: Any = None,
    ) -> None:
        self.game, self.evaluator = game, evaluator
        self.config = config or MCTSConfig()
        self.rng = np.random.default_rng(rng)
        self.root = Node(game.initial_state() if state is None else state, game)
        self.noise = False  # root noise for the running search (self-play)

    # -------------------------------------------------------------------------- public

    def search(self, simulations: int | None = None, noise: bool = False) -> np.ndarray:
        """Run ``simulations`` (default: the config's) new simulations; returns the root's
        visit counts [num_actions]. ``noise``: the search's root noise (self-play)."""
        search_together([self], simulations, noise)
        return self.visit_counts()

    def visit_counts(self) -> np.ndarray:
        """[num_actions] float: visits of each root child (zero for illegal actions)."""
        counts = np.zeros(self.game.num_actions)
        if self.root.expanded:
            counts[self.root.actions] = self.root.n
        return counts

    @abstractmethod
    def policy(self, temperature: float = 1.0) -> np.ndarray:
        """[num_actions] move probabilities of the search."""

    @abstractmethod
    def select_action(self, temperature: float = 0.0) -> int:
        """The move to play after a search (drawn at ``temperature`` > 0)."""

    @abstractmethod
    def policy_target(self) -> np.ndarray:
        """[num_actions]: what self-play records as the network's policy target."""

    @abstractmethod
    def self_play_action(self, explore: bool) -> int:
        """The move self-play plays; ``explore`` in the opening moves that are sampled."""

    def root_value(self) -> float:
        """The root's mean value for its player to move."""
        return self.root.value()

    def best_child_value(self) -> float:
        """The highest Q among the root's visited children (root value if none is visited)."""
        root = self.root
        if not root.expanded or not (root.n > 0).any():
            return root.value()
        return float(root.q[root.n > 0].max())

    def advance(self, action: int) -> None:
        """Make the child reached by ``action`` the root, keeping its subtree."""
        root, child = self.root, None
        if root.expanded:
            child = root.children[root.child_index(action)]
        if child is None:
            child = Node(self.game.apply(root.state, action), self.game)
        self.root = child

    # ---------------------------------------------------------------------- simulation

    @abstractmethod
    def _select(self, node: Node) -> int:
        """Index of the child of an expanded, non-terminal node to descend into."""

    def _descend(self, node: Node | None = None, path: Path | None = None) -> tuple[Path, Node]:
        """Walk down by ``_select`` from ``node`` (default: the root) to a leaf, extending
        ``path`` and adding virtual loss on the way."""
        node = self.root if node is None else node
        path = [] if path is None else path
        while node.actions is not None and node.terminal is None:
            node = self._take(node, self._select(node), path)
        return path, node

    def _take(self, node: Node, i: int, path: Path) -> Node:
        """Step to child ``i`` of an expanded node (created on its first visit), adding the
        edge to ``path`` and virtual loss to it."""
        loss = self.config.virtual_loss
        path.append((node, i))
        if loss:
            node.n[i] += loss
            node.w[i] -= loss
            node.q[i] = node.w[i] / node.n[i]
            node.visits += loss
        child = node.children[i]
        if child is None:
            action = int(node.actions[i])  # type: ignore[index]
            child = node.children[i] = Node(self.game.apply(node.state, action), self.game)
        return child

    def _undo_virtual_loss(self, path: Path) -> None:
        loss = self.config.virtual_loss
        if not loss:
            return
        fpu = self.config.fpu
        for node, i in path:
            node.n[i] -= loss
            node.w[i] += loss
            node.q[i] = node.w[i] / node.n[i] if node.n[i] > 0 else fpu
            node.visits -= loss

    def _backup(self, path: Path, leaf: Node, returns: tuple[float, float]) -> None:
        """Add one visit valued ``returns[player]`` to every node on the path (replacing the
        virtual loss)."""
        loss = self.config.virtual_loss
        leaf.visits += 1.0
        leaf.value_sum += returns[leaf.player]
        for node, i in path:
            value = returns[node.player]
            n = node.n[i] = node.n[i] + 1.0 - loss
            w = node.w[i] = node.w[i] + value + loss
            node.q[i] = w / n
            node.visits += 1.0 - loss
            node.value_sum += value

    def _expand(self, node: Node, priors: np.ndarray) -> None:
        actions = np.flatnonzero(self.game.legal_actions(node.state))
        if len(actions) == 0:
            raise ValueError(f"a non-terminal state has no legal action: {node.state!r}")
        prior = np.asarray(priors, dtype=np.float64)[actions]
        total = prior.sum()
        prior = prior / total if total > 0 else np.full(len(actions), 1.0 / len(actions))
        node.actions = actions
        node.prior = prior
        node.c_prior = self.config.c_puct * prior
        node.n = np.zeros(len(actions))
        node.w = np.zeros(len(actions))
        node.q = np.full(len(actions), self.config.fpu)
        node.children = [None] * len(actions)

    def _begin(self, simulations: int, noise: bool) -> None:
        """Start a search of ``simulations`` simulations, with root noise or without."""
        self.noise = noise

    def _settle(self, path: Path, leaf: Node, leaves: list[tuple[Path, Node]]) -> bool:
        """Back up a terminal leaf at once or queue a new one for evaluation; False (and the
        descent undone) when the leaf is already in flight."""
        if leaf.terminal is not None:
            self._backup(path, leaf, leaf.terminal)
        elif leaf.pending:
            self._undo_virtual_loss(path)
            return False
        else:
            leaf.pending = True
            leaves.append((path, leaf))
        return True

    def _collect(self, budget: int) -> tuple[list[tuple[Path, Node]], int]:
        """Up to ``budget`` descents: the leaves to evaluate, and the simulations of the budget
        spent (leaves queued and terminal leaves, backed up at once)."""
        leaves: list[tuple[Path, Node]] = []
        for spent in range(budget):
            path, leaf = self._descend()
            if not self._settle(path, leaf, leaves):
                return leaves, spent
        return leaves, budget

    def _finish(self, path: Path, leaf: Node, priors: np.ndarray, value: float) -> None:
        leaf.pending = False
        self._expand(leaf, priors)
        leaf.estimate = float(value)
        self._backup(path, leaf, as_returns(leaf.player, float(value)))


class MCTS(TreeSearch):
    """PUCT search. ``policy`` turns the root's visits into move probabilities; self-play adds
    Dirichlet noise to the root priors."""

    def policy(self, temperature: float = 1.0) -> np.ndarray:
        return visit_policy(self.visit_counts(), temperature)

    def select_action(self, temperature: float = 0.0) -> int:
        """An action drawn from :meth:`policy` (ties at temperature 0 broken at random)."""
        probs = self.policy(temperature)
        return int(self.rng.choice(len(probs), p=probs))

    def policy_target(self) -> np.ndarray:
        """The root's visit distribution at temperature 1; with forced playouts at a noised
        root, of the :func:`pruned_visits`."""
        k, root = self.config.forced_playouts_k, self.root
        if not (k and root.noised):
            return self.policy(1.0)
        counts = np.zeros(self.game.num_actions)
        counts[root.actions] = pruned_visits(root, k)
        return visit_policy(counts, 1.0)

    def self_play_action(self, explore: bool) -> int:
        """Drawn from the visits (``explore``) or the most visited."""
        return self.select_action(1.0 if explore else 0.0)

    def _select(self, node: Node) -> int:
        scores = puct_scores(node)
        k = self.config.forced_playouts_k
        if k and self.noise and node is self.root:
            short = node.n < forced_visits(node.prior, node.n, k)
            if short.any():  # forced playouts: the best-scored child still short of its due
                return int(np.where(short, scores, -np.inf).argmax())
        return int(scores.argmax())

    def add_root_noise(self) -> None:
        """Mix Dirichlet(dirichlet_total / legal moves) noise into the expanded root's priors."""
        root, cfg = self.root, self.config
        assert root.actions is not None
        alpha = cfg.dirichlet_total / len(root.actions)
        noise = self.rng.dirichlet(np.full(len(root.actions), alpha))
        root.prior = (1.0 - cfg.dirichlet_fraction) * root.prior + cfg.dirichlet_fraction * noise
        root.c_prior = cfg.c_puct * root.prior
        root.noised = True

    def _collect(self, budget: int) -> tuple[list[tuple[Path, Node]], int]:
        root = self.root
        if self.noise and root.expanded and not root.noised and self.config.dirichlet_fraction:
            self.add_root_noise()
        return super()._collect(budget)


def search_together(
    searches: Sequence[TreeSearch],
    simulations: int | Sequence[int] | None = None,
    noise: bool | Sequence[bool] = False,
) -> None:
    """Run new simulations in every tree, evaluating the leaves of all trees in one call of
    their shared evaluator per round. ``simulations`` and ``noise`` (root noise) are one value
    for every tree or one per tree; ``simulations`` defaults to the first search's config."""
    if not searches:
        return
    evaluator = searches[0].evaluator
    if any(s.evaluator is not evaluator for s in searches):
        raise ValueError("searches run together must share one evaluator")
    for s in searches:
        if s.root.terminal is not None:
            raise ValueError(f"cannot search from a terminal state: {s.root.state!r}")
    if simulations is None:
        simulations = searches[0].config.simulations
    todo = list(simulations) if isinstance(simulations, Sequence) else [simulations] * len(searches)
    noises = list(noise) if isinstance(noise, Sequence) else [noise] * len(searches)
    if len(todo) != len(searches) or len(noises) != len(searches):
        raise ValueError(
            f"{len(searches)} searches need as many simulations and noise flags, got "
            f"{len(todo)} and {len(noises)}"
        )
    if min(todo) < 1:
        raise ValueError(f"simulations must be at least 1, got {min(todo)}")
    for s, count, noised in zip(searches, todo, noises, strict=True):
        s._begin(count, noised)
    while any(todo):
        batch: list[tuple[TreeSearch, Path, Node]] = []
        for k, s in enumerate(searches):
            if todo[k]:
                leaves, spent = s._collect(min(todo[k], s.config.leaves_per_call))
                todo[k] -= spent
                batch += [(s, path, leaf) for path, leaf in leaves]
        if batch:
            priors, values = evaluator.evaluate([leaf.state for _, _, leaf in batch])
            for (s, path, leaf), p, v in zip(batch, priors, values, strict=True):
                s._finish(path, leaf, p, v)
