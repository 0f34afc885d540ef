#!/usr/bin/env python
"""Evaluate a trained agent: mean, std and 95% interval of the return over N episodes.

python scripts/evaluate.py runs/CliffWalking-v0/q_learning/<stamp> --episodes 100 --json eval.json
python scripts/evaluate.py runs/CliffWalking-v0/q_learning/<stamp>/checkpoints/step_0000005000.pt
python scripts/evaluate.py runs/CartPole-v1/rllib_ppo/<stamp> --episodes 1000 --workers 8

Run directories of every backend (rlcourse, sb3, rllib) are accepted. `--workers N` plays the
episodes on N Ray workers (a local cluster, or the one `--address` names) with the same
statistics as a local evaluation: episode i is reset with seed + i wherever it runs.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from typing import TYPE_CHECKING

from rlcourse.cli import command

if TYPE_CHECKING:
    from rlcourse.config import ExperimentConfig
    from rlcourse.evaluation import EvalResult


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", metavar="RUN_DIR|CHECKPOINT")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="episode i is reset with seed + i")
    parser.add_argument(
        "--stochastic", action="store_true", help="sample actions instead of acting greedily"
    )
    parser.add_argument("--max-steps", type=int, default=None, help="cut episodes longer than this")
    parser.add_argument("--json", metavar="FILE", help="also write the statistics as JSON")
    parser.add_argument(
        "--render", action="store_true", help="show the episodes in a window (with a display)"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="play the episodes on N Ray workers (0: here)"
    )
    parser.add_argument(
        "--address", metavar="ADDRESS", help="with --workers: join this Ray cluster (auto)"
    )
    opts = parser.parse_args(argv)
    if opts.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {opts.episodes}")
    if opts.workers < 0:
        parser.error(f"--workers must be 0 or more, got {opts.workers}")
    if opts.address is not None and opts.workers == 0:
        parser.error("--address needs --workers N")
    # Imported once the arguments are read, so that --help answers at once.
    import envs  # noqa: F401  (registers the rlcourse/* env ids)
    from agents.backends import BackendVersionError, require
    from agents.training import env_factory, load_agent
    from rlcourse.config import ConfigError
    from rlcourse.evaluation import evaluate

    try:
        agent, config = load_agent(opts.path)
        if opts.workers:
            require("ray")
    except (ConfigError, FileNotFoundError, ValueError, BackendVersionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if opts.workers:
        result = evaluate_on_ray(agent, config, opts)
    else:
        env = env_factory(config, **window(opts.render, config))()
        result = evaluate(
            agent,
            env,
            opts.episodes,
            seed=opts.seed,
            deterministic=not opts.stochastic,
            max_steps=opts.max_steps,
        )
        env.close()
    print(f"{config.name} on {config.env.id}: {result.summary()}")
    if opts.json:
        result.write_json(opts.json)
        print(f"wrote {opts.json}")
    else:
        print(
            json.dumps(
                {k: v for k, v in result.to_dict().items() if k not in ("returns", "lengths")},
                indent=2,
            )
        )
    return 0


def window(wanted: bool, config: ExperimentConfig) -> dict[str, str]:
    """The env kwargs that show episodes in a window: when asked for, a display exists and
    the env draws to one; otherwise nothing, with one line saying why not."""
    if not wanted:
        return {}
    from agents.training import env_factory
    from rlcourse.render import display_available

    probe = env_factory(config)()
    modes = probe.metadata.get("render_modes", [])
    probe.close()
    if display_available() and "human" in modes:
        return {"render_mode": "human"}
    why = "no display" if not display_available() else f"{config.env.id} draws no window"
    print(f"--render: {why}; evaluating without a window", file=sys.stderr)
    return {}


def evaluate_on_ray(
    agent: object, config: ExperimentConfig, opts: argparse.Namespace
) -> EvalResult:
    """The evaluation spread over `opts.workers` Ray workers; a local cluster is started (and
    stopped) unless `opts.address` names one."""
    import gymnasium as gym
    import ray

    from rlcourse.distributed import evaluate_distributed, start_ray

    print(start_ray(opts.address, None if opts.address else opts.workers), flush=True)
    try:
        # Built from the env's spec, so that the workers need no env registration.
        make_env = functools.partial(gym.make, gym.spec(config.env.id), **config.env.kwargs)
        return evaluate_distributed(
            agent,
            make_env,
            opts.episodes,
            seed=opts.seed,
            deterministic=not opts.stochastic,
            max_steps=opts.max_steps,
            workers=opts.workers,
        )
    finally:
        ray.shutdown()


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
