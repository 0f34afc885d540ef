"""Self-play: games of MCTS against itself, recorded as plain arrays that pickle cheaply.

Each move is chosen by a search with root noise; the record keeps the position's planes, the
search's policy target and the mover. With the PUCT root (``mcts.root: puct``) the target is the
root's visit distribution, and moves are sampled from the visits at temperature 1 for the first
``temperature_moves`` moves, then the most visited is played. With the Gumbel root
(``mcts.root: gumbel``, :mod:`agents.alphazero.gumbel`) the target is the improved policy and
the move the last survivor of sequential halving, sampled by the search's Gumbel draw.
A side resigns when both the root value and its best child's value fall below
``resign_threshold`` (the position is still recorded, with move ``RESIGN``); a
``resign_check_fraction`` of games never resigns but notes who would have, so that the
false-resignation rate can be measured.

Playout cap randomisation (KataGo, Wu 2019; ``selfplay.full_search_probability`` below 1):
each move draws, on its game's generator, whether it is a full search (root noise, the
configured simulations, its policy target trained on: ``policy_weights`` 1) or a fast one
(``fast_simulations``, no Dirichlet noise, the move still played, its policy target left out of
the policy loss: weight 0; its value target still counts). A search whose root noise samples
the move played (the Gumbel root: ``noise_in_fast_searches``) keeps it in fast searches too,
or a fast move would be the same in every game.

A game that scores by area (:class:`rlcourse.games.AreaScored`, Go) and ends on the board (not
by resignation) also records its final ownership and margin for player 0, from which
:meth:`GameRecord.ownership_targets` and :meth:`GameRecord.score_targets` give each position's
auxiliary targets seen by its mover.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from agents.alphazero.config import MCTSConfig, SelfPlayConfig
from agents.alphazero.gumbel import make_search
from agents.alphazero.mcts import Evaluator, Game, TreeSearch, as_returns, search_together
from rlcourse.games import RESIGN, AreaScored  # RESIGN: also the move recorded for one


class GameRecord(NamedTuple):
    """One finished self-play game; ``T`` positions, one per move played."""

    planes: np.ndarray  # [T, C, H, W] float32: each position from its mover's point of view
    policies: np.ndarray  # [T, num_actions] float32: the search's policy target
    root_values: np.ndarray  # [T] float32: the search's root value for the mover
    players: np.ndarray  # [T] int8: the mover of each position
    moves: np.ndarray  # [T] int32: the move played (RESIGN for a resignation, always last)
    returns: tuple[float, float]  # final outcome for (player 0, player 1)
    resigned: int | None  # the player who resigned, if any
    resign_disabled: bool  # played out with resignation off
    would_have_resigned: int | None  # in such a game, the first player whose values fell low
    policy_weights: np.ndarray | None = None  # [T] float32: 1 full search, 0 fast (None: all 1)
    ownership: np.ndarray | None = None  # [H * W] float32 final area ownership, +1 player 0's
    score: float | None = None  # player 0's final margin, komi included [points]
    # (ownership and score are None for a resigned game or a game not scored by area)

    @property
    def outcomes(self) -> np.ndarray:
        """[T] float32: the final outcome for each position's mover."""
        return np.asarray(self.returns, dtype=np.float32)[self.players]

    @property
    def mover_signs(self) -> np.ndarray:
        """[T] float32: +1 where player 0 moves, -1 where player 1 does."""
        return np.where(self.players == 0, 1.0, -1.0).astype(np.float32)

    def ownership_targets(self) -> np.ndarray:
        """[T, H * W] float32: the final ownership seen by each position's mover (+1: the
        mover's point); raises when the game has no ownership recorded."""
        if self.ownership is None:
            raise ValueError("this game has no final ownership (resigned or not scored by area)")
        return self.mover_signs[:, None] * self.ownership[None, :]

    def score_targets(self) -> np.ndarray:
        """[T] float32: the final margin for each position's mover divided by the board area
        (the ownership's size); raises when the game has no score recorded."""
        if self.score is None or self.ownership is None:
            raise ValueError("this game has no final score (resigned or not scored by area)")
        return (self.mover_signs * (self.score / self.ownership.size)).astype(np.float32)

    def value_targets(self, q_weight: float = 0.0) -> np.ndarray:
        """[T] float32: ``(1 - q_weight) * outcome + q_weight * root value`` per position."""
        return ((1.0 - q_weight) * self.outcomes + q_weight * self.root_values).astype(np.float32)

    @property
    def false_resignation(self) -> bool:
        """A resignation-off game whose would-be resigner did not lose."""
        p = self.would_have_resigned
        return p is not None and self.returns[p] >= 0


@dataclass
class _Game:
    search: TreeSearch
    resign_disabled: bool
    rng: np.random.Generator  # draws full or fast searches
    planes: list[np.ndarray] = field(default_factory=list)
    policies: list[np.ndarray] = field(default_factory=list)
    root_values: list[float] = field(default_factory=list)
    players: list[int] = field(default_factory=list)
    moves: list[int] = field(default_factory=list)
    policy_weights: list[float] = field(default_factory=list)
    would_have_resigned: int | None = None
    full_search: bool = True  # of the move being searched

    def record(self, game: Game, returns: tuple[float, float], resigned: int | None) -> GameRecord:
        ownership, score = None, None
        final = self.search.root.state
        if resigned is None and isinstance(game, AreaScored):
            ownership = game.area_ownership(final).astype(np.float32).ravel()
            score = float(game.score_margin(final))
        return GameRecord(
            np.stack(self.planes).astype(np.float32),
            np.stack(self.policies).astype(np.float32),
            np.asarray(self.root_values, dtype=np.float32),
            np.asarray(self.players, dtype=np.int8),
            np.asarray(self.moves, dtype=np.int32),
            (float(returns[0]), float(returns[1])),
            resigned,
            self.resign_disabled,
            self.would_have_resigned,
            np.asarray(self.policy_weights, dtype=np.float32),
            ownership,
            score,
        )


def search_budget(selfplay: SelfPlayConfig, mcts: MCTSConfig) -> tuple[float, int, int]:
    """(probability of a full search, its simulations, a fast search's simulations)."""
    fast = selfplay.fast_simulations or max(1, mcts.simulations // 4)
    return selfplay.full_search_probability, mcts.simulations, fast


def play_games(
    game: Game,
    evaluator: Evaluator,
    games: int,
    mcts: MCTSConfig,
    selfplay: SelfPlayConfig,
    rng: np.random.Generator,
    start: Any = None,
    on_record: Callable[[GameRecord], None] | None = None,
) -> list[GameRecord]:
    """Play ``games`` self-play games, ``selfplay.parallel_games`` at a time sharing one
    evaluator call per search round; records come back in the order the games finish.
    ``on_record`` receives each record as soon as its game ends (to ship it before the rest
    are done)."""
    if games < 1:
        raise ValueError(f"games must be at least 1, got {games}")
    records: list[GameRecord] = []
    active: list[_Game] = []
    started = 0

    full_probability, full, fast = search_budget(selfplay, mcts)

    def new_game() -> _Game:
        seed = int(rng.integers(2**63))
        disabled = bool(rng.random() < selfplay.resign_check_fraction)
        search = make_search(game, evaluator, mcts, seed, start)
        return _Game(search, disabled, np.random.default_rng([seed, 1]))

    while started < games or active:
        while started < games and len(active) < selfplay.parallel_games:
            active.append(new_game())
            started += 1
        for g in active:  # playout cap randomisation (off at probability 1: nothing drawn)
            g.full_search = full_probability == 1.0 or bool(g.rng.random() < full_probability)
        budgets = [full if g.full_search else fast for g in active]
        noise = [g.full_search or g.search.noise_in_fast_searches for g in active]
        search_together([g.search for g in active], budgets, noise)
        still: list[_Game] = []
        for g in active:
            outcome = _move(game, g, selfplay)
            if outcome is None:
                still.append(g)
            else:
                records.append(g.record(game, *outcome))
                if on_record is not None:
                    on_record(records[-1])
        active = still
    return records


def _move(
    game: Game, g: _Game, cfg: SelfPlayConfig
) -> tuple[tuple[float, float], int | None] | None:
    """Record the searched position and play (or resign); the outcome once the game is over."""
    search = g.search
    state, player = search.root.state, search.root.player
    g.planes.append(game.planes(state))
    g.policies.append(search.policy_target())
    g.root_values.append(search.root_value())
    g.players.append(player)
    g.policy_weights.append(1.0 if g.full_search else 0.0)
    if cfg.resign_threshold is not None and wants_to_resign(search, cfg.resign_threshold):
        if not g.resign_disabled:
            g.moves.append(RESIGN)
            return as_returns(player, -1.0), player
        if g.would_have_resigned is None:
            g.would_have_resigned = player
    action = search.self_play_action(explore=len(g.moves) < cfg.temperature_moves)
    g.moves.append(action)
    search.advance(action)
    if search.root.terminal is not None:
        return search.root.terminal, None
    return None


def wants_to_resign(search: TreeSearch, threshold: float) -> bool:
    """Both the root value and its best child's value are below ``threshold``."""
    return search.root_value() < threshold and search.best_child_value() < threshold


def outcome_stats(records: Sequence[GameRecord]) -> dict[str, float]:
    """Scalars to log: games, mean positions per game, player 0's score (draws half),
    resignation rate, the false-resignation rate among games played out with resignation
    off, and the share of positions searched in full."""
    if not records:
        raise ValueError("no game records to summarise")
    checked = [r for r in records if r.resign_disabled and r.would_have_resigned is not None]
    stats = {
        "games": float(len(records)),
        "positions": float(np.mean([len(r.moves) for r in records])),
        "first_player_score": float(np.mean([(r.returns[0] + 1) / 2 for r in records])),
        "resigned": float(np.mean([r.resigned is not None for r in records])),
    }
    if checked:
        stats["false_resignation"] = float(np.mean([r.false_resignation for r in checked]))
    weights = [r.policy_weights for r in records if r.policy_weights is not None]
    if weights:
        stats["full_searches"] = float(np.concatenate(weights).mean())
    return stats
