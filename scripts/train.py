#!/usr/bin/env python
"""Train an agent from a YAML config.

    python scripts/train.py configs/cliff/q_learning.yaml agent.alpha=0.5 train.seed=3
    python scripts/train.py --resume runs/CliffWalking-v0/q_learning/<stamp> [train.episodes=1000]
    python scripts/train.py configs/gridworld/rllib_ppo.yaml --address auto
    python scripts/train.py configs/highway/dqn_attention.yaml --threads 1

The config's `backend` picks who trains (rlcourse, sb3 or rllib); `--address` joins an existing
Ray cluster for the rllib backend (the same as ``backend.address=...``). The run directory
(config.yaml, TensorBoard events, checkpoints/, eval.json, and agent.ckpt for rlcourse and
sb3) is printed at the end. A bad config, or a backend library outside its supported
versions, is refused before anything runs (exit status 2). A file that cannot be written (a full
disk) or read (no usable checkpoint to resume from) ends the run with one line naming it (exit
status 1); the checkpoints written before it stay usable. Ctrl-C writes a checkpoint at the
next episode end (or counted batch of steps) and prints the command that carries on (exit
status 130); a second Ctrl-C stops at once.
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
    parser.add_argument(
        "--resume", metavar="RUN_DIR", help="carry on a stopped run from its last checkpoint"
    )
    parser.add_argument(
        "--address",
        metavar="ADDRESS",
        help="rllib backend: join this Ray cluster (auto, host:port)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="torch threads (default: torch's, one per core); the small networks of most "
        "configs run fastest on 1, especially on a machine busy with other jobs",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    opts = parser.parse_intermixed_args(argv)
    # Imported once the arguments are read, so that --help answers at once.
    import envs  # noqa: F401  (registers the rlcourse/* env ids)
    from agents.backends import BackendVersionError
    from agents.training import load_experiment, resume_config, train
    from rlcourse.config import ConfigError

    if opts.threads is not None:
        if opts.threads < 1:
            parser.error(f"--threads must be >= 1, got {opts.threads}")
        import torch

        torch.set_num_threads(opts.threads)
    overrides = [a for a in opts.args if "=" in a]
    files = [a for a in opts.args if "=" not in a]
    try:
        if opts.resume:
            if files:
                parser.error(
                    "with --resume the config comes from the run directory: "
                    "give only key=value overrides"
                )
            config = resume_config(opts.resume, overrides)
            if config.backend.name == "rllib":
                parser.error("--resume is not supported with backend rllib: start a new run")
        else:
            if len(files) != 1:
                parser.error("give exactly one config file (then key=value overrides)")
            config = load_experiment(files[0], overrides)
        if opts.address is not None:
            if config.backend.name != "rllib":
                parser.error(
                    f"--address joins a Ray cluster for the rllib backend; this config's "
                    f"backend is {config.backend.name}"
                )
            address = config.backend.model_copy(update={"address": opts.address})
            config = config.model_copy(update={"backend": address})
        result = train(config, resume_dir=opts.resume, progress=False if opts.no_progress else None)
    except (ConfigError, FileNotFoundError, BackendVersionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"run directory: {result.run_dir}")
    print(f"evaluation:    {result.evaluation.summary()}")
    return 0


main = command(run, resume="python scripts/train.py --resume {run_dir}")

if __name__ == "__main__":
    sys.exit(main())
