#!/usr/bin/env python
"""The suite's main job on defaults, in a few minutes on 2 cores (`make demo`).

1. Solves Russell & Norvig's 4x3 world by value iteration and draws its values and policy.
2. Trains SARSA and Q-learning on Cliff Walking (3 seeds each) from configs/, with
   TensorBoard logs, and plots their learning curves (Sutton & Barto, Figure 6.4).
3. Renders a greedy episode of each trained agent to a GIF, and plays it in a pygame window
   when a display exists.

Everything lands under runs/ (pictures in runs/demo/).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import envs  # noqa: F401  (registers the rlcourse/* env ids)
from agents.training import env_factory, load_experiment, train
from rlcourse.plotting import plot_learning_curves
from rlcourse.render import record_episode, save_gif, save_png, show_frames

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs-dir", default="runs", help="where runs and pictures go")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--no-window", action="store_true")
    opts = parser.parse_args(argv)
    out = Path(opts.runs_dir) / "demo"
    out.mkdir(parents=True, exist_ok=True)
    common = [f"train.runs_dir={opts.runs_dir}"]

    print("== 1. Value iteration on Russell & Norvig's 4x3 world")
    config = load_experiment(CONFIGS / "rn4x3" / "value_iteration.yaml", common)
    planned = train(config)
    env = env_factory(config, render_mode="rgb_array")()
    env.reset(seed=0)
    values, policy = planned.agent.value_table()
    grid = env.unwrapped
    print(
        np.array2string(values.reshape(grid.n_rows, grid.n_cols), precision=3, suppress_small=True)
    )
    picture = save_png(grid.render_values(values=values, policy=policy), out / "rn4x3_values.png")
    print(f"   values and policy -> {picture}")
    env.close()

    print("== 2. SARSA and Q-learning on Cliff Walking (Sutton & Barto, Example 6.6)")
    trained = {}
    for name in ("sarsa", "q_learning"):
        for seed in range(opts.seeds):
            config = load_experiment(
                CONFIGS / "cliff" / f"{name}.yaml", [*common, f"train.seed={seed}"]
            )
            result = train(config)
            greedy = result.evaluation.mean
            print(f"   {name:<10} seed {seed}: greedy return {greedy:.0f}  ({result.run_dir})")
            trained.setdefault(name, result)
    curves = plot_learning_curves(
        [Path(opts.runs_dir) / "sarsa", Path(opts.runs_dir) / "q_learning"],
        out / "cliff_learning_curves.png",
        smooth=20,
        title="Cliff Walking, epsilon = 0.1: online return per episode (S&B Fig. 6.4)",
        x_axis="episodes",
        ylim=(-100, 0),
    )
    print(f"   learning curves -> {curves}")

    print("== 3. Greedy episodes of the trained agents")
    for name, result in trained.items():
        env = env_factory(result.config, render_mode="rgb_array")()
        frames, total = record_episode(
            env, lambda o, i, a=result.agent: a.act(o, i, deterministic=True), seed=0, max_steps=100
        )
        env.close()
        gif = save_gif(frames, out / f"cliff_{name}.gif", fps=6)
        print(f"   {name}: {len(frames) - 1} steps, return {total:.0f} -> {gif}")
        if not opts.no_window:
            show_frames(frames, fps=6, title=f"Cliff Walking: {name}")
    print(f"\nTensorBoard: .venv/bin/tensorboard --logdir {opts.runs_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
