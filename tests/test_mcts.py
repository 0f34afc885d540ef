"""PUCT search: choices, policies, noise, backup and batching against hand-worked numbers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from agents.alphazero.config import MCTSConfig
from agents.alphazero.evaluators import RolloutEvaluator
from agents.alphazero.mcts import MCTS, Node, puct_scores, search_together, visit_policy
from envs.go.game import GoGame
from envs.tictactoe import TicTacToe

GAME = TicTacToe()
PLAIN = MCTSConfig(leaves_per_call=1, virtual_loss=0.0, dirichlet_fraction=0.25)


class FixedEvaluator:
    """Priors proportional to ``weights`` and a constant value for every mover; counts calls."""

    def __init__(self, weights: Sequence[float] = (1.0,) * 9, value: float = 0.0) -> None:
        self.priors = np.asarray(weights, dtype=np.float64) / np.sum(weights)
        self.value = value
        self.batches: list[int] = []

    def evaluate(self, states):
        self.batches.append(len(states))
        return np.tile(self.priors, (len(states), 1)), np.full(len(states), self.value)


def hand_node(prior, n, w, c_puct=1.5, fpu=0.0) -> Node:
    """An expanded node with three children, its visits 1 + sum(n)."""
    node = Node(GAME.initial_state(), GAME)
    node.actions = np.arange(len(prior))
    node.prior = np.asarray(prior, dtype=np.float64)
    node.c_prior = c_puct * node.prior
    node.n, node.w = np.asarray(n, dtype=np.float64), np.asarray(w, dtype=np.float64)
    node.q = np.where(node.n > 0, node.w / np.maximum(node.n, 1), fpu)
    node.visits = 1 + node.n.sum()
    node.children = [None] * len(prior)
    return node


def test_puct_picks_the_child_a_hand_computation_says():
    # visits 16, sqrt 4; U = 1.5 * P * 4 / (1 + N):
    #   a: Q 0.4 + 1.5*0.5*4/11 = 0.6727;  b: Q 0.6 + 1.5*0.3*4/6 = 0.9;  c: 0 + 1.5*0.2*4 = 1.2
    node = hand_node([0.5, 0.3, 0.2], [10, 5, 0], [4, 3, 0])
    np.testing.assert_allclose(puct_scores(node), [0.4 + 3 / 11, 0.9, 1.2])
    search = MCTS(GAME, FixedEvaluator(), PLAIN)
    search.root = node
    path, _ = search._descend()
    assert path == [(node, 2)]
    # With first-play urgency -0.5 the unvisited child scores 0.7 and b (0.9) wins.
    pessimistic = hand_node([0.5, 0.3, 0.2], [10, 5, 0], [4, 3, 0], fpu=-0.5)
    assert int(puct_scores(pessimistic).argmax()) == 1


def test_visit_policy_at_temperature_zero_one_and_a_half():
    counts = np.array([0, 10, 30, 30, 20])
    np.testing.assert_allclose(visit_policy(counts, 1.0), [0, 1 / 9, 3 / 9, 3 / 9, 2 / 9])
    np.testing.assert_allclose(visit_policy(counts, 0.0), [0, 0, 0.5, 0.5, 0])
    np.testing.assert_allclose(visit_policy(counts, 0.5), np.array([0, 100, 900, 900, 400]) / 2300)
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        visit_policy(counts, -1.0)
    with pytest.raises(ValueError, match="no visits"):
        visit_policy(np.zeros(4), 1.0)


def test_dirichlet_noise_touches_only_the_root_priors():
    weights = np.arange(1.0, 10.0)
    raw = weights / weights.sum()
    search = MCTS(GAME, FixedEvaluator(weights), PLAIN, rng=3)
    search.search(200, noise=True)
    root = search.root
    assert root.noised and not np.allclose(root.prior, raw)
    assert root.prior.sum() == pytest.approx(1.0)
    # prior = 0.75 raw + 0.25 Dirichlet: the remainder is a distribution scaled by 0.25
    noise = (root.prior - 0.75 * raw) / 0.25
    assert (noise >= 0).all() and noise.sum() == pytest.approx(1.0)
    inner = [c for c in root.children if c is not None and c.expanded]
    assert len(inner) == 9
    for child in inner:
        assert not child.noised
        np.testing.assert_allclose(child.prior, raw[child.actions] / raw[child.actions].sum())
    quiet = MCTS(GAME, FixedEvaluator(weights), PLAIN, rng=3)
    quiet.search(50, noise=False)
    np.testing.assert_allclose(quiet.root.prior, raw)


def test_dirichlet_alpha_is_scaled_by_the_legal_moves():
    """alpha = 10 / 9 on the empty board: the root noise's mean over many draws is uniform and
    its variance per entry is (1/9)(8/9) / (10 + 1)."""
    draws = []
    for seed in range(400):
        search = MCTS(GAME, FixedEvaluator(), MCTSConfig(dirichlet_fraction=1.0), rng=seed)
        search.search(2, noise=True)
        draws.append(search.root.prior)
    draws = np.array(draws)
    assert np.abs(draws.mean(axis=0) - 1 / 9).max() < 0.02
    assert draws.var(axis=0).mean() == pytest.approx((1 / 9) * (8 / 9) / 11, rel=0.2)


def test_value_backup_alternates_sign_between_players():
    search = MCTS(GAME, FixedEvaluator(value=0.5), PLAIN)
    search.search(1)  # expands the root: its own value 0.5 for X
    assert search.root.value_sum == 0.5 and search.root.visits == 1
    search.search(1)  # one child: 0.5 for O there, so -0.5 for X at the root
    root = search.root
    (i,) = np.flatnonzero(root.n)
    assert root.w[i] == -0.5 and root.q[i] == -0.5 and root.value_sum == 0.0
    child = root.children[i]
    assert child.player == 1 and child.value_sum == 0.5 and child.visits == 1
    # a terminal return (+1 for X) backed up a three-node path: +1 at X's nodes, -1 at O's
    x_node, o_node = hand_node([1, 0, 0], [0, 0, 0], [0, 0, 0]), hand_node([1], [0], [0])
    o_node.player = 1
    leaf = Node(GAME.state_from_board("XXX OO. ..."), GAME)
    search._backup([(x_node, 0), (o_node, 0)], leaf, leaf.terminal)
    assert leaf.terminal == (1.0, -1.0)
    assert (x_node.w[0], o_node.w[0], leaf.value_sum) == (1.0, -1.0, -1.0)


def test_search_finds_the_winning_move_and_the_block():
    win = GAME.state_from_board("XX. OO. ...")  # X wins at 2
    search = MCTS(GAME, RolloutEvaluator(GAME, seed=0), MCTSConfig(simulations=200), state=win)
    assert int(np.argmax(search.search())) == 2
    assert search.root.q[search.root.child_index(2)] == 1.0
    block = GAME.state_from_board("XX. .O. ...")  # O must block at 2
    search = MCTS(GAME, RolloutEvaluator(GAME, seed=0), MCTSConfig(simulations=400), state=block)
    assert int(np.argmax(search.search())) == 2


def test_virtual_loss_spreads_leaves_in_flight_and_leaves_no_trace():
    evaluator = FixedEvaluator(value=0.0)
    cfg = MCTSConfig(leaves_per_call=4, virtual_loss=1.0)
    search = MCTS(GAME, evaluator, cfg)
    search.search(1)
    search.search(4)  # one call with four leaves: four different children
    assert evaluator.batches == [1, 4]
    root = search.root
    assert (root.n == 1).sum() == 4 and root.visits == 5
    np.testing.assert_array_equal(root.w, 0.0)
    np.testing.assert_array_equal(root.q, 0.0)  # no virtual loss left after the backup


def test_collisions_end_a_round_but_every_simulation_is_counted():
    evaluator = FixedEvaluator()
    search = MCTS(GAME, evaluator, MCTSConfig(leaves_per_call=8))
    search.search(30)
    assert sum(evaluator.batches) == 30 and evaluator.batches[0] == 1  # root alone, then others
    assert search.root.visits == 30


def test_trees_searched_together_match_trees_searched_alone():
    states = [GAME.initial_state(), GAME.state_from_board("X.. ... ..."),
              GAME.state_from_board("X.. .O. ...")]  # fmt: skip
    weights = [3, 1, 2, 1, 4, 1, 2, 1, 3]
    shared = FixedEvaluator(weights, value=0.1)
    together = [MCTS(GAME, shared, MCTSConfig(leaves_per_call=4), state=s) for s in states]
    search_together(together, 40)
    assert max(shared.batches) > 4  # leaves of several trees in one call
    for s, tree in zip(states, together, strict=True):
        alone = MCTS(
            GAME, FixedEvaluator(weights, value=0.1), MCTSConfig(leaves_per_call=4), state=s
        )
        np.testing.assert_array_equal(alone.search(40), tree.visit_counts())


def test_tree_reuse_keeps_the_subtree_of_the_move_played():
    search = MCTS(GAME, RolloutEvaluator(GAME, seed=1), MCTSConfig(simulations=100))
    counts = search.search()
    move = int(np.argmax(counts))
    child = search.root.children[search.root.child_index(move)]
    search.advance(move)
    assert search.root is child and search.root.visits == counts[move]
    search.search(50)
    assert search.root.visits == counts[move] + 50
    fresh = MCTS(GAME, RolloutEvaluator(GAME, seed=1))
    fresh.advance(4)  # nothing searched yet: a new root for the position after the move
    assert fresh.root.visits == 0 and fresh.root.state == GAME.apply(GAME.initial_state(), 4)


def test_bad_requests_are_refused():
    search = MCTS(GAME, FixedEvaluator(), state=GAME.state_from_board("... .X. ..."))
    search.search(5)
    with pytest.raises(ValueError, match=r"action 4 is not legal here \(legal: \[0, 1, 2, 3, 5"):
        search.advance(4)
    over = MCTS(GAME, FixedEvaluator(), state=GAME.state_from_board("XXX OO. ..."))
    with pytest.raises(ValueError, match="terminal state"):
        over.search(1)
    with pytest.raises(ValueError, match="share one evaluator"):
        search_together([search, MCTS(GAME, FixedEvaluator())], 1)
    with pytest.raises(ValueError, match="simulations must be at least 1"):
        search.search(0)


def test_same_seed_same_search_on_go():
    game = GoGame(board_size=5, komi=0.5)

    def counts(seed: int) -> np.ndarray:
        search = MCTS(
            game, RolloutEvaluator(game, seed=seed), MCTSConfig(simulations=300), rng=seed
        )
        return search.search(noise=True)

    np.testing.assert_array_equal(counts(4), counts(4))
    assert not np.array_equal(counts(4), counts(5))
    assert counts(4).sum() == 299  # the first simulation expands the root
