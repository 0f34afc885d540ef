#!/usr/bin/env python
"""Pre-train an AlphaZero network on SGF records only (no self-play), and optionally score it.

    python scripts/gnugo_games.py --size 7 --komi 9 --games 200 --level 5 --out /tmp/go7_games
    python scripts/pretrain.py configs/go7/alphazero.yaml 'agent.pretrain.sgf=[/tmp/go7_games]' \\
        --arena agent.arena.games=20 'agent.arena.opponents=[random,mcts]'

The run directory gets config.yaml, the ``pretrain/*`` TensorBoard scalars and agent.ckpt (the
network, as ``scripts/selfplay.py`` saves it); ``--arena`` then plays one arena round of the
pre-trained network (``agent.arena.simulations`` per move) against ``agent.arena.opponents``
and prints the scores. The config and every SGF record are checked before the run directory
is made, so an error leaves none behind. ``scripts/selfplay.py`` with ``agent.pretrain`` set
does the same pre-training at the start of a new run and then goes on with self-play.
"""

from __future__ import annotations

import argparse
import sys

from rlcourse.cli import command


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "args", nargs="*", metavar="CONFIG [key=value ...]", help="config file, then overrides"
    )
    parser.add_argument("--arena", action="store_true", help="score the pre-trained network")
    parser.add_argument("--threads", type=int, default=1, metavar="N", help="torch threads")
    opts = parser.parse_intermixed_args(argv)
    files = [a for a in opts.args if "=" not in a]
    if len(files) != 1:
        parser.error("give exactly one config file (then key=value overrides)")
    # Imported once the arguments are read, so that --help answers at once.
    import torch

    import envs  # noqa: F401  (registers the rlcourse/* env ids)
    from agents.alphazero.agent import AlphaZeroAgent, log_arena
    from agents.alphazero.arena import Arena
    from agents.alphazero.games import make_game
    from agents.alphazero.pretrain import load_positions, pretrain, sgf_files
    from agents.alphazero.system import weights_of
    from agents.training import AGENT_FILE, load_experiment
    from rlcourse.config import ConfigError
    from rlcourse.runs import Run

    torch.set_num_threads(max(opts.threads, 1))
    try:
        config = load_experiment(files[0], [a for a in opts.args if "=" in a])
        agent_config = config.agent
        if agent_config is None or agent_config.name != "alphazero":
            raise ConfigError(files[0], ["agent.name: pretrain.py trains alphazero networks"])
        if agent_config.pretrain is None:  # type: ignore[union-attr]
            raise ConfigError(files[0], ["agent.pretrain: give agent.pretrain.sgf=[...]"])
        # Every record is read before the run directory is made: an error leaves nothing.
        records = sgf_files(agent_config.pretrain.sgf)  # type: ignore[union-attr]
        load_positions(records, make_game(agent_config.game))  # type: ignore[union-attr]
    except (ConfigError, FileNotFoundError, ValueError) as exc:  # SgfError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seed = config.train.seed
    agent = AlphaZeroAgent(agent_config, seed=seed)  # type: ignore[arg-type]
    with Run.create(config, progress=False) as new_run:
        report = pretrain(agent.net, agent.game, agent.config.pretrain, seed, new_run)  # type: ignore[arg-type]
        print(report.summary())
        agent.save(new_run.dir / AGENT_FILE)
        if opts.arena:
            arena = Arena(agent.config, seed)
            result = arena.evaluate(0, weights_of(agent.net))
            arena.close()
            log_arena(new_run, result)
            for opponent, match in result.results.items():
                low, high = match.interval()
                print(f"arena vs {opponent:<8} score {match.score:.2f} (95% CI {low:.2f}-"
                      f"{high:.2f}; {match.wins}-{match.draws}-{match.losses} W-D-L)")  # fmt: skip
    print(f"run directory: {new_run.dir}")
    return 0


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
