#!/usr/bin/env python
"""Evaluate a trained agent: mean, std and 95% interval of the return over N episodes.

python scripts/evaluate.py runs/q_learning/20261122-101500 --episodes 100 --json eval.json
python scripts/evaluate.py runs/q_learning/20261122-101500/checkpoints/step_0000005000.pt
"""

from __future__ import annotations

import argparse
import json
import sys

import envs  # noqa: F401  (registers the rlcourse/* env ids)
from agents.training import env_factory, load_agent
from rlcourse.config import ConfigError
from rlcourse.evaluation import evaluate


def main(argv: list[str] | None = None) -> int:
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
    opts = parser.parse_args(argv)
    if opts.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {opts.episodes}")
    try:
        agent, config = load_agent(opts.path)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    env = env_factory(config)()
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


if __name__ == "__main__":
    sys.exit(main())
