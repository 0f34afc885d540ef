"""Arena: matches between players of a two-player game, the promotion rule and an Elo ladder.

A player is ``player(state) -> action`` (or ``RESIGN``). In a match of ``games`` games, player
A moves first in even-numbered games and second in odd ones; draws count half. Fixed opponents
are ``random`` (uniform legal moves, or the game's own random move: on Go, never filling its own
eyes), ``mcts`` (plain MCTS with random rollouts) and ``gnugo`` (a game's outside engine at a
level: GNU Go over GTP for Go). A new network plays the
best one so far and is promoted when it scores at least ``promotion_score`` (with ``vs_best``
off there is no such match and every network is promoted); the ladder rates
every network version and opponent by a maximum-likelihood Elo fit to all matches so far, with
``random`` anchored at 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import torch

from agents.alphazero.config import AlphaZeroConfig, ArenaConfig, MCTSConfig
from agents.alphazero.evaluators import NeuralEvaluator, RolloutEvaluator
from agents.alphazero.games import make_game
from agents.alphazero.mcts import MCTS, as_returns
from agents.alphazero.network import net_for, torch_device
from rlcourse.evaluation import MatchRecord, MatchResult, fit_elo
from rlcourse.games import (
    RESIGN,
    FastPlayouts,
    Game,
    GameRecords,
    OutsideEngine,
    Player,
    Resignable,
)

ANCHOR = "random"  # the ladder's fixed point, rated 0


class FinishedGame(NamedTuple):
    start: Any
    final: Any  # the last state (a resigned one on resignation, where the game records it)
    a_first: bool  # player A moved first
    returns: tuple[float, float]  # (first player, second player)


def play_game(game: Game, first: Player, second: Player, start: Any = None) -> FinishedGame:
    """One game from ``start`` (default: the initial state); a player answering ``RESIGN``,
    or an illegal action (an outside engine under other rules), loses; a
    :class:`rlcourse.games.Resignable` game ends in its resigned state."""
    state = game.initial_state() if start is None else start
    begin = state
    players = (first, second)
    while not game.is_terminal(state):
        mover = game.current_player(state)
        action = players[mover](state)
        if action == RESIGN:
            if isinstance(game, Resignable):
                state = game.resign(state)
                break
            return FinishedGame(begin, state, True, as_returns(mover, -1.0))
        if not game.legal_actions(state)[action]:
            return FinishedGame(begin, state, True, as_returns(mover, -1.0))
        state = game.apply(state, action)
    return FinishedGame(begin, state, True, game.returns(state))


def play_match(
    game: Game,
    player_a: Player,
    player_b: Player,
    games: int,
    on_game: Callable[[int, FinishedGame], None] | None = None,
) -> MatchResult:
    """``games`` games, A moving first in even-numbered ones; ``on_game(i, finished)`` sees
    each game."""
    if games < 1:
        raise ValueError(f"games must be at least 1, got {games}")
    wins = draws = losses = 0
    for i in range(games):
        a_first = i % 2 == 0
        pair = (player_a, player_b) if a_first else (player_b, player_a)
        finished = play_game(game, *pair)._replace(a_first=a_first)
        outcome = finished.returns[0 if a_first else 1]
        wins, draws, losses = wins + (outcome > 0), draws + (outcome == 0), losses + (outcome < 0)
        if on_game is not None:
            on_game(i, finished)
    return MatchResult(wins, draws, losses)


# --------------------------------------------------------------------------- players


def random_player(game: Game, seed: int) -> Player:
    """Uniformly random legal actions, or the game's own random move
    (:class:`rlcourse.games.FastPlayouts`; Go: the eye-respecting random policy)."""
    rng = np.random.default_rng(seed)

    def play(state: Any) -> int:
        if isinstance(game, FastPlayouts):
            return game.random_action(state, rng)
        return int(rng.choice(np.flatnonzero(game.legal_actions(state))))

    return play


def search_player(
    game: Game, evaluator: Any, config: MCTSConfig, seed: int, temperature_moves: int = 0
) -> Player:
    """A fresh search of ``config.simulations`` per move, no root noise; the first
    ``temperature_moves`` moves of a game are drawn from the visits, later ones are the most
    visited."""
    rng = np.random.default_rng(seed)

    def play(state: Any) -> int:
        search = MCTS(game, evaluator, config, rng, state)
        search.search()
        return search.select_action(1.0 if game.ply(state) < temperature_moves else 0.0)

    return play


def mcts_player(game: Game, config: ArenaConfig, seed: int) -> Player:
    search = MCTSConfig(simulations=config.mcts_simulations, leaves_per_call=1)
    return search_player(game, RolloutEvaluator(game, config.mcts_rollouts, seed), search, seed)


def network_player(
    game: Game, net: torch.nn.Module, config: ArenaConfig, seed: int, temperature_moves: int = 0
) -> Player:
    search = MCTSConfig(simulations=config.simulations)
    return search_player(game, NeuralEvaluator(game, net), search, seed, temperature_moves)


def fixed_opponent(name: str, game: Game, config: ArenaConfig, seed: int) -> Player:
    if name == "random":
        return random_player(game, seed)
    if name == "mcts":
        return mcts_player(game, config, seed)
    if name == "gnugo":
        if not isinstance(game, OutsideEngine):
            raise ValueError("the gnugo opponent plays Go only")
        return game.engine_player(config.gnugo_level)
    raise ValueError(f"unknown opponent {name!r}; expected random, mcts or gnugo")


# --------------------------------------------------------------------------- ladder


@dataclass
class EloLadder:
    """Elo ratings fitted to every match recorded so far (``rlcourse.evaluation.fit_elo``),
    with ``random`` anchored at 0."""

    matches: list[MatchRecord] = field(default_factory=list)
    ratings: dict[str, float] = field(default_factory=lambda: {ANCHOR: 0.0})

    def record(self, a: str, b: str, result: MatchResult) -> None:
        """Add A's match against B and refit the ratings."""
        self.matches.append(MatchRecord(a, b, result.wins + 0.5 * result.draws, result.games))
        self.ratings = fit_elo(self.matches, ANCHOR)


class ArenaReport(NamedTuple):
    version: int
    promoted: bool
    results: dict[str, MatchResult]  # opponent name ("best" for the previous best) -> result
    as_first: dict[str, MatchResult]  # the same, over the games the network began (Black)
    ratings: dict[str, float]
    sgf: dict[str, str]  # file name -> SGF text of sample games


def version_name(version: int) -> str:
    return f"net_{version:05d}"


class Arena:
    """Plays each new network against the best so far (``vs_best``) and the fixed opponents,
    keeps the best network's weights and the ladder."""

    def __init__(self, config: AlphaZeroConfig, seed: int = 0) -> None:
        self.config, self.seed = config, seed
        self.game = make_game(config.game)
        device = torch_device(config)
        self.candidate, self.best = net_for(config).to(device), net_for(config).to(device)
        self.best_version: int | None = None
        self.ladder = EloLadder()
        self._opponents: dict[str, Player] = {}

    def evaluate(self, version: int, weights: Mapping[str, np.ndarray]) -> ArenaReport:
        """Matches of network ``version`` against the best and every fixed opponent."""
        cfg, game = self.config.arena, self.game
        self.candidate.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
        name, seed = version_name(version), self.seed * 1_000_003 + version
        me = network_player(game, self.candidate, cfg, seed, cfg.temperature_moves)
        results: dict[str, MatchResult] = {}
        as_first: dict[str, MatchResult] = {}
        sgf: dict[str, str] = {}

        def match(opponent: str, player: Player) -> MatchResult:
            firsts: list[float] = []  # A's outcomes in the games A began

            def on_game(i: int, finished: FinishedGame) -> None:
                self._write_sgf(sgf, name, opponent, i, finished)
                if finished.a_first:
                    firsts.append(finished.returns[0])

            results[opponent] = play_match(game, me, player, cfg.games, on_game)
            as_first[opponent] = MatchResult(sum(o > 0 for o in firsts),
                                             sum(o == 0 for o in firsts),
                                             sum(o < 0 for o in firsts))  # fmt: skip
            return results[opponent]

        promoted = True  # the first network, and every one without the match against the best
        if cfg.vs_best and self.best_version is not None:
            best = network_player(game, self.best, cfg, seed + 1, cfg.temperature_moves)
            self.ladder.record(name, version_name(self.best_version), match("best", best))
            promoted = results["best"].score >= cfg.promotion_score
        for opponent in cfg.opponents:
            self.ladder.record(name, opponent, match(opponent, self._opponent(opponent, seed)))
        if promoted:
            self.best.load_state_dict(self.candidate.state_dict())
            self.best_version = version
        ratings = dict(self.ladder.ratings)
        return ArenaReport(version, promoted, results, as_first, ratings, sgf)

    def _opponent(self, name: str, seed: int) -> Player:
        if name == "gnugo":  # one engine process for the arena's life
            if name not in self._opponents:
                self._opponents[name] = fixed_opponent(name, self.game, self.config.arena, seed)
            return self._opponents[name]
        return fixed_opponent(name, self.game, self.config.arena, seed)

    def _write_sgf(
        self, out: dict[str, str], name: str, opponent: str, i: int, finished: FinishedGame
    ) -> None:
        """The first ``sgf_games`` games of a match of a game with records (Go), as SGF text in
        ``out``."""
        if i >= self.config.arena.sgf_games or not isinstance(self.game, GameRecords):
            return
        black, white = (name, opponent) if finished.a_first else (opponent, name)
        out[f"{name}_vs_{opponent}_{i}.sgf"] = self.game.to_sgf(
            finished.start, finished.final, black=black, white=white, event="arena"
        )

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best.state_dict(), "best_version": self.best_version,
                "matches": [tuple(m) for m in self.ladder.matches]}  # fmt: skip

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.best.load_state_dict(state["best"])
        self.best_version = state["best_version"]
        self.ladder = EloLadder()
        for a, b, points, games in state["matches"]:
            self.ladder.matches.append(MatchRecord(a, b, points, games))
        if self.ladder.matches:
            self.ladder.ratings = fit_elo(self.ladder.matches, ANCHOR)

    def close(self) -> None:
        for player in self._opponents.values():
            close = getattr(player, "close", None)  # an outside engine's process
            if close is not None:
                close()
        self._opponents.clear()
