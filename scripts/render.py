#!/usr/bin/env python
"""Watch an agent act: record episodes to a GIF or MP4 (and show them in a window if there is a
display).

    python scripts/render.py runs/CliffWalking-v0/q_learning/<stamp> --episodes 1 --out episode.gif
    python scripts/render.py agents/pretrained/highway --out highway.mp4
    python scripts/render.py runs/RussellNorvig4x3-v0/value_iteration/<stamp> --values values.png
    python scripts/render.py --env rlcourse/CliffWalking-v0 --out random.gif   (random actions)

Random actions (``--env``) are drawn among the legal ones where the env gives an action mask.
An env that draws only text (the T-maze, tic-tac-toe) has its episodes printed instead.
`--values FILE.png` draws the agent's state values as a heatmap with its greedy policy as
arrows (gridworlds), instead of playing episodes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rlcourse.cli import command

VIDEO_SUFFIXES = (".gif", ".mp4")


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("path", nargs="?", metavar="RUN_DIR|CHECKPOINT")
    source.add_argument("--env", metavar="ID", help="render an env with random (legal) actions")
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fps", type=float, default=None, help="default: the env's render_fps")
    parser.add_argument(
        "--max-steps", type=int, default=200, help="cut an episode after this many steps"
    )
    parser.add_argument(
        "--out", metavar="FILE.gif|.mp4", help="default: <run dir>/episode.gif or ./<env>.gif"
    )
    parser.add_argument(
        "--values", metavar="FILE.png", help="save the value heatmap and policy arrows instead"
    )
    parser.add_argument("--no-window", action="store_true", help="never open a pygame window")
    opts = parser.parse_args(argv)
    if opts.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {opts.episodes}")
    if opts.out and Path(opts.out).suffix.lower() not in VIDEO_SUFFIXES:
        parser.error(f"--out {opts.out}: write a {' or '.join(VIDEO_SUFFIXES)} file")
    # Imported once the arguments are read, so that --help answers at once.
    import gymnasium as gym

    import envs  # noqa: F401  (registers the rlcourse/* env ids)
    from agents.training import env_factory, load_agent
    from rlcourse.config import ConfigError

    if opts.env:
        try:
            spec = gym.spec(opts.env)
        except gym.error.Error as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        make = lambda **kw: gym.make(spec, **kw)  # noqa: E731
        policy = lambda env: random_legal_actions(env, opts.seed)  # noqa: E731
        default_out = Path(opts.env.replace("/", "_") + ".gif")
    else:
        try:
            agent, config = load_agent(opts.path)
        except (ConfigError, FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if opts.values:
            return save_values(agent, env_factory(config, render_mode="rgb_array")(), opts.values)
        make = lambda **kw: env_factory(config, **kw)()  # noqa: E731

        def policy(env: Any) -> Callable[[Any, Any], Any]:
            return lambda obs, info: agent.act(obs, info, deterministic=True)

        run_dir = Path(opts.path) if Path(opts.path).is_dir() else Path(opts.path).parent
        default_out = run_dir / "episode.gif"
    probe = make()
    render_modes = probe.metadata.get("render_modes", [])
    fps = opts.fps or probe.metadata.get("substep_fps") or probe.metadata.get("render_fps", 4)
    probe.close()
    if "rgb_array" not in render_modes:
        if "ansi" not in render_modes or opts.out:
            print(f"error: {opts.env or config.env.id} draws no frames (its render modes: "
                  f"{', '.join(render_modes) or 'none'}); without --out, an env that draws "
                  "text has its episodes printed", file=sys.stderr)  # fmt: skip
            return 2
        return print_episodes(make(render_mode="ansi"), policy, opts)
    return record(make(render_mode="rgb_array"), policy, opts, Path(opts.out or default_out), fps)


def random_legal_actions(env: Any, seed: int) -> Callable[[Any, Any], Any]:
    """Uniformly random actions of ``env``: among the legal ones where the obs or the info
    holds an action mask."""
    import numpy as np

    from rlcourse.vector import split_observation

    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)

    def act(obs: Any, info: Any) -> Any:
        _, mask = split_observation(obs, info)
        if mask is not None:
            return int(rng.choice(np.flatnonzero(mask)))
        return env.action_space.sample()

    return act


def record(env: Any, policy: Any, opts: argparse.Namespace, out: Path, fps: float) -> int:
    from rlcourse.render import record_episode, save_video, show_frames

    act, frames, returns = policy(env), [], []
    for i in range(opts.episodes):
        episode, total = record_episode(env, act, seed=opts.seed + i, max_steps=opts.max_steps)
        frames += episode
        returns.append(total)
    env.close()
    out = save_video(frames, out, fps=fps)
    print(f"wrote {out} ({len(frames)} frames, returns {', '.join(f'{r:g}' for r in returns)})")
    if not opts.no_window:
        show_frames(frames, fps=fps)
    return 0


def print_episodes(env: Any, policy: Any, opts: argparse.Namespace) -> int:
    """Episodes of a text-only env, each step's picture printed."""
    from rlcourse.render import record_episode

    act = policy(env)
    for i in range(opts.episodes):
        texts, total = record_episode(env, act, seed=opts.seed + i, max_steps=opts.max_steps)
        print(f"episode {i + 1} (seed {opts.seed + i}):")
        print("\n\n".join(str(text).rstrip() for text in texts))
        print(f"return {total:g}\n")
    env.close()
    return 0


def save_values(agent: Any, env: Any, out: str) -> int:
    from rlcourse.render import save_png

    if not hasattr(agent, "value_table") or not hasattr(env.unwrapped, "render_values"):
        print("error: --values needs a tabular agent on a gridworld env", file=sys.stderr)
        return 2
    values, policy = agent.value_table()
    env.reset(seed=0)
    save_png(env.unwrapped.render_values(values=values, policy=policy), Path(out))
    env.close()
    print(f"wrote {out}")
    return 0


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
