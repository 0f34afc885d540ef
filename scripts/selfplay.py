#!/usr/bin/env python
"""AlphaZero self-play training from a YAML config, in one process or on Ray.

    python scripts/selfplay.py configs/go5/alphazero.yaml --workers 0           # one process
    python scripts/selfplay.py configs/go7/alphazero.yaml --workers 4           # local cluster
    ray start --head && python scripts/selfplay.py configs/go7/alphazero.yaml --address auto
    python scripts/selfplay.py --resume runs/Go-v0/alphazero/<stamp> [train.episodes=5000]

With ``--workers N`` (N > 0; the same as ``agent.distributed.workers=N``) self-play actors,
the replay, the learner and the arena run as Ray actors: with no ``--address`` on a local
cluster of ``agent.distributed.num_cpus`` CPUs (all when null), with ``--address auto`` (or
host:port) on a running one. A self-play actor that dies, alone or with its node, costs only
its unfinished games: Ray restarts it (``agent.distributed.max_restarts`` times, on any node with
a free CPU, a node that joins later included), the run counts each death once
(``selfplay/worker_deaths``) and goes on with the workers it has, and every finished game
enters the replay exactly once. The replay, learner and arena run on this script's node: a
lost head node is covered by ``--resume`` from the last checkpoint. ``train.episodes`` counts
self-play games and ``train.steps`` positions. The config (AlphaZero only) and every SGF record
of ``agent.pretrain`` are checked before the run directory is made.

The run directory (config.yaml, TensorBoard events, checkpoints/, sgf/ with arena games,
agent.ckpt, eval.json) and the last arena round's scores are printed at the end. Ctrl-C writes a
checkpoint after the current round and prints the command that carries on.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rlcourse.cli import command

if TYPE_CHECKING:
    from agents.alphazero.config import AlphaZeroConfig
    from rlcourse.config import ExperimentConfig


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "args", nargs="*", metavar="CONFIG [key=value ...]", help="config file, then overrides"
    )
    parser.add_argument("--resume", metavar="RUN_DIR", help="carry on a stopped run")
    parser.add_argument("--address", metavar="ADDRESS", help="join a Ray cluster (auto, host:port)")
    parser.add_argument("--workers", type=int, metavar="N", help="self-play actors (0: no Ray)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="torch threads of this process (default 1: small batched networks gain little "
        "from more, and self-play actors use the other cores)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    opts = parser.parse_intermixed_args(argv)
    # Imported once the arguments are read, so that --help answers at once.
    import envs  # noqa: F401  (registers the rlcourse/* env ids)
    from agents.training import load_experiment, resume_config, train
    from rlcourse.config import ConfigError

    if opts.threads < 1:
        parser.error(f"--threads must be >= 1, got {opts.threads}")
    import torch

    torch.set_num_threads(opts.threads)
    overrides = [a for a in opts.args if "=" in a]
    files = [a for a in opts.args if "=" not in a]
    if opts.workers is not None:
        if opts.workers < 0:
            parser.error(f"--workers must be >= 0, got {opts.workers}")
        overrides.append(f"agent.distributed.workers={opts.workers}")
    try:
        if opts.resume:
            if files:
                parser.error("with --resume the config comes from the run directory")
            source = opts.resume
            config = load_alphazero(lambda o: resume_config(opts.resume, o), overrides, source)
        else:
            if len(files) != 1:
                parser.error("give exactly one config file (then key=value overrides)")
            source = files[0]
            config = load_alphazero(lambda o: load_experiment(files[0], o), overrides, source)
            check_records(config.agent)  # type: ignore[arg-type]
    except (ConfigError, FileNotFoundError, ValueError) as exc:  # SgfError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    workers = config.agent.distributed.workers  # type: ignore[union-attr]
    if opts.address is not None and workers == 0:
        parser.error("--address joins a Ray cluster: give --workers N (N > 0) as well")
    if workers:
        import ray

        from rlcourse.distributed import start_ray

        cpus = config.agent.distributed.num_cpus or os.cpu_count()  # type: ignore[union-attr]
        print(start_ray(opts.address, None if opts.address else cpus), flush=True)
    try:
        result = train(config, resume_dir=opts.resume, progress=False if opts.no_progress else None)
    except ConfigError as exc:  # found when the run starts: a train.name already taken
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if workers:
            ray.shutdown()
    print(f"run directory: {result.run_dir}")
    print(f"evaluation:    {result.evaluation.summary()}")
    for line in last_arena_scores(result.run_dir):
        print(line)
    return 0


def last_arena_scores(run_dir: Path) -> list[str]:
    """One line per arena opponent: the network's last score with its 95% interval."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    events.Reload()
    tags = set(events.Tags().get("scalars", []))

    def last(tag: str) -> float:
        return events.Scalars(tag)[-1].value

    lines = []
    for tag in sorted(t for t in tags if t.startswith("arena/") and t.endswith("/score")):
        opponent = tag.split("/")[1]
        low, high = last(f"arena/{opponent}/ci95_low"), last(f"arena/{opponent}/ci95_high")
        lines.append(
            f"arena vs {opponent:<8} score {last(tag):.2f} (95% CI {low:.2f}-{high:.2f}, "
            "draws count half)"
        )
    return lines


def load_alphazero(
    load: Callable[[Sequence[str]], ExperimentConfig], overrides: Sequence[str], source: str
) -> ExperimentConfig:
    """The config ``load(overrides)`` gives, refused unless its agent is AlphaZero; another
    agent's config is refused as such, not for the AlphaZero keys the options add to it."""
    from rlcourse.config import ConfigError

    try:
        config = load(overrides)
    except ConfigError:
        check_alphazero(load([]), source)  # raises first for another agent's config
        raise
    check_alphazero(config, source)
    return config


def check_alphazero(config: ExperimentConfig, source: str) -> None:
    from rlcourse.config import ConfigError

    if config.agent is None or config.agent.name != "alphazero":
        name = None if config.agent is None else config.agent.name
        raise ConfigError(source, [f"agent.name: selfplay.py trains AlphaZero configs only, and "
                                   f"this config's agent is {name!r} (train it with "
                                   "scripts/train.py)"])  # fmt: skip


def check_records(config: AlphaZeroConfig) -> None:
    """Read every SGF record ``agent.pretrain`` names, so that a missing or malformed one is
    refused before the run directory is made (pre-training reads them again)."""
    from agents.alphazero.games import make_game
    from agents.alphazero.pretrain import load_positions, sgf_files

    if config.pretrain is not None:
        load_positions(sgf_files(config.pretrain.sgf), make_game(config.game))


main = command(run, resume="python scripts/selfplay.py --resume {run_dir}")

if __name__ == "__main__":
    sys.exit(main())
