#!/usr/bin/env python
"""Our DDPG, TD3 and SAC next to Stable-Baselines3's, side by side on Pendulum-v1.

Same networks (256x256 ReLU actor and critics), batch, replay size, learning starts, one
gradient step per env step and every other hyper-parameter, read from
configs/pendulum/<algo>.yaml and mapped onto SB3's arguments. One torch thread per run. Every
run is evaluated greedily (10 episodes) every tenth of its budget and at the end.

Cases (bigger ratios are better for us):
- ``Pendulum-v1/<algo>/steps_per_second``: env steps per second of learning, evaluation
  excluded (target: ratio >= 1.3).
- ``Pendulum-v1/<algo>/final_return``: final greedy return, mean over seeds (ratio: SB3's /
  ours, the returns being negative); ``seeds_at_target`` counts our seeds at -200 or better
  (target: 4 of 5), ``sb3_seeds_at_target`` SB3's.

Each (algo, seed) is one job that runs ours and then SB3's in one process; ``--jobs N`` runs
N jobs at a time in worker processes. Each run's result is printed as it finishes.

    python scripts/bench_offpolicy.py                    # 5 seeds x 3 algos, 20k steps each
    python scripts/bench_offpolicy.py --quick            # 1 seed, 1,500 steps: a check only
    python scripts/bench_offpolicy.py --jobs 2 --json offpolicy.json --plot offpolicy.png
    python scripts/bench_offpolicy.py --seeds 1 --steps 3000  # speed only (2,000 updates)
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from scripts.bench_pg import (
    NOTES,
    Evaluator,
    Job,
    Outcome,
    draw_runs,
    group,
    run_ours,
    show_agents,
    summarise,
)

ENV_ID = "Pendulum-v1"
STEPS = 20_000
QUICK_STEPS = 1_500
TARGET = -200.0
ALGOS = ("sac", "td3", "ddpg")
COLORS = {"sac": "C0", "td3": "C1", "ddpg": "C2"}  # ours solid, SB3 dashed
EVAL_POINTS = 10
RATIO_NOTE = (
    "ratio: ours / sb3 for steps per second, sb3 / ours for the (negative) returns: above 1 "
    f"is better for us. Targets: steps/s ratio >= 1.3; {TARGET:g} or better on 4 of 5 seeds."
)


def sb3_arguments(config: Any) -> dict[str, Any]:
    """SB3 keyword arguments equal to one of our DDPG, TD3 or SAC config sections."""
    from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    mlp = config.network.mlp
    if mlp.activation != "relu" or mlp.norm is not None or config.n_step != 1:
        raise ValueError("the benchmark maps only plain ReLU MLPs and one-step returns onto SB3")
    kwargs: dict[str, Any] = {
        "learning_rate": config.lr,
        "buffer_size": config.buffer_size,
        "learning_starts": config.learning_starts,
        "batch_size": config.batch_size,
        "tau": config.tau,
        "gamma": config.gamma,
        "train_freq": config.train_freq,
        "gradient_steps": config.gradient_steps,
        "policy_kwargs": {"net_arch": list(mlp.hidden)},
    }
    if config.name == "sac":
        alpha = config.alpha if config.alpha != "auto" else f"auto_{config.alpha_init}"
        kwargs["policy_kwargs"]["n_critics"] = config.n_critics
        return kwargs | {"ent_coef": alpha, "target_entropy": config.target_entropy}
    # SB3 adds the noise to actions in [-1, 1], as we do; Pendulum has one action dimension
    sigma = np.full(1, config.exploration_noise)
    if config.exploration == "ornstein_uhlenbeck":  # the same recursion, reset at episode ends
        mean = np.full(1, config.ou_mu)
        noise = OrnsteinUhlenbeckActionNoise(mean, sigma, theta=config.ou_theta, dt=config.ou_dt)
    else:
        noise = NormalActionNoise(np.zeros(1), sigma)
    kwargs["action_noise"] = noise
    if config.name == "td3":
        kwargs["policy_kwargs"]["n_critics"] = config.n_critics
        return kwargs | {
            "policy_delay": config.policy_delay,
            "target_policy_noise": config.target_policy_noise,
            "target_noise_clip": config.target_noise_clip,
        }
    return kwargs


def run_sb3(job: Job) -> Outcome:
    import gymnasium as gym
    import stable_baselines3
    from stable_baselines3.common.callbacks import BaseCallback

    from agents.training import load_experiment

    config = load_experiment(Path(__file__).resolve().parent.parent / "configs" / "pendulum"
                             / f"{job.algo}.yaml").agent  # fmt: skip
    cls = getattr(stable_baselines3, job.algo.upper())
    model = cls("MlpPolicy", gym.make(job.env_id), seed=job.seed, device="cpu", verbose=0,
                **sb3_arguments(config))  # fmt: skip
    evaluator = Evaluator(job.env_id)

    def act(obs: Any) -> Any:
        return model.predict(obs, deterministic=True)[0]

    every = max(job.steps // EVAL_POINTS, 1)

    class EvalCallback(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % every == 0:
                evaluator(self.num_timesteps, act)
            return True

    started = time.perf_counter()
    model.learn(total_timesteps=job.steps, callback=EvalCallback())
    elapsed = time.perf_counter() - started - evaluator.seconds
    final = evaluator(model.num_timesteps, act)
    return Outcome(job, final, model.num_timesteps / elapsed, evaluator.curve)


def run_pair(algo: str, seed: int, steps: int) -> list[Outcome]:
    """Ours, then SB3's, for one algorithm and seed, in this process (one torch thread)."""
    import torch

    torch.set_num_threads(1)
    outcomes = []
    for lib, run in (("ours", run_ours), ("sb3", run_sb3)):
        outcomes.append(run(Job(lib, algo, ENV_ID, seed, steps)))
        report(outcomes[-1])
    return outcomes


def report(o: Outcome) -> None:
    j = o.job
    print(f"  {j.algo:<4} {j.lib:<4} seed {j.seed}: final {o.final:8.1f}  "
          f"{o.steps_per_second:6.1f} steps/s  curve {[round(v) for _, v in o.curve]}",
          flush=True)  # fmt: skip


def run_all(algos: Sequence[str], seeds: int, steps: int, jobs: int) -> list[Outcome]:
    """Every (algo, seed) pair, seed by seed, `jobs` at a time."""
    pairs = [(algo, seed, steps) for seed in range(seeds) for algo in algos]
    if jobs <= 1:
        return [o for pair in pairs for o in run_pair(*pair)]
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_pair, *pair) for pair in pairs]
        return [o for future in futures for o in future.result()]


def plot(outcomes: Sequence[Outcome], out: Path) -> None:
    """Evaluation return against env steps, mean and std band over seeds, one panel per algo."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlcourse.plotting import save_figure

    groups = group(outcomes)
    algos = [a for a in ALGOS if any(algo == a for _, algo, _ in groups)]
    fig, axes = plt.subplots(1, len(algos), figsize=(5.5 * len(algos), 4.2), dpi=110,
                             squeeze=False, sharey=True)  # fmt: skip
    for ax, algo in zip(axes[0], algos, strict=True):
        for lib in ("ours", "sb3"):
            if groups.get((ENV_ID, algo, lib)):
                draw_runs(ax, groups[(ENV_ID, algo, lib)], lib, algo, COLORS[algo])
        ax.axhline(TARGET, color="grey", lw=1, ls=":")
        ax.set_title(f"{algo.upper()} on {ENV_ID}")
        ax.set_xlabel("environment steps")
        ax.grid(alpha=0.3)
        ax.legend(loc="best")
    axes[0][0].set_ylabel("greedy return (10 episodes), mean ± std over seeds")
    print(f"wrote {save_figure(fig, out)}")


def options(argv: list[str] | None) -> argparse.Namespace:
    from rlcourse.benchmarking import bench_parser

    parser = bench_parser(__doc__, quick_help=f"1 seed, {QUICK_STEPS:,} steps per run")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per agent (default 5)")
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=list(ALGOS))
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--steps", type=int, help=f"env steps per run (default {STEPS:,})")
    parser.add_argument("--plot", metavar="FILE", help="draw the learning curves into a PNG")
    opts = parser.parse_args(argv)
    if opts.seeds < 1 or opts.jobs < 1 or (opts.steps is not None and opts.steps < 1):
        parser.error("--seeds, --jobs and --steps must be at least 1")
    return opts


def main(argv: list[str] | None = None) -> int:
    from rlcourse.benchmarking import bench_main, print_table

    opts = options(argv)
    seeds = 1 if opts.quick else opts.seeds
    outcomes: list[Outcome] = []

    def run(quick: bool) -> dict[str, dict[str, Any]]:
        steps = opts.steps or (QUICK_STEPS if quick else STEPS)
        print(f"{len(opts.algos) * seeds} pairs of runs of {steps:,} steps, {opts.jobs} at a "
              f"time; seeds {seeds}; {ENV_ID}", flush=True)  # fmt: skip
        outcomes.extend(run_all(opts.algos, seeds, steps, opts.jobs))
        return summarise(outcomes, {ENV_ID: TARGET})

    def show(results: dict[str, dict[str, Any]]) -> None:
        show_agents(outcomes, {ENV_ID: TARGET})
        print_table(results, RATIO_NOTE, notes=NOTES)
        if opts.plot:
            plot(outcomes, Path(opts.plot))

    # bench_main parses only --quick and --json: hand it those two, the rest is parsed above.
    common = (["--quick"] if opts.quick else []) + (["--json", opts.json] if opts.json else [])
    versions = ("torch", "stable-baselines3", "gymnasium")
    return bench_main(run, show, description=__doc__, versions=versions, argv=common)


if __name__ == "__main__":
    sys.exit(main())
