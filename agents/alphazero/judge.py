"""Judging a network as it trains: the lines of a perfect opponent it loses, on a game small
enough to walk them all (tic-tac-toe), and its results by colour against a fixed opponent (Go).

The perfect opponent comes in as ``opponent_moves(state)``, every move it may choose (for
tic-tac-toe ``envs.tictactoe.optimal_actions``), so that nothing here names a concrete game.
Results are :class:`rlcourse.evaluation.MatchResult`\\ s from the judged side's point of view: a
line lost is a loss, a line drawn a draw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from agents.alphazero.arena import play_match
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
from agents.alphazero.games import make_game
from agents.alphazero.mcts import MCTS, Evaluator
from agents.alphazero.network import net_for
from agents.alphazero.system import SelfPlaySystem, fetch, load_weights
from rlcourse.evaluation import MatchResult
from rlcourse.games import Game, Player

OpponentMoves = Callable[[Any], Sequence[int]]  # state -> every move the opponent may choose


def one_process(config: AlphaZeroConfig) -> AlphaZeroConfig:
    """``config`` as one process runs it to be judged: no Ray workers and no arena, one
    request of ``games_per_iteration`` self-play games a round."""
    games = config.learner.games_per_iteration
    return config.model_copy(update={
        "arena": ArenaConfig(every=0),
        "distributed": DistributedConfig(workers=0, games_per_call=games),
    })  # fmt: skip


def tic_tac_toe_config() -> AlphaZeroConfig:
    """Tic-tac-toe in one process: 32 self-play games with a 24-simulation search and 100
    gradient steps a round (about 1.3 s of one core); after 28 rounds the greedy 32-simulation
    search loses no line of minimax (tests/test_alphazero.py)."""
    return one_process(AlphaZeroConfig(
        game=GameConfig(name="tictactoe"),
        # one leaf per tree per call (16 games still share each network call): virtual loss
        # with several leaves in flight blurs a 24-simulation search and slows learning
        mcts=MCTSConfig(simulations=24, leaves_per_call=1, c_puct=1.5),
        selfplay=SelfPlayConfig(temperature_moves=9, resign_threshold=None, parallel_games=16),
        network=NetworkConfig(filters=32, blocks=1, policy_channels=4, value_channels=4,
                              value_hidden=32),
        learner=LearnerConfig(lr={"kind": "linear", "start": 3e-3, "end": 3e-4, "steps": 2000},
                              batch_size=64, replay_window=4000, min_replay=256,
                              games_per_iteration=32, steps_per_iteration=100),
    ))  # fmt: skip


def trained_net(system: SelfPlaySystem) -> torch.nn.Module:
    """A copy of the learner's current network (in eval mode, on the CPU)."""
    _, weights = fetch(system.learner.weights.remote())
    net = net_for(system.config)
    load_weights(net, weights)
    return net


def trained_evaluator(system: SelfPlaySystem) -> NeuralEvaluator:
    """The learner's current network evaluating positions of the system's game."""
    return NeuralEvaluator(make_game(system.config.game), trained_net(system))


# ------------------------------------------------------------------- every line of a game


def lines_result(game: Game, choose: Player, opponent_moves: OpponentMoves) -> MatchResult:
    """``choose``'s results as either player over every line the opponent can make: at the
    opponent's turns each of ``opponent_moves(state)`` is followed, at ``choose``'s its one
    answer; one game per line and per side."""
    outcomes = [0, 0, 0]  # wins, draws, losses

    def walk(state: Any, side: int) -> None:
        if game.is_terminal(state):
            outcome = game.returns(state)[side]
            outcomes[0 if outcome > 0 else 1 if outcome == 0 else 2] += 1
        elif game.current_player(state) == side:
            walk(game.apply(state, choose(state)), side)
        else:
            for action in opponent_moves(state):
                walk(game.apply(state, action), side)

    for side in (0, 1):
        walk(game.initial_state(), side)
    return MatchResult(*outcomes)


def greedy_search(game: Game, evaluator: Evaluator, simulations: int) -> Player:
    """The most visited move of a fresh PUCT search (one leaf per call, no root noise; the
    lowest action among equals)."""
    config = MCTSConfig(simulations=simulations, leaves_per_call=1)

    def choose(state: Any) -> int:
        return int(np.argmax(MCTS(game, evaluator, config, state=state).search()))

    return choose


def top_move(evaluator: Evaluator) -> Player:
    """The network's most probable legal move, no search (the lowest action among equals)."""

    def choose(state: Any) -> int:
        priors, _ = evaluator.evaluate([state])
        return int(np.argmax(priors[0]))

    return choose


def search_lines(
    game: Game, evaluator: Evaluator, simulations: int, opponent_moves: OpponentMoves
) -> MatchResult:
    """The greedy search's results over the opponent's every line (:func:`lines_result`)."""
    return lines_result(game, greedy_search(game, evaluator, simulations), opponent_moves)


def network_lines(game: Game, evaluator: Evaluator, opponent_moves: OpponentMoves) -> MatchResult:
    """The network's own top move's results over the opponent's every line."""
    return lines_result(game, top_move(evaluator), opponent_moves)


# ------------------------------------------------------------------------- by colour


def results_by_colour(
    game: Game, player: Player, opponent: Player, games: int
) -> tuple[MatchResult, MatchResult]:
    """``player``'s results moving first (Black) and second (White) in a match of ``games``
    games against ``opponent`` (:func:`agents.alphazero.arena.play_match`, colours
    alternating)."""
    by_colour = {True: [0, 0, 0], False: [0, 0, 0]}  # moved first -> wins, draws, losses

    def on_game(_: int, finished: Any) -> None:
        outcome = finished.returns[0 if finished.a_first else 1]
        by_colour[finished.a_first][0 if outcome > 0 else 1 if outcome == 0 else 2] += 1

    play_match(game, player, opponent, games, on_game)
    return MatchResult(*by_colour[True]), MatchResult(*by_colour[False])
