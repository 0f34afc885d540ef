#!/usr/bin/env python
"""Self-play through a PettingZoo AEC env: tabular Q-learning on tic-tac-toe, X and O sharing
one table, then the greedy policy played against a random and a perfect (minimax) opponent.

    python scripts/aec_selfplay.py --episodes 20000 --seed 0

Each agent learns from its own turns as ``agent_iter`` hands them out: at its turn
``env.last()`` gives the reward earned since its previous action and the position it now
faces, and Q(previous position, previous action) moves toward the Q-learning target
(:func:`agents.tabular.targets.q_learning_target`, undiscounted, over the legal cells). The
planes are from the mover's side, so one table serves X and O. The greedy policy is then
played on the Gymnasium env ``rlcourse/TicTacToe-v0``, whose planes are the same.

What it learns is what tabular Q-learning learns in a few thousand games: to beat a random
player far more often than a random player does (X: about 59 % wins, O: about 29 %), not
perfect play; against minimax it loses some games, fewer as ``--episodes`` grows.
"""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rlcourse.evaluation import MatchResult

QTable = collections.defaultdict[bytes, np.ndarray]  # planes' bytes -> [9] action values


def new_table() -> QTable:
    from envs.tictactoe import CELLS

    return collections.defaultdict(lambda: np.zeros(CELLS))


def choose(
    values: np.ndarray, mask: np.ndarray, rng: np.random.Generator, epsilon: float = 0.0
) -> int:
    """A uniformly random legal cell with probability ``epsilon``, else one of the legal cells
    of highest value (ties drawn at random)."""
    legal = np.flatnonzero(mask)
    if rng.random() < epsilon:
        return int(rng.choice(legal))
    best = legal[values[legal] == values[legal].max()]
    return int(rng.choice(best))


def train(
    episodes: int, seed: int, alpha: float = 0.5, epsilon: float = 0.2, q: QTable | None = None
) -> QTable:
    """Q-learning self-play for ``episodes`` games of :class:`TicTacToeAEC`; returns the table."""
    from agents.tabular.targets import q_learning_target
    from envs.tictactoe_aec import TicTacToeAEC

    q = new_table() if q is None else q
    rng = np.random.default_rng(seed)
    env = TicTacToeAEC()
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        pending: dict[str, tuple[bytes, int]] = {}  # agent -> its last (position, action)
        for agent in env.agent_iter():
            obs, reward, terminated, truncated, _ = env.last()
            key, mask = obs["observation"].tobytes(), obs["action_mask"].astype(bool)
            done = terminated or truncated
            if agent in pending:
                before, action = pending.pop(agent)
                target = q_learning_target(reward, q[key], 1.0, done, mask)
                q[before][action] += alpha * (target - q[before][action])
            if done:
                env.step(None)
                continue
            action = choose(q[key], mask, rng, epsilon)
            pending[agent] = (key, action)
            env.step(action)
    return q


def greedy(q: QTable, seed: int = 0) -> Callable[[dict[str, np.ndarray]], int]:
    """The greedy policy of ``q`` on an observation dict (unseen positions: any legal cell)."""
    rng = np.random.default_rng(seed)
    return lambda obs: choose(q[obs["observation"].tobytes()], obs["action_mask"], rng)


def play(
    policy: Callable[[dict[str, np.ndarray]], int], opponent: str, mark: str, games: int, seed: int
) -> MatchResult:
    """``games`` games of ``policy`` playing ``mark`` ("x" or "o") against ``opponent``."""
    from envs.tictactoe import TicTacToeEnv
    from rlcourse.evaluation import MatchResult

    env = TicTacToeEnv(opponent=opponent, agent_mark=mark)
    outcomes = collections.Counter()
    for game in range(games):
        obs, _ = env.reset(seed=seed + game)
        reward, terminated = 0.0, False
        while not terminated:
            obs, reward, terminated, _, _ = env.step(policy(obs))
        outcomes[reward] += 1
    return MatchResult(outcomes[1.0], outcomes[0.0], outcomes[-1.0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=20_000, help="self-play games")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-games", type=int, default=1000, help="games per line of results")
    opts = parser.parse_args(argv)
    if opts.episodes < 1 or opts.eval_games < 1:
        print("error: --episodes and --eval-games must be at least 1", file=sys.stderr)
        return 2
    q = train(opts.episodes, opts.seed)
    print(f"{opts.episodes} self-play games, {len(q)} positions in the table")
    policy = greedy(q, opts.seed)
    for opponent in ("random", "minimax"):
        for mark in ("x", "o"):
            r = play(policy, opponent, mark, opts.eval_games, seed=10**6 + opts.seed)
            print(
                f"as {mark.upper()} against {opponent:7}: won {r.wins / r.games:6.1%}  "
                f"drew {r.draws / r.games:6.1%}  lost {r.losses / r.games:6.1%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
