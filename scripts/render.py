#!/usr/bin/env python
"""Watch an agent act: record episodes to a GIF (and show them in a window if there is a display).

    python scripts/render.py runs/CliffWalking-v0/q_learning/<stamp> --episodes 1 --out episode.gif
    python scripts/render.py runs/RussellNorvig4x3-v0/value_iteration/<stamp> --values values.png
    python scripts/render.py --env rlcourse/CliffWalking-v0 --out random.gif   (random actions)

`--values FILE.png` draws the agent's state values as a heatmap with its greedy policy as
arrows (gridworlds), instead of playing episodes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import gymnasium as gym

import envs  # noqa: F401  (registers the rlcourse/* env ids)
from agents.training import env_factory, load_agent
from rlcourse.cli import command
from rlcourse.config import ConfigError
from rlcourse.render import record_episode, save_gif, save_png, show_frames


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("path", nargs="?", metavar="RUN_DIR|CHECKPOINT")
    source.add_argument("--env", metavar="ID", help="render an env with random actions")
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fps", type=float, default=4.0)
    parser.add_argument(
        "--max-steps", type=int, default=200, help="cut an episode after this many steps"
    )
    parser.add_argument(
        "--out", metavar="FILE.gif", help="default: <run dir>/episode.gif or ./<env>.gif"
    )
    parser.add_argument(
        "--values", metavar="FILE.png", help="save the value heatmap and policy arrows instead"
    )
    parser.add_argument("--no-window", action="store_true", help="never open a pygame window")
    opts = parser.parse_args(argv)
    if opts.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {opts.episodes}")

    if opts.env:
        try:
            env = gym.make(opts.env, render_mode="rgb_array")
        except gym.error.Error as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        env.action_space.seed(opts.seed)

        def act(obs, info):
            return env.action_space.sample()

        default_out = Path(opts.env.replace("/", "_") + ".gif")
    else:
        try:
            agent, config = load_agent(opts.path)
        except (ConfigError, FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        env = env_factory(config, render_mode="rgb_array")()
        if opts.values:
            return save_values(agent, env, Path(opts.values))

        def act(obs, info):
            return agent.act(obs, info, deterministic=True)

        run_dir = Path(opts.path) if Path(opts.path).is_dir() else Path(opts.path).parent
        default_out = run_dir / "episode.gif"

    frames, returns = [], []
    for i in range(opts.episodes):
        episode, total = record_episode(env, act, seed=opts.seed + i, max_steps=opts.max_steps)
        frames += episode
        returns.append(total)
    env.close()
    out = save_gif(frames, opts.out or default_out, fps=opts.fps)
    print(f"wrote {out} ({len(frames)} frames, returns {', '.join(f'{r:g}' for r in returns)})")
    if not opts.no_window:
        show_frames(frames, fps=opts.fps)
    return 0


def save_values(agent, env, out: Path) -> int:
    if not hasattr(agent, "value_table") or not hasattr(env.unwrapped, "render_values"):
        print("error: --values needs a tabular agent on a gridworld env", file=sys.stderr)
        return 2
    values, policy = agent.value_table()
    env.reset(seed=0)
    save_png(env.unwrapped.render_values(values=values, policy=policy), out)
    env.close()
    print(f"wrote {out}")
    return 0


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
