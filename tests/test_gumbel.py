"""Gumbel AlphaZero's root search: completed Q, sigma, the improved policy, sequential halving
and the root and interior choices against hand-worked numbers; searches and self-play on
tic-tac-toe."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from agents.alphazero.agent import AlphaZeroAgent
from agents.alphazero.config import MCTSConfig, SelfPlayConfig
from agents.alphazero.gumbel import (
    GumbelSearch,
    completed_q,
    considered_visits,
    halving_phases,
    improved_policy,
    interior_action,
    make_search,
    mixed_value,
    phase_starts,
    root_action,
    sigma,
)
from agents.alphazero.mcts import MCTS, Node, search_together
from agents.alphazero.selfplay import play_games
from agents.alphazero.system import SelfPlaySystem
from envs.tictactoe import TicTacToe
from tests.test_alphazero import tiny_config
from tests.test_mcts import FixedEvaluator

GAME = TicTacToe()
GUMBEL = MCTSConfig(root="gumbel", simulations=16, leaves_per_call=1, virtual_loss=0.0)


def hand_root(prior, n, w, estimate: float) -> Node:
    """An expanded node over actions 0..A-1 with its children's visits ``n``, value sums ``w``
    and the evaluator's value ``estimate``."""
    node = Node(GAME.initial_state(), GAME)
    node.actions = np.arange(len(prior))
    node.prior = np.asarray(prior, dtype=np.float64)
    node.logits = np.log(node.prior)
    node.n, node.w = np.asarray(n, dtype=np.float64), np.asarray(w, dtype=np.float64)
    node.q = np.where(node.n > 0, node.w / np.maximum(node.n, 1), 0.0)
    node.visits = 1 + node.n.sum()
    node.estimate = estimate
    node.children = [None] * len(prior)
    return node


# --------------------------------------------------------------------- the pure pieces


def test_completed_q_sigma_and_improved_policy_worked_out_by_hand():
    # prior (0.5, 0.3, 0.2), visits (3, 1, 0), Q (0.5, -0.5, -), network value 0.2.
    root = hand_root([0.5, 0.3, 0.2], [3, 1, 0], [1.5, -0.5, 0.0], estimate=0.2)
    # prior-weighted Q of the visited: (0.5 * 0.5 + 0.3 * -0.5) / 0.8 = 0.125
    # v_mix = (0.2 + 4 * 0.125) / (1 + 4) = 0.14
    assert mixed_value(0.2, root.q, root.n, root.prior) == pytest.approx(0.14)
    assert mixed_value(0.2, root.q, np.zeros(3), root.prior) == 0.2  # nothing visited yet
    # completed (0.5, -0.5, 0.14): (q + 1) / 2 = (0.75, 0.25, 0.57); by min -0.5 and max 0.5
    # instead: (1, 0, 0.64)
    completed = completed_q(root.q, root.n, root.prior, root.estimate)
    np.testing.assert_allclose(completed, [0.75, 0.25, 0.57])
    minmax = completed_q(root.q, root.n, root.prior, root.estimate, "minmax")
    np.testing.assert_allclose(minmax, [1.0, 0.0, 0.64])
    # sigma: (50 + max N 3) * c_scale * q = 53 q (c_scale 1) or 5.3 q (c_scale 0.1)
    np.testing.assert_allclose(sigma(completed, root.n), [39.75, 13.25, 30.21])
    np.testing.assert_allclose(sigma(completed, root.n, 50, 0.1), [3.975, 1.325, 3.021])
    # improved policy (c_scale 0.1): softmax(log p + sigma) ∝ p * exp(sigma)
    #   = (0.5 e^3.975, 0.3 e^1.325, 0.2 e^3.021) = (26.625, 1.129, 4.102) / 31.856
    #   = (0.8358, 0.0354, 0.1288)
    expected = np.array([0.5 * math.exp(3.975), 0.3 * math.exp(1.325), 0.2 * math.exp(3.021)])
    policy = improved_policy(root.logits, completed, root.n, 50, 0.1)
    np.testing.assert_allclose(policy, expected / expected.sum())
    np.testing.assert_allclose(policy, [0.8358, 0.0354, 0.1288], atol=1e-4)
    # nothing visited: every action completed with the value, so the policy is the prior
    for normalization in ("bounds", "minmax"):
        fresh = completed_q(np.zeros(3), np.zeros(3), root.prior, 0.3, normalization)
        np.testing.assert_allclose(improved_policy(root.logits, fresh, np.zeros(3)), root.prior)


def test_all_visits_on_one_action_still_move_the_policy_by_completed_q():
    # uniform prior, 10 visits on action 0 only, network value 0; sigma = (50 + 10) q = 60 q
    prior, n = np.full(4, 0.25), np.array([10.0, 0, 0, 0])
    # a bad action (Q -0.6): v_mix = (0 + 10 * -0.6) / 11 = -0.5455 for the other three;
    # (q + 1) / 2 = (0.2, 0.2273, 0.2273, 0.2273) -> sigma (12, 13.636, 13.636, 13.636)
    # improved ∝ (1, e^1.636, e^1.636, e^1.636) = (1, 5.136, 5.136, 5.136) / 16.41
    bad = completed_q(np.array([-0.6, 0, 0, 0]), n, prior, 0.0)
    np.testing.assert_allclose(bad, [0.2, 0.22727, 0.22727, 0.22727], atol=1e-5)
    policy = improved_policy(np.log(prior), bad, n)
    np.testing.assert_allclose(policy, [0.0609, 0.3130, 0.3130, 0.3130], atol=1e-4)
    # a good action (Q +0.6): the mass goes to it, (e^1.636, 1, 1, 1) / 8.136
    good = completed_q(np.array([0.6, 0, 0, 0]), n, prior, 0.0)
    policy = improved_policy(np.log(prior), good, n)
    np.testing.assert_allclose(policy, [0.6313, 0.1229, 0.1229, 0.1229], atol=1e-4)
    # where the visit counts would put everything on action 0 either way


@pytest.mark.parametrize(
    ("simulations", "considered", "phases", "starts", "final"),
    [
        # log2 4 = 2 phases: 16 // (2 * 4) = 2 visits to each of 4, then 16 // (2 * 2) = 4 to 2
        (16, 4, [(4, 2), (2, 4)], {8}, [6, 6, 2, 2]),
        # log2 8 = 3: 32 // 24 = 1 visit to 8, 32 // 12 = 2 to 4, 32 // 6 = 5 to 2 (26 spent),
        # then 2 more phases of 2 would follow: the budget ends after 6 of its 10 (3 each)
        (32, 8, [(8, 1), (4, 2), (2, 5), (2, 5)], {8, 16, 26}, [11, 11, 3, 3, 1, 1, 1, 1]),
        # fewer simulations than actions: one visit each to the first 3 of 8
        (3, 8, [(8, 1)], set(), [1, 1, 1, 0, 0, 0, 0, 0]),
        # 3 actions: ceil(log2 3) = 2 phases, 8 // 6 = 1 to each of 3, then 8 // 4 = 2 to 2
        (8, 3, [(3, 1), (2, 2), (2, 2)], {3, 7}, [4, 3, 1]),
        (5, 1, [(1, 5)], set(), [5]),  # a single legal move takes every visit
    ],
)
def test_sequential_halving_schedule_worked_out_by_hand(
    simulations, considered, phases, starts, final
):
    assert halving_phases(simulations, considered) == phases
    assert phase_starts(simulations, considered) == starts
    sequence = considered_visits(simulations, considered)
    assert len(sequence) == simulations
    # replay the schedule on actions ranked 0 (best) to m-1: each simulation visits the best
    # ranked action with the visits the sequence asks for
    visits = [0] * considered
    for required in sequence:
        visits[visits.index(required)] += 1
    assert visits == final
    with pytest.raises(ValueError, match="simulations >= 1"):
        halving_phases(0, 4)


def test_sequence_of_considered_visits_for_16_simulations_over_4_actions():
    assert considered_visits(16, 4) == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_root_and_interior_choices_worked_out_by_hand():
    # root_action: the best score among actions with the required visits
    scores = np.array([4.0, 9.0, 5.0, 7.0])
    assert root_action(scores, np.array([1, 2, 1, 1]), 1) == 3
    assert root_action(scores, np.array([1, 2, 1, 1]), 2) == 1
    with pytest.raises(ValueError, match="no root action has 3 visits"):
        root_action(scores, np.array([1, 2, 1, 1]), 3)
    # interior: pi - N / (1 + sum N)
    pi = np.array([0.5, 0.3, 0.2])
    assert interior_action(pi, np.array([3, 1, 0])) == 2  # (-0.1, 0.1, 0.2)
    assert interior_action(pi, np.array([0, 1, 0])) == 0  # (0.5, -0.2, 0.2)
    assert interior_action(pi, np.array([1, 0, 0])) == 1  # (0, 0.3, 0.2)


def test_the_gumbel_draw_decides_between_survivors_as_a_hand_computation_says():
    # survivors 0 and 1 with 2 visits each (Q 0.5 and -0.5), action 2 unvisited; value 0.2
    # v_mix = (0.2 + 4 * 0.125) / 5 = 0.14 -> completed (0.75, 0.25, 0.57); c_scale 0.1 and
    # max N 2: sigma = 5.2 * (0.75, 0.25, 0.57) = (3.9, 1.3, 2.964)
    config = GUMBEL.model_copy(update={"c_scale": 0.1})
    search = GumbelSearch(GAME, FixedEvaluator(), config)
    search.root = hand_root([0.5, 0.3, 0.2], [2, 2, 0], [1.0, -1.0, 0.0], estimate=0.2)
    search._visits = search.root.n.copy()
    # no noise: scores log p + sigma = (-0.693 + 3.9, -1.204 + 1.3, -1.609 + 2.964)
    #   = (3.207, 0.096, 1.355) -> action 0
    search._gumbel = np.zeros(3)
    np.testing.assert_allclose(search._root_scores(), [3.207, 0.096, 1.355], atol=1e-3)
    assert search.chosen_action() == 0
    # a draw g = (0, 2, 0): (3.207, 2.096, 1.355) -> still action 0
    search._gumbel = np.array([0.0, 2.0, 0.0])
    assert search.chosen_action() == 0
    # a draw g = (0, 4, 0): (3.207, 4.096, 1.355) -> action 1, the better-drawn survivor
    search._gumbel = np.array([0.0, 4.0, 0.0])
    assert search.chosen_action() == 1
    # the unvisited action 2 cannot be chosen however high its draw
    search._gumbel = np.array([0.0, 0.0, 50.0])
    assert search.chosen_action() == 0
    # policy: the improved policy ∝ (0.5 e^3.9, 0.3 e^1.3, 0.2 e^2.964), whatever the draw
    expected = np.array([0.5 * math.exp(3.9), 0.3 * math.exp(1.3), 0.2 * math.exp(2.964)])
    np.testing.assert_allclose(search.policy()[:3], expected / expected.sum())
    np.testing.assert_array_equal(search.policy(0.0)[:3], [1.0, 0.0, 0.0])


# ------------------------------------------------------------------------------ searches


@pytest.mark.parametrize("simulations", [8, 16])
@pytest.mark.parametrize("leaves", [1, 4])
def test_search_finds_the_winning_move(simulations, leaves):
    win = GAME.state_from_board("XX. OO. ...")  # X wins at 2 (O threatens 5)
    config = MCTSConfig(root="gumbel", simulations=simulations, leaves_per_call=leaves)
    for seed in range(5):
        for noise in (False, True):
            search = GumbelSearch(GAME, FixedEvaluator(), config, rng=seed, state=win)
            search.search(noise=noise)
            assert search.chosen_action() == 2, (seed, noise)
            assert int(np.argmax(search.policy_target())) == 2
            assert search.root.n.sum() == simulations  # the root's evaluation is extra


def test_without_noise_the_search_is_deterministic_and_with_it_the_draw_samples():
    moves = set()
    for seed in range(20):
        search = GumbelSearch(GAME, FixedEvaluator(), GUMBEL, rng=seed)
        search.search()
        moves.add(search.chosen_action())
    assert len(moves) == 1  # uniform priors, equal values, no draw: ties go the same way
    drawn = set()
    for seed in range(20):
        search = GumbelSearch(GAME, FixedEvaluator(), GUMBEL, rng=seed)
        search.search(noise=True)
        drawn.add(search.chosen_action())
    assert len(drawn) >= 4  # the draw picks among 9 equal moves


def test_a_phase_starts_only_when_the_last_one_is_backed_up():
    # m = 4 of the 9 moves, 16 simulations: phases (4 x 2), (2 x 4). With 8 leaves a call:
    # the root alone; the 4 children (the 5th simulation would revisit a child in flight);
    # their 4 second visits, then phase two waits for them although 8 leaves are allowed.
    evaluator = FixedEvaluator()
    config = MCTSConfig(root="gumbel", simulations=16, leaves_per_call=8, considered_actions=4)
    search = GumbelSearch(GAME, evaluator, config)
    search.search()
    assert evaluator.batches[:3] == [1, 4, 4]
    assert search.root.n.sum() == 16 and search.root.visits == 17
    assert sorted(search._visits.tolist()) == [0, 0, 0, 0, 0, 2, 2, 6, 6]


def test_trees_searched_together_match_trees_searched_alone():
    states = [GAME.initial_state(), GAME.state_from_board("X.. ... ..."),
              GAME.state_from_board("X.. .O. ...")]  # fmt: skip
    weights = [3, 1, 2, 1, 4, 1, 2, 1, 3]
    config = MCTSConfig(root="gumbel", considered_actions=4, leaves_per_call=4)
    shared = FixedEvaluator(weights, value=0.1)
    together = [GumbelSearch(GAME, shared, config, rng=k, state=s) for k, s in enumerate(states)]
    search_together(together, 24, noise=True)
    assert max(shared.batches) > 4  # leaves of several trees in one call
    for k, (s, tree) in enumerate(zip(states, together, strict=True)):
        alone = GumbelSearch(GAME, FixedEvaluator(weights, value=0.1), config, rng=k, state=s)
        np.testing.assert_array_equal(alone.search(24, noise=True), tree.visit_counts())
        assert alone.chosen_action() == tree.chosen_action()


def test_advance_starts_a_fresh_tree_and_bad_requests_are_refused():
    search = GumbelSearch(GAME, FixedEvaluator(), GUMBEL)
    with pytest.raises(ValueError, match="run a search first"):
        search.chosen_action()
    search.search()
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        search.policy(-1.0)
    move = search.chosen_action()
    search.advance(move)
    assert search.root.visits == 0 and search.root.state == GAME.apply(GAME.initial_state(), move)
    with pytest.raises(ValueError, match="run a search first"):
        search.chosen_action()
    search.search(4)
    with pytest.raises(ValueError, match=f"action {move} is not legal here"):
        search.advance(move)


def test_the_config_picks_the_search_and_defaults_to_puct():
    assert MCTSConfig().root == "puct"
    assert type(make_search(GAME, FixedEvaluator(), MCTSConfig())) is MCTS
    assert type(make_search(GAME, FixedEvaluator(), GUMBEL)) is GumbelSearch
    with pytest.raises(ValidationError, match="root"):
        MCTSConfig(root="ucb")


# ---------------------------------------------------------------------------- self-play


def test_self_play_records_improved_policies_of_legal_games():
    config = MCTSConfig(root="gumbel", simulations=8, leaves_per_call=4, c_scale=0.1)
    selfplay = SelfPlayConfig(parallel_games=3, resign_threshold=None)
    records = play_games(GAME, FixedEvaluator(value=0.0), 4, config, selfplay,
                         np.random.default_rng(0))  # fmt: skip
    assert len(records) == 4
    for r in records:
        state = GAME.initial_state()
        for t, move in enumerate(r.moves):
            legal = GAME.legal_actions(state)
            assert r.policies[t].sum() == pytest.approx(1.0)
            assert (r.policies[t][~legal] == 0).all()
            # an improved policy spreads mass beyond the 8 visits' few actions
            assert (r.policies[t][legal] > 0).all()
            state = GAME.apply(state, int(move))
        assert GAME.is_terminal(state) and r.returns == GAME.returns(state)


def test_one_self_play_iteration_with_the_gumbel_root():
    config = tiny_config()
    config = config.model_copy(update={"mcts": config.mcts.model_copy(update={"root": "gumbel"})})
    system = SelfPlaySystem(config, seed=0)
    metrics = system.round().metrics
    assert metrics["selfplay/games"] == 2 and metrics["train/loss"] > 0
    window = system.replay.target.window
    assert np.allclose(window.policies[: len(window)].sum(axis=1), 1.0)
    agent = AlphaZeroAgent(config)
    state = GAME.state_from_board("XX. OO. ...")
    assert GAME.legal_actions(state)[agent.act(state, deterministic=True)]
    assert GAME.legal_actions(state)[agent.act(state)]
