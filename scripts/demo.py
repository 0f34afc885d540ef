#!/usr/bin/env python
"""The suite's main job on defaults, in a few minutes on 2 cores (`make demo`).

1. Solves Russell & Norvig's 4x3 world by value iteration and draws its values and policy.
2. Trains SARSA and Q-learning on Cliff Walking (3 seeds each) from configs/, with
   TensorBoard logs, and plots their learning curves (Sutton & Barto, Figure 6.4).
3. Renders a greedy episode of each trained agent to a GIF, and plays it in a pygame window
   when a display exists.
4. Plays the shipped 5x5 AlphaZero network as Black (5x5 Go is a win for Black under perfect
   play, by 25 points) against GNU Go at level 10 (plain MCTS where GNU Go is not installed),
   and saves the game as SGF and GIF.

Everything lands under runs/ (pictures, games and GIFs in runs/demo/).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
GO5 = ROOT / "agents" / "pretrained" / "go5" / "alphazero.ckpt"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs-dir", default="runs", help="where runs and pictures go")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--no-window", action="store_true")
    opts = parser.parse_args(argv)
    # Imported once the arguments are read, so that --help answers at once.
    import numpy as np

    import envs  # noqa: F401  (registers the rlcourse/* env ids)
    from agents.training import env_factory, load_experiment, train
    from rlcourse.plotting import plot_learning_curves
    from rlcourse.render import record_episode, save_gif, save_png, show_frames

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
    trained, run_dirs = {}, []
    for name in ("sarsa", "q_learning"):
        for seed in range(opts.seeds):
            config = load_experiment(
                CONFIGS / "cliff" / f"{name}.yaml", [*common, f"train.seed={seed}"]
            )
            result = train(config)
            greedy = result.evaluation.mean
            print(f"   {name:<10} seed {seed}: greedy return {greedy:.0f}  ({result.run_dir})")
            trained.setdefault(name, result)
            run_dirs.append(result.run_dir)
    curves = plot_learning_curves(
        run_dirs,
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
    go_against_a_reference(out, opts.no_window)
    print(f"\nTensorBoard: .venv/bin/tensorboard --logdir {opts.runs_dir}")
    return 0


def go_against_a_reference(out: Path, no_window: bool) -> None:
    """Step 4: the shipped 5x5 network as Black (100 simulations a move, no root noise) against
    GNU Go level 10, or plain MCTS (3,000 random-rollout simulations) without GNU Go; the game
    as SGF and GIF."""
    import torch

    from agents.alphazero.agent import AlphaZeroAgent
    from agents.alphazero.arena import mcts_player, network_player, play_game
    from agents.alphazero.config import ArenaConfig
    from envs.go.opponents import GNUGO, GnuGoPlayer
    from envs.go.rendering import GoRenderer
    from envs.go.sgf import game_record, save_sgf
    from rlcourse.render import save_gif, show_frames

    torch.set_num_threads(1)
    agent = AlphaZeroAgent.from_file(GO5)
    game, komi = agent.game, agent.config.game.komi
    gnugo = shutil.which(GNUGO.split()[0])
    name = "GNU Go 10" if gnugo else "MCTS-3000"
    print(f"== 4. The shipped 5x5 AlphaZero network against {name} (komi {komi:g})")
    network = network_player(game, agent.net, ArenaConfig(simulations=100), seed=0)
    reference = (GnuGoPlayer(5, komi, level=10) if gnugo
                 else mcts_player(game, ArenaConfig(mcts_simulations=3000), seed=0))  # fmt: skip
    renderer = GoRenderer(5, size_px=360)
    try:
        for number, network_black in enumerate((True,), start=1):
            black, white = (network, reference) if network_black else (reference, network)
            finished = play_game(game, black, white)
            names = ("AlphaZero 5x5", name) if network_black else (name, "AlphaZero 5x5")
            record = game_record(finished.start, finished.final, black=names[0], white=names[1])
            sgf = save_sgf(record, out / f"go5_game{number}.sgf")
            states = [record.initial]
            for move in record.moves:
                states.append(states[-1].play(move))
            if finished.final.resigned is not None:
                states.append(finished.final)  # the resigned position says who resigned
            frames = [renderer.frame(state) for state in states]
            gif = save_gif(frames, out / f"go5_game{number}.gif", fps=2, hold_last=3.0)
            won = finished.returns[0 if network_black else 1] > 0
            colour = "Black" if network_black else "White"
            print(f"   game {number}: the network as {colour} {'wins' if won else 'loses'} "
                  f"({record.info.result}) -> {sgf}, {gif}")  # fmt: skip
            if not no_window:
                show_frames(frames, fps=2, title=f"5x5 Go: game {number}")
    finally:
        if gnugo:
            reference.close()  # type: ignore[union-attr]


if __name__ == "__main__":
    sys.exit(main())
