#!/usr/bin/env python
"""Where self-play's time goes: games of an AlphaZero config's search with its network (fresh
weights, or an agent file's), played in one process on one core under cProfile.

Prints games and positions per second, then the share of the time spent in each part: the
network (torch), the tree search (``agents/alphazero/mcts.py``, ``gumbel.py``), the game's
rules (``envs.go``, ``rlcourse.games``) and the rest (self-play bookkeeping, numpy), and the
functions that cost most. Which part bounds self-play decides where speed is worth seeking
(issue #17: the tree moves into C only where it costs more than the network).

    python scripts/profile_selfplay.py configs/go5/alphazero.yaml agent.network.blocks=2
    python scripts/profile_selfplay.py configs/go5/alphazero.yaml agent.mcts.root=gumbel \\
        agent.mcts.simulations=16 --games 32 --top 10
    python scripts/profile_selfplay.py configs/go5/alphazero.yaml \\
        --agent agents/pretrained/go5/alphazero.ckpt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rlcourse.cli import command

PARTS = {  # part -> what a profiled function's file or name contains
    "network": ("torch",),
    "tree search": ("agents/alphazero/mcts.py", "agents/alphazero/gumbel.py"),
    "game rules": ("envs/go", "envs.go", "rlcourse/games.py", "tictactoe"),
}


def part_of(file: str, name: str) -> str:
    where = f"{file} {name}"
    return next((part for part, keys in PARTS.items() if any(k in where for k in keys)), "other")


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="an AlphaZero config file")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.add_argument("--games", type=int, default=16, help="self-play games (default 16)")
    parser.add_argument("--agent", help="an agent file whose network plays (default: fresh)")
    parser.add_argument("--top", type=int, default=8, help="costliest functions to list")
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args(argv)
    if opts.games < 1:
        parser.error(f"--games must be at least 1, got {opts.games}")
    if opts.agent is not None and not Path(opts.agent).is_file():
        parser.error(f"--agent {opts.agent}: no such file")
    # Imported once the arguments are read, so that --help answers at once.
    import cProfile
    import pstats
    import time

    import numpy as np
    import torch

    import envs  # noqa: F401  (registers the env ids configs name)
    from agents.alphazero.agent import AlphaZeroAgent
    from agents.alphazero.config import AlphaZeroConfig
    from agents.alphazero.evaluators import NeuralEvaluator
    from agents.alphazero.selfplay import play_games
    from agents.training import load_experiment
    from rlcourse.config import ConfigError

    torch.set_num_threads(1)
    try:
        config = load_experiment(opts.config, opts.overrides).agent
        if not isinstance(config, AlphaZeroConfig):
            name = getattr(config, "name", None)
            raise ConfigError(opts.config, [f"agent: an AlphaZero config is needed, got {name!r}"])
        agent = AlphaZeroAgent(config, seed=opts.seed)
        if opts.agent:
            agent.load(opts.agent)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    mcts = config.mcts
    evaluator = NeuralEvaluator(agent.game, agent.net, score_utility=mcts.score_utility,
                                score_scale=mcts.score_scale)  # fmt: skip
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    records = play_games(agent.game, evaluator, opts.games, mcts, config.selfplay,
                         np.random.default_rng(opts.seed))  # fmt: skip
    profile.disable()
    seconds = time.perf_counter() - started
    positions = sum(len(r.moves) for r in records)
    print(f"{opts.games} games, {positions} positions in {seconds:.1f} s: "
          f"{opts.games / seconds:.2f} games/s, {positions / seconds:.0f} positions/s "
          f"(one core, under cProfile)")  # fmt: skip
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    spent: dict[str, float] = {}
    for (file, _, name), (_, _, own, _, _) in stats.items():
        spent[part_of(file, name)] = spent.get(part_of(file, name), 0.0) + own
    total = sum(spent.values())
    for part in (*PARTS, "other"):
        print(f"  {part:<12} {spent.get(part, 0.0):6.2f} s  {spent.get(part, 0.0) / total:6.1%}")
    print(f"costliest {opts.top} functions (own time):")
    pstats.Stats(profile).sort_stats("tottime").print_stats(opts.top)
    return 0


main = command(run)


if __name__ == "__main__":
    sys.exit(main())
