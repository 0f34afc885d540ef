"""KataGo's additions (Wu 2019): auxiliary ownership and score targets from finished Go games,
the policy loss weighted by playout cap randomisation, the auxiliary loss by hand, forced
playouts with policy target pruning, and a self-play iteration on 5x5 Go with all of it on."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError

import agents.alphazero.selfplay as selfplay_module
from agents.alphazero.agent import AlphaZeroAgent
from agents.alphazero.config import (
    AlphaZeroConfig,
    ArenaConfig,
    DistributedConfig,
    GameConfig,
    LearnerConfig,
    MCTSConfig,
    NetworkConfig,
    SelfPlayConfig,
)
from agents.alphazero.evaluators import NeuralEvaluator
from agents.alphazero.learner import Batch, ReplayWindow, alphazero_loss, auxiliary_loss
from agents.alphazero.mcts import MCTS, Node, forced_visits, pruned_visits, search_together
from agents.alphazero.network import Prediction, net_for
from agents.alphazero.selfplay import GameRecord, play_games
from agents.alphazero.system import SelfPlaySystem
from envs.go.game import GoGame
from envs.go.rules import BLACK, EMPTY, WHITE, GoState
from envs.tictactoe import TicTacToe

TTT = TicTacToe()
GO5 = GoGame(board_size=5, komi=0.5, history=1)
X, O, _ = BLACK, WHITE, EMPTY

# A finished-looking 5x5 position. Black: the stones of column 1, the territory of column 0,
# and a lone stone at the top right that Tromp-Taylor area scoring counts as alive. White: the
# stones of column 2 and of row 1 to its right, and the territory below them. The point between
# the lone black stone and white's wall touches both colours: neutral.
BOARD = np.array([
    [_, X, O, _, X],
    [_, X, O, O, O],
    [_, X, O, _, _],
    [_, X, O, _, _],
    [_, X, O, _, _],
], dtype=np.int8)  # fmt: skip
OWNERSHIP = np.array([  # for black (player 0)
    [1, 1, -1, 0, 1],
    [1, 1, -1, -1, -1],
    [1, 1, -1, -1, -1],
    [1, 1, -1, -1, -1],
    [1, 1, -1, -1, -1],
], dtype=np.float32).ravel()  # fmt: skip
# black area 5 + 5 + 1 = 11, white 5 + 2 + 6 = 13, komi 0.5: black's margin 11 - 13 - 0.5
MARGIN = -2.5


class PassOnly:
    """All prior on passing, value 0 for every mover."""

    def __init__(self, game):
        self.prior = np.eye(game.num_actions)[game.num_actions - 1]

    def evaluate(self, states):
        return np.tile(self.prior, (len(states), 1)), np.zeros(len(states))


class Uniform:
    def __init__(self, num_actions):
        self.num_actions = num_actions

    def evaluate(self, states):
        n = len(states)
        return np.full((n, self.num_actions), 1.0 / self.num_actions), np.zeros(n)


def go_record(players, ownership=OWNERSHIP, score=MARGIN, weights=None):
    t = len(players)
    return GameRecord(
        np.zeros((t, *GO5.planes_shape), np.float32), np.full((t, 26), 1 / 26, np.float32),
        np.zeros(t, np.float32), np.asarray(players, np.int8), np.arange(t, dtype=np.int32),
        (-1.0, 1.0), None, False, None, weights, ownership, score,
    )  # fmt: skip


# ------------------------------------------------------------------- auxiliary targets


def test_the_game_scores_the_hand_built_position_as_worked_out():
    final = GoState.from_board(BOARD, BLACK, komi=0.5).play(25).play(25)
    assert final.is_terminal and GO5.returns(final) == (-1.0, 1.0)
    np.testing.assert_array_equal(GO5.area_ownership(final).ravel(), OWNERSHIP)
    assert GO5.score_margin(final) == MARGIN


def test_ownership_and_score_targets_are_seen_from_each_mover():
    r = go_record([0, 1, 0])
    targets = r.ownership_targets()
    np.testing.assert_array_equal(targets[0], OWNERSHIP)  # black's points are +1 for black
    np.testing.assert_array_equal(targets[1], -OWNERSHIP)  # and -1 for white
    np.testing.assert_array_equal(targets[2], OWNERSHIP)
    assert targets[1].reshape(5, 5)[0, 3] == 0  # neutral from both sides
    np.testing.assert_allclose(r.score_targets(), [-0.1, 0.1, -0.1])  # -2.5 / 25 points
    with pytest.raises(ValueError, match="no final ownership"):
        go_record([0], ownership=None, score=None).ownership_targets()


def test_self_play_records_the_final_ownership_and_margin_of_a_game_ended_on_the_board():
    """Black has passed; white, to move and winning on the board, passes too."""
    start = GoState.from_board(BOARD, BLACK, komi=0.5).play(25)
    mcts = MCTSConfig(simulations=8, leaves_per_call=2, dirichlet_fraction=0.0)
    cfg = SelfPlayConfig(temperature_moves=0, resign_threshold=None, parallel_games=1)
    (r,) = play_games(GO5, PassOnly(GO5), 1, mcts, cfg, np.random.default_rng(0), start=start)
    assert r.moves.tolist() == [25] and r.players.tolist() == [1] and r.returns == (-1.0, 1.0)
    np.testing.assert_array_equal(r.ownership, OWNERSHIP)
    assert r.score == MARGIN
    np.testing.assert_array_equal(r.ownership_targets()[0], -OWNERSHIP)
    np.testing.assert_allclose(r.score_targets(), [0.1])
    assert r.policy_weights.tolist() == [1.0]  # playout cap randomisation is off by default


def test_the_replay_keeps_auxiliary_targets_of_scored_games_only_and_moves_them_with_the_board():
    replay = ReplayWindow(GO5, capacity=8)
    resigned = go_record([0, 1], ownership=None, score=None)
    replay.add_games([go_record([0, 1]), resigned])
    assert replay.aux_weights[:4].tolist() == [1.0, 1.0, 0.0, 0.0]
    np.testing.assert_allclose(replay.scores[:2], [-0.1, 0.1])
    batch = replay.sample(64, np.random.default_rng(0), augment=True)
    for ownership, weight, score in zip(batch.ownership.numpy(), batch.aux_weights.numpy(),
                                        batch.scores.numpy(), strict=True):  # fmt: skip
        if weight == 0:
            assert not ownership.any()
            continue
        sign = 1.0 if score < 0 else -1.0  # black's positions have margin -0.1
        images = [GO5.symmetries(np.zeros((3, 5, 5)), np.append(OWNERSHIP, 0))[k][1][:25]
                  for k in range(8)]  # fmt: skip
        assert any(np.array_equal(ownership, sign * image) for image in images)
    restored = ReplayWindow(GO5, capacity=8)
    restored.load_state_dict(replay.state_dict())
    np.testing.assert_array_equal(restored.ownership, replay.ownership)
    old = {k: v for k, v in replay.state_dict().items() if k in ("planes", "policies", "values",
                                                               "added")}  # fmt: skip
    restored.load_state_dict(old)  # a window saved before these targets existed
    assert restored.aux_weights[:4].tolist() == [0.0] * 4
    assert restored.policy_weights[:4].tolist() == [1.0] * 4


# ------------------------------------------------------------------------------ losses


class FixedLogits(torch.nn.Module):
    """Policy probabilities (1/2, 1/4, 1/8, 1/8) and value 0.5 for every position."""

    def forward(self, planes):
        probs = torch.tensor([0.5, 0.25, 0.125, 0.125])
        return probs.log().expand(len(planes), 4), torch.full((len(planes),), 0.5)


def test_the_policy_loss_averages_over_the_positions_whose_policy_target_counts():
    """Targets: action 0 (cross-entropy log 2) and action 2 (log 8 = 3 log 2)."""
    targets = torch.tensor([[1.0, 0, 0, 0], [0, 0, 1.0, 0]])
    planes, outcomes = torch.zeros(2, 1, 2, 2), torch.ones(2)
    expected = {None: 2 * math.log(2), (1.0, 1.0): 2 * math.log(2), (1.0, 0.0): math.log(2),
                (0.0, 1.0): 3 * math.log(2), (0.0, 0.0): 0.0}  # fmt: skip
    for weights, policy_loss in expected.items():
        w = None if weights is None else torch.tensor(weights)
        loss, parts = alphazero_loss(FixedLogits(), Batch(planes, targets, outcomes, w))
        assert parts["policy_loss"] == pytest.approx(policy_loss)
        assert parts["value_loss"] == pytest.approx(0.25)  # the value targets all count
        assert loss.item() == pytest.approx(policy_loss + 0.25)


def test_the_auxiliary_loss_worked_out_by_hand():
    """Ownership logits 0 predict an even chance of owning each point: binary cross-entropy
    log 2 whatever the target (+1, -1 or neutral). Score 0 against 0.5 is a Huber loss of
    0.5 * 0.5**2 = 0.125, against 3 (beyond delta 1) 3 - 0.5 = 2.5; the third position's
    weight is 0."""
    ownership = torch.tensor([[1.0, -1.0], [0.0, 0.0], [1.0, 1.0]])
    scores = torch.tensor([0.5, 3.0, -7.0])
    prediction = Prediction(torch.zeros(3, 4), torch.zeros(3), torch.zeros(3, 2), torch.zeros(3))
    config = LearnerConfig(ownership_weight=1.5, score_weight=2.0)
    for weights, own, score in (((1.0, 0.0, 0.0), math.log(2), 0.125),
                                ((1.0, 1.0, 0.0), math.log(2), (0.125 + 2.5) / 2)):  # fmt: skip
        batch = Batch(torch.zeros(3, 1, 1, 2), torch.zeros(3, 4), torch.zeros(3), None,
                      ownership, scores, torch.tensor(weights))  # fmt: skip
        loss, parts = auxiliary_loss(prediction, batch, config)
        assert parts["ownership_loss"] == pytest.approx(own)
        assert parts["score_loss"] == pytest.approx(score)
        assert loss.item() == pytest.approx(1.5 * own + 2.0 * score)


# ----------------------------------------------------------- playout cap randomisation


def test_playout_cap_randomisation_draws_full_searches_at_the_configured_rate(monkeypatch):
    """Each move's search is full (16 simulations, root noise, policy weight 1) with
    probability 1/4, else fast (4 simulations, weight 0; no Dirichlet noise under PUCT, while a
    Gumbel root keeps the draw that samples its move); the records carry the weights of the
    searches that were run."""
    calls: list[tuple[list[int], list[bool]]] = []
    real = selfplay_module.search_together

    def spy(searches, simulations=None, noise=False):
        calls.append((list(simulations), list(noise)))
        real(searches, simulations, noise)

    monkeypatch.setattr(selfplay_module, "search_together", spy)
    cfg = SelfPlayConfig(parallel_games=1, resign_threshold=None, full_search_probability=0.25,
                         fast_simulations=4)  # fmt: skip
    for root in ("puct", "gumbel"):
        calls.clear()
        mcts = MCTSConfig(simulations=16, leaves_per_call=4, root=root)
        records = play_games(TTT, Uniform(9), 60, mcts, cfg, np.random.default_rng(7))
        weights = np.concatenate([r.policy_weights for r in records])
        assert [n for (n,), _ in calls] == [16 if w else 4 for w in weights]
        noised = [bool(w) or root == "gumbel" for w in weights]
        assert [z for _, (z,) in calls] == noised
        # ~480 moves: the share's standard deviation is about 0.02
        assert 0.15 < weights.mean() < 0.35, weights.mean()
        assert set(weights.tolist()) == {0.0, 1.0}


def test_fast_gumbel_searches_still_sample_the_move_played():
    """Without its Gumbel draw a fast search would play the same move in every game: with
    uniform priors the opening moves of fast-only games must differ."""
    cfg = SelfPlayConfig(parallel_games=8, resign_threshold=None, full_search_probability=1e-9,
                         fast_simulations=4)  # fmt: skip
    mcts = MCTSConfig(simulations=16, leaves_per_call=4, root="gumbel")
    records = play_games(TTT, Uniform(9), 16, mcts, cfg, np.random.default_rng(3))
    assert all(not r.policy_weights.any() for r in records)  # every search was fast
    openings = {int(r.moves[0]) for r in records}
    assert len(openings) >= 4  # 16 games, 9 equally good first moves


def test_searches_run_together_take_their_own_budgets():
    evaluator = Uniform(9)
    searches = [MCTS(TTT, evaluator, MCTSConfig(leaves_per_call=2)) for _ in range(2)]
    search_together(searches, [6, 2], [True, False])
    assert [s.root.visits for s in searches] == [6, 2]  # the expansion is one of them
    assert [s.root.noised for s in searches] == [True, False]
    with pytest.raises(ValueError, match="2 searches need as many simulations"):
        search_together(searches, [1], False)


# ------------------------------------------------- forced playouts and target pruning


def root_node(prior, n, q, c_puct=1.0):
    node = Node(TTT.initial_state(), TTT)
    node.actions = np.arange(len(prior))
    node.prior = np.asarray(prior, dtype=np.float64)
    node.c_prior = c_puct * node.prior
    node.n = np.asarray(n, dtype=np.float64)
    node.q = np.asarray(q, dtype=np.float64)
    node.w = node.q * node.n
    node.visits = 1 + node.n.sum()
    node.children = [None] * len(prior)
    return node


def test_policy_target_pruning_worked_out_by_hand():
    """N = 63 (visits 64, sqrt 8), c_puct 1, k 2: forced visits sqrt(2 P 63) are 6.148, 5.020
    and 3.550 for the priors 0.3, 0.2, 0.1. The best child scores 0.3 + 0.4 * 8 / 41 = 0.37805;
    a child keeps at least the visits at which its score 8 P / (1 + n') + Q reaches that:
    b: 2.4 / 0.27805 - 1 = 7.631 (more than 12 - 6.148: the score bound binds);
    c: 1.6 / 0.87805 - 1 = 0.822, less than 8 - 5.020 = 2.980 (all forced visits go);
    d: 0.8 / 0.57805 - 1 = 0.384, and 3 - 3.550 < 0: left with under one visit, dropped."""
    node = root_node([0.4, 0.3, 0.2, 0.1], [40, 12, 8, 3], [0.3, 0.1, -0.5, -0.2])
    np.testing.assert_allclose(forced_visits(node.prior, node.n, 2.0)[1:],
                               [6.148, 5.020, 3.550], atol=1e-3)  # fmt: skip
    np.testing.assert_allclose(pruned_visits(node, 2.0), [40, 7.631, 2.980, 0], atol=1e-3)


def test_forced_playouts_go_first_at_a_noised_root_only():
    """Child c (prior 0.2, 1 visit) is owed sqrt(2 * 0.2 * 63) = 5.02 visits: a noised search
    picks it although PUCT prefers a; without noise PUCT decides."""
    node = root_node([0.5, 0.3, 0.2], [50, 12, 1], [0.5, 0.0, -0.9])
    search = MCTS(TTT, Uniform(9), MCTSConfig(forced_playouts_k=2.0, c_puct=1.0))
    search.root = node
    search.noise = False
    assert search._select(node) == 0
    search.noise = True
    assert search._select(node) == 2
    # X to move wins at once (action 2); forced playouts spend visits on the other moves
    # (a plain search gives the win about 56 of 64), and pruning takes them back from the target
    state = TTT.state_from_board("XX. OO. ...")
    for seed in range(3):
        config = MCTSConfig(forced_playouts_k=2.0, leaves_per_call=4)
        search = MCTS(TTT, Uniform(9), config, rng=seed, state=state)
        search.search(64, noise=True)
        root, visits, target = search.root, search.policy(1.0), search.policy_target()
        assert (root.n >= forced_visits(root.prior, root.n, 2.0) - 1).all()
        assert visits[2] < 0.8 and target[2] > 0.9  # over 50 seeds: at most 0.69, at least 0.93
        assert ((target > 0) <= (visits > 0)).all() and target.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------- networks and configs


KATAGO_NET = NetworkConfig(filters=8, blocks=1, value_hidden=8, ownership_head=True,
                           score_head=True)  # fmt: skip


def go_config(**mcts) -> AlphaZeroConfig:
    return AlphaZeroConfig(
        game=GameConfig(board_size=5, komi=0.5, history=1, move_cap=24),
        mcts=MCTSConfig(simulations=8, leaves_per_call=4, **mcts),
        selfplay=SelfPlayConfig(parallel_games=4, resign_threshold=None,
                                full_search_probability=0.5, fast_simulations=2),
        network=KATAGO_NET,
        learner=LearnerConfig(batch_size=16, min_replay=8, games_per_iteration=4,
                              steps_per_iteration=2, replay_window=256),
        arena=ArenaConfig(every=0),
        distributed=DistributedConfig(workers=0, games_per_call=4),
    )  # fmt: skip


def test_heads_are_added_without_changing_the_networks_weights():
    plain = go_config().model_copy(
        update={"network": NetworkConfig(filters=8, blocks=1, value_hidden=8)}
    )
    with_heads, without = net_for(go_config(), 3), net_for(plain, 3)
    extra = set(with_heads.state_dict()) - set(without.state_dict())
    assert extra and all(k.startswith(("ownership.", "score.")) for k in extra)
    for key, value in without.state_dict().items():
        torch.testing.assert_close(with_heads.state_dict()[key], value, rtol=0, atol=0)
    planes = torch.randn(3, *GO5.planes_shape)
    logits, _ = with_heads(planes)  # play sees policy and value only
    prediction = with_heads.predict(planes)
    torch.testing.assert_close(prediction.logits, logits)
    assert prediction.ownership_logits.shape == (3, 25) and prediction.score.shape == (3,)
    assert without.predict(planes).ownership_logits is None


def test_an_agent_file_with_heads_rebuilds_them_from_its_config(tmp_path):
    agent = AlphaZeroAgent(go_config(), seed=1)
    agent.save(tmp_path / "katago.ckpt")
    loaded = AlphaZeroAgent.from_file(tmp_path / "katago.ckpt")
    assert loaded.net.ownership is not None and loaded.net.score is not None
    for key, value in agent.net.state_dict().items():
        torch.testing.assert_close(loaded.net.state_dict()[key], value, rtol=0, atol=0)
    state = GO5.initial_state()
    assert GO5.legal_actions(state)[loaded.act(state, deterministic=True)]


def test_the_score_utility_moves_values_towards_the_predicted_margin():
    net = net_for(go_config(score_utility=0.5), 0)
    states = [GO5.initial_state()]
    _, plain = NeuralEvaluator(GO5, net).evaluate(states)
    _, mixed = NeuralEvaluator(GO5, net, score_utility=0.5, score_scale=0.2).evaluate(states)
    with torch.no_grad():
        score = net.predict(torch.from_numpy(GO5.planes(states[0])[None])).score.item()
    assert mixed[0] == pytest.approx(np.clip(plain[0] + 0.5 * math.tanh(score / 0.2), -1, 1),
                                     abs=1e-6)  # fmt: skip
    with pytest.raises(ValueError, match="needs a network with a score head"):
        plain = go_config().model_copy(update={"network": NetworkConfig(filters=8, blocks=1)})
        NeuralEvaluator(GO5, net_for(plain, 0), score_utility=0.5)


def test_configs_refuse_options_that_do_not_fit():
    ttt = GameConfig(name="tictactoe")
    with pytest.raises(ValidationError, match="ownership_head needs a game scored by area"):
        AlphaZeroConfig(game=ttt, network=NetworkConfig(ownership_head=True))
    with pytest.raises(ValidationError, match=r"score_utility needs network\.score_head"):
        AlphaZeroConfig(mcts=MCTSConfig(score_utility=0.5))
    with pytest.raises(ValidationError, match="applies to the puct root"):
        AlphaZeroConfig(mcts=MCTSConfig(root="gumbel", forced_playouts_k=2.0))
    with pytest.raises(ValidationError, match=r"must not exceed mcts\.simulations"):
        AlphaZeroConfig(mcts=MCTSConfig(simulations=8), selfplay=SelfPlayConfig(fast_simulations=9))
    defaults = AlphaZeroConfig()
    assert defaults.selfplay.full_search_probability == 1.0
    assert not (defaults.network.ownership_head or defaults.network.score_head)
    assert defaults.mcts.forced_playouts_k == 0.0 and defaults.mcts.score_utility == 0.0


# ------------------------------------------------------------------------- the system


@pytest.mark.parametrize("mcts", [{"forced_playouts_k": 2.0, "score_utility": 0.3},
                                  {"root": "gumbel", "score_utility": 0.3}])  # fmt: skip
def test_one_self_play_iteration_on_5x5_go_with_everything_on(mcts):
    system = SelfPlaySystem(go_config(**mcts), seed=0)
    report = system.round()
    metrics = report.metrics
    assert metrics["train/iterations"] == 1.0
    for key in ("loss", "policy_loss", "value_loss", "ownership_loss", "score_loss"):
        assert math.isfinite(metrics[f"train/{key}"]) and metrics[f"train/{key}"] > 0
    assert 0.0 < metrics["selfplay/full_searches"] < 1.0
    window = system.replay.target.window
    n = len(window)
    assert set(window.policy_weights[:n].tolist()) == {0.0, 1.0}
    assert (window.aux_weights[:n] == 1.0).all()  # no resignation: every game scored
    assert (np.abs(window.ownership[:n]) <= 1).all()
