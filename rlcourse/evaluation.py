"""Evaluate a policy on an env: return statistics with a 95% confidence interval.

`evaluate` plays N episodes, episode i reset with seed ``seed + i`` so that two policies
evaluated with the same seed face the same start states and the same env randomness. It
reports the mean, standard deviation and 95% interval of the undiscounted return (Student-t,
clipped to the env's ``return_range`` where it declares one; else a percentile bootstrap, which
never leaves the returns seen, so never passes the largest possible return), the mean length,
and the mean of every numeric value the env put in the final step's `info` (success,
collision, score margin...).

An env may say more in its ``metadata``: ``info_labels`` (info entries that name rather than
measure, such as the player to move or the winner: never averaged), ``side_key`` (the info
entry naming the agent's side in a two-player game: win, draw and loss rates are reported
overall and per side, from the sign of the return), ``players`` (2 for a game; evaluated with
no ``side_key``, the agent plays both sides and a warning says so) and ``return_range`` (the
least and greatest return an episode can have: the Student-t interval is clipped to it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from rlcourse.files import atomic_write_text


class Policy(Protocol):
    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False
    ) -> Any: ...


@dataclass(frozen=True)
class EvalResult:
    episodes: int
    mean: float
    std: float
    ci95_low: float
    ci95_high: float
    mean_length: float
    returns: list[float] = field(repr=False)
    lengths: list[int] = field(repr=False)
    metrics: dict[str, float] = field(default_factory=dict)
    episode_metrics: dict[str, list[float]] = field(default_factory=dict, repr=False)

    def metric_interval(self, key: str, level: float = 0.95) -> tuple[float, float]:
        """Student-t interval for the mean of the info metric ``key`` over the episodes."""
        if key not in self.episode_metrics:
            raise KeyError(f"no metric {key!r}; known: {sorted(self.episode_metrics)}")
        return confidence_interval(self.episode_metrics[key], level)

    def summary(self) -> str:
        half = (self.ci95_high - self.ci95_low) / 2
        extra = "".join(f", {k} {v:.3g}" for k, v in sorted(self.metrics.items()))
        return (
            f"return {self.mean:.3f} ± {half:.3f} (95% CI, n={self.episodes}), "
            f"std {self.std:.3f}, length {self.mean_length:.1f}{extra}"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write_json(self, path: str | Path) -> None:
        """Write `to_dict` as JSON, atomically (`rlcourse.files.FileError` naming `path`)."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")


def confidence_interval(
    values: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float]:
    """Student-t interval for the mean of `values` (a point when there is one value)."""
    x = np.asarray(values, dtype=np.float64)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, mean
    from scipy import stats

    half = float(stats.t.ppf(0.5 + level / 2, df=len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean - half, mean + half


BOOTSTRAP_RESAMPLES = 2_000


def bootstrap_interval(
    values: Sequence[float] | np.ndarray, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean of `values`: the middle ``level`` of the means
    of ``BOOTSTRAP_RESAMPLES`` resamples (with replacement, drawn from ``seed``, so the same
    values give the same interval). It lies within the values' range."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) < 2 or x.min() == x.max():
        mean = float(x.mean())
        return mean, mean
    rng = np.random.default_rng(seed)
    means = np.empty(BOOTSTRAP_RESAMPLES)
    for start in range(0, BOOTSTRAP_RESAMPLES, 250):  # in blocks: memory stays small
        block = rng.integers(len(x), size=(min(250, BOOTSTRAP_RESAMPLES - start), len(x)))
        means[start : start + len(block)] = x[block].mean(axis=1)
    low, high = np.quantile(means, [0.5 - level / 2, 0.5 + level / 2])
    return float(low), float(high)


def summarise(
    returns: Sequence[float],
    lengths: Sequence[int],
    metrics: Mapping[str, list[float]],
    return_range: tuple[float, float] | None = None,
) -> EvalResult:
    """Statistics of finished episodes (also used by distributed evaluators); the interval is
    Student-t clipped to ``return_range`` where the env declares one, else a bootstrap."""
    r = np.asarray(returns, dtype=np.float64)
    if return_range is not None:
        low, high = confidence_interval(r)
        low, high = max(low, return_range[0]), min(high, return_range[1])
    else:
        low, high = bootstrap_interval(r)
    return EvalResult(
        episodes=len(r),
        mean=float(r.mean()),
        std=float(r.std(ddof=1)) if len(r) > 1 else 0.0,
        ci95_low=low,
        ci95_high=high,
        mean_length=float(np.mean(lengths)),
        returns=[float(v) for v in r],
        lengths=[int(v) for v in lengths],
        metrics={k: float(np.mean(v)) for k, v in metrics.items()},
        episode_metrics={k: [float(x) for x in v] for k, v in metrics.items()},
    )


# Toy-text envs report the probability of the sampled transition: not an episode metric.
NOT_METRICS = frozenset({"prob"})


def numeric_info(info: Mapping[str, Any], labels: frozenset[str] = frozenset()) -> dict[str, float]:
    """The top-level numeric entries of an info dict but ``labels`` (masks, arrays, nested
    dicts skipped)."""
    out = {}
    for key, value in info.items():
        if key.startswith("_") or key in NOT_METRICS or key in labels:
            continue
        if isinstance(value, (str, bytes)):
            continue
        if isinstance(value, (Real, np.number, np.bool_)) or (
            isinstance(value, np.ndarray) and value.ndim == 0
        ):
            out[key] = float(value)
    return out


def evaluate(
    policy: Policy | Callable[[Any, Mapping[str, Any]], Any],
    env: Any,
    episodes: int,
    seed: int = 0,
    deterministic: bool = True,
    max_steps: int | None = None,
) -> EvalResult:
    """Play `episodes` episodes of `policy` on `env` and summarise them.

    `policy` is an agent (anything with ``act(obs, info, deterministic)``) or a plain
    function ``(obs, info) -> action``. A policy with a ``reset_state()`` method (a recurrent
    agent) has it called before each episode, so no memory leaks from one episode into the
    next. `max_steps` cuts episodes that never end (e.g. a greedy policy walking into a wall)
    and counts them as truncated.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    if hasattr(policy, "act"):
        agent = policy

        def act(obs: Any, info: Mapping[str, Any]) -> Any:
            return agent.act(obs, info, deterministic=deterministic)
    else:
        act = policy  # type: ignore[assignment]
    reset_state = getattr(policy, "reset_state", None)
    metadata = getattr(env, "metadata", None) or {}
    labels = frozenset(metadata.get("info_labels", ()))
    side_key = metadata.get("side_key")
    if metadata.get("players") == 2 and side_key is None:
        from rlcourse.log import warn

        warn("a two-player env evaluated with no opponent: the agent plays both sides, so the "
             "outcomes say little (give the env an opponent)")  # fmt: skip
    returns, lengths = [], []
    metrics: dict[str, list[float]] = {}
    for i in range(episodes):
        if reset_state is not None:
            reset_state()
        obs, info = env.reset(seed=seed + i)
        total, length, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(act(obs, info))
            total += float(reward)
            length += 1
            done = terminated or truncated or (max_steps is not None and length >= max_steps)
        returns.append(total)
        lengths.append(length)
        for key, value in numeric_info(info, labels).items():
            metrics.setdefault(key, []).append(value)
        if side_key is not None:
            for key, value in outcome_rates(total, str(info[side_key])).items():
                metrics.setdefault(key, []).append(value)
    return summarise(returns, lengths, metrics, metadata.get("return_range"))


def outcome_rates(episode_return: float, side: str) -> dict[str, float]:
    """One game's win, draw and loss (1 or 0 each, by the return's sign), overall and as
    ``side`` (averaged over games: the rates)."""
    outcome = {"win_rate": float(episode_return > 0), "draw_rate": float(episode_return == 0),
               "loss_rate": float(episode_return < 0)}  # fmt: skip
    return outcome | {f"{side}_{key}": value for key, value in outcome.items()}


# ----------------------------------------------------------------------------- two-player games


def elo_expected(rating: float, opponent: float) -> float:
    """The expected score (wins + draws / 2 per game) of a player rated ``rating`` against one
    rated ``opponent``: ``1 / (1 + 10 ** ((opponent - rating) / 400))``."""
    return 1.0 / (1.0 + 10.0 ** ((opponent - rating) / 400.0))


def elo_update(
    rating: float, opponent: float, score: float, games: int = 1, k: float = 32.0
) -> float:
    """The new rating after scoring ``score`` points (draws half) in ``games`` games against
    ``opponent``: ``rating + k * (score - games * expected)``."""
    if games < 1:
        raise ValueError(f"games must be at least 1, got {games}")
    if not 0.0 <= score <= games:
        raise ValueError(f"score must lie in [0, {games}], got {score}")
    return rating + k * (score - games * elo_expected(rating, opponent))


def score_interval(score: float, games: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a win rate ``score`` (draws counted half) over ``games``."""
    if games < 1:
        raise ValueError(f"games must be at least 1, got {games}")
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"score must be a rate in [0, 1], got {score}")
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + level / 2))
    denominator = 1.0 + z * z / games
    centre = (score + z * z / (2 * games)) / denominator
    half = z * math.sqrt(score * (1 - score) / games + z * z / (4 * games * games)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


class MatchResult(NamedTuple):
    """A player's results over a match."""

    wins: int
    draws: int
    losses: int

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        """Win rate with draws counted half."""
        return (self.wins + 0.5 * self.draws) / self.games

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Wilson interval of the score."""
        return score_interval(self.score, self.games, level)


class MatchRecord(NamedTuple):
    player: str
    opponent: str
    points: float  # player's wins + draws / 2
    games: float  # a count, or a fraction of one for the prior's virtual draws


def fit_elo(
    matches: Sequence[MatchRecord], anchor: str, prior_draws: float = 1.0, iterations: int = 200
) -> dict[str, float]:
    """Maximum-likelihood Elo ratings (Bradley-Terry) of every player in ``matches``, with
    ``anchor`` fixed at 0. Each other player also gets ``prior_draws`` drawn games against the
    anchor, so that a player who won (or lost) every game still gets a finite rating."""
    players = sorted({m.player for m in matches} | {m.opponent for m in matches} | {anchor})
    games = [*matches, *(MatchRecord(p, anchor, prior_draws / 2, prior_draws)
                         for p in players if p != anchor)]  # fmt: skip
    ratings = dict.fromkeys(players, 0.0)
    scale = 400.0 / math.log(10.0)
    for _ in range(iterations):  # Newton steps per player, the others held fixed
        for p in players:
            if p == anchor:
                continue
            surplus = curvature = 0.0
            for m in games:
                if p not in (m.player, m.opponent) or m.player == m.opponent:
                    continue
                mine = m.points if m.player == p else m.games - m.points
                other = m.opponent if m.player == p else m.player
                expected = elo_expected(ratings[p], ratings[other])
                surplus += mine - m.games * expected
                curvature += m.games * expected * (1.0 - expected)
            if curvature > 0:
                ratings[p] += scale * surplus / curvature
    return ratings
