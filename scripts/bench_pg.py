#!/usr/bin/env python
"""Our PPO and A2C next to Stable-Baselines3's PPO and A2C, side by side in one run.

Same networks (separate 64x64 tanh actor and critic MLPs), same budgets and the same
hyper-parameters, read from configs/<env>/<algo>.yaml and mapped onto SB3's arguments
(observation/reward normalisation through SB3's VecNormalize). One torch thread per run.
Every run is evaluated greedily (10 episodes) every tenth of its budget and at the end.

Cases (bigger ratios are better for us):
- ``<env>/<algo>/steps_per_second``: env steps per second of learning, evaluation excluded.
- ``<env>/<algo>/final_return``: final greedy return, mean over seeds (ratio: ours / SB3's,
  SB3's / ours for negative returns); ``seeds_at_target`` counts our seeds reaching the
  target (CartPole 475, Pendulum -250), ``sb3_seeds_at_target`` SB3's.

Runs are independent (lib, algo, env, seed) jobs; ``--jobs N`` runs them in N worker
processes, ours and SB3's interleaved so that both see the same load.

    python scripts/bench_pg.py                       # 5 seeds, CartPole 100k, Pendulum 300k
    python scripts/bench_pg.py --quick               # 1 seed, 10k steps of CartPole
    python scripts/bench_pg.py --jobs 4 --json pg.json --plot pg_curves.png
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CASES = {  # env id -> (config folder, budget in env steps, target return)
    "CartPole-v1": ("cartpole", 100_000, 475.0),
    "Pendulum-v1": ("pendulum", 300_000, -250.0),
}
TARGETS = {env_id: target for env_id, (_, _, target) in CASES.items()}
ALGOS = ("ppo", "a2c")
COLORS = {"ppo": "C0", "a2c": "C1"}  # ours solid, SB3 dashed
LIBS = ("ours", "sb3")
QUICK_STEPS = 10_000
EVAL_EPISODES = 10
EVAL_SEED = 1_000_000
EVAL_POINTS = 10
RATIO_NOTE = (
    "ratio: ours / sb3 (steps per second; returns, inverted when negative): above 1 is "
    "better for us. Targets: steps/s ratio >= 1.5; PPO >= 475 on CartPole on 4 of 5 seeds "
    "and >= -250 on Pendulum; A2C's return ratio >= 1."
)


@dataclass(frozen=True)
class Job:
    lib: str
    algo: str
    env_id: str
    seed: int
    steps: int


@dataclass
class Outcome:
    job: Job
    final: float
    steps_per_second: float
    curve: list[tuple[int, float]] = field(default_factory=list)


class Evaluator:
    """Greedy evaluation on a fresh env; keeps the curve and the time spent evaluating."""

    def __init__(self, env_id: str):
        import gymnasium as gym

        self.env = gym.make(env_id)
        self.seconds = 0.0
        self.curve: list[tuple[int, float]] = []

    def __call__(self, step: int, act: Callable[[Any], Any]) -> float:
        from rlcourse.evaluation import evaluate

        started = time.perf_counter()
        mean = evaluate(lambda obs, info: act(obs), self.env, EVAL_EPISODES, seed=EVAL_SEED).mean
        if self.curve and self.curve[-1][0] == step:
            self.curve.pop()
        self.curve.append((step, mean))
        self.seconds += time.perf_counter() - started
        return mean


def config_path(algo: str, env_id: str) -> Path:
    return ROOT / "configs" / CASES[env_id][0] / f"{algo}.yaml"


def run_job(job: Job) -> Outcome:
    """One training run in this process (one torch thread)."""
    import torch

    torch.set_num_threads(1)
    return (run_ours if job.lib == "ours" else run_sb3)(job)


def run_ours(job: Job) -> Outcome:
    import torch.utils.tensorboard  # noqa: F401  (a one-off import: kept off the clock)

    from agents.training import build_agent, env_factory, load_experiment
    from rlcourse.runs import Run

    every = max(job.steps // EVAL_POINTS, 1)
    with tempfile.TemporaryDirectory() as runs_dir:
        config = load_experiment(
            config_path(job.algo, job.env_id),
            [f"train.seed={job.seed}", f"train.steps={job.steps}", f"train.runs_dir={runs_dir}",
             f"train.checkpoint_every={job.steps}", f"train.eval_every={every}"],
        )  # fmt: skip
        make_env = env_factory(config)
        probe = make_env()
        agent = build_agent(config, probe)
        probe.close()
        evaluator = Evaluator(job.env_id)

        def act(obs: Any) -> Any:
            return agent.act(obs, deterministic=True)

        with Run.create(config, progress=False) as run:
            run.evaluate_fn = lambda: {"return": evaluator(run.step, act)}
            started = time.perf_counter()
            agent.learn(make_env, run)
            elapsed = time.perf_counter() - started - evaluator.seconds
            final = evaluator(run.step, act)
    return Outcome(job, final, run.step / elapsed, evaluator.curve)


def sb3_arguments(config: Any) -> dict[str, Any]:
    """SB3 keyword arguments equal to one of our PPO or A2C config sections."""
    from torch import nn

    if config.shared_encoder or config.recurrent is not None or config.squash:
        raise ValueError("the benchmark maps only separate feed-forward unsquashed policies")
    if config.network.mlp.activation not in ("tanh", "relu"):
        raise ValueError(f"no SB3 activation for {config.network.mlp.activation!r}")
    lr = config.lr
    hidden = list(config.network.mlp.hidden)
    kwargs: dict[str, Any] = {
        "learning_rate": (lambda progress: lr * progress) if config.lr_schedule == "linear" else lr,
        "n_steps": config.n_steps,
        "gamma": config.gamma,
        "gae_lambda": config.gae_lambda,
        "ent_coef": config.ent_coef,
        "vf_coef": config.vf_coef,
        "max_grad_norm": config.max_grad_norm if config.max_grad_norm is not None else 1e9,
        "normalize_advantage": config.normalize_advantage,
        "policy_kwargs": {
            "net_arch": {"pi": hidden, "vf": hidden},
            "activation_fn": nn.Tanh if config.network.mlp.activation == "tanh" else nn.ReLU,
            "ortho_init": config.ortho_init,
            "log_std_init": config.log_std_init,
        },
    }
    if config.name == "ppo":
        kwargs |= {
            "batch_size": config.batch_size,
            "n_epochs": config.n_epochs,
            "clip_range": config.clip_range,
            "clip_range_vf": config.clip_range_vf,
            "target_kl": config.target_kl,
        }
        kwargs["policy_kwargs"]["optimizer_kwargs"] = {"eps": config.optimizer_eps}
    else:
        kwargs |= {
            "use_rms_prop": config.optimizer == "rmsprop",
            "rms_prop_eps": config.optimizer_eps,
        }
        if config.optimizer == "adam":
            kwargs["policy_kwargs"]["optimizer_kwargs"] = {"eps": config.optimizer_eps}
    return kwargs


def run_sb3(job: Job) -> Outcome:
    from stable_baselines3 import A2C, PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    from agents.training import load_experiment

    config = load_experiment(config_path(job.algo, job.env_id)).agent
    venv = make_vec_env(job.env_id, n_envs=config.num_envs, seed=job.seed)
    normalizer = None
    if config.normalize_obs or config.normalize_reward:
        venv = normalizer = VecNormalize(
            venv, norm_obs=config.normalize_obs, norm_reward=config.normalize_reward,
            clip_obs=config.clip_obs, clip_reward=config.clip_reward, gamma=config.gamma,
        )  # fmt: skip
    cls = PPO if job.algo == "ppo" else A2C
    model = cls("MlpPolicy", venv, seed=job.seed, device="cpu", verbose=0, **sb3_arguments(config))
    evaluator = Evaluator(job.env_id)

    def act(obs: Any) -> Any:
        if normalizer is not None and normalizer.norm_obs:
            obs = normalizer.normalize_obs(obs)
        action = model.predict(obs, deterministic=True)[0]
        return int(action) if np.ndim(action) == 0 else action

    every = max(job.steps // EVAL_POINTS, 1)

    class EvalCallback(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next_eval = every

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                self.next_eval += every
                evaluator(self.num_timesteps, act)
            return True

    started = time.perf_counter()
    model.learn(total_timesteps=job.steps, callback=EvalCallback())
    elapsed = time.perf_counter() - started - evaluator.seconds
    final = evaluator(model.num_timesteps, act)
    return Outcome(job, final, model.num_timesteps / elapsed, evaluator.curve)


# ----------------------------------------------------------------------------- running


def plan(env_ids: Sequence[str], algos: Sequence[str], seeds: int, quick: bool) -> list[Job]:
    """Every (lib, algo, env, seed) run, ours and SB3's alternating."""
    return [
        Job(lib, algo, env_id, seed, QUICK_STEPS if quick else CASES[env_id][1])
        for env_id in env_ids
        for seed in range(seeds)
        for algo in algos
        for lib in LIBS
    ]


def run_jobs(jobs: Sequence[Job], workers: int) -> list[Outcome]:
    def report(o: Outcome) -> None:
        j = o.job
        print(f"  {j.env_id:<12} {j.algo:<4} {j.lib:<4} seed {j.seed}: final {o.final:8.1f}  "
              f"{o.steps_per_second:7.0f} steps/s", flush=True)  # fmt: skip

    if workers <= 1:
        outcomes = []
        for job in jobs:
            outcomes.append(run_job(job))
            report(outcomes[-1])
        return outcomes
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(run_job, job) for job in jobs]
        outcomes = []
        for future in futures:
            outcomes.append(future.result())
            report(outcomes[-1])
    return outcomes


def group(outcomes: Sequence[Outcome]) -> dict[tuple[str, str, str], list[Outcome]]:
    groups: dict[tuple[str, str, str], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.job.env_id, o.job.algo, o.job.lib), []).append(o)
    return groups


def _return_ratio(ours: float, peer: float) -> float:
    """Bigger is better for us, also for negative returns (Pendulum)."""
    if ours > 0 and peer > 0:
        return ours / peer
    return peer / ours if ours < 0 and peer < 0 else float("nan")


def summarise(
    outcomes: Sequence[Outcome], targets: Mapping[str, float]
) -> dict[str, dict[str, Any]]:
    """The JSON cases: steps/s and final return, ours against SB3's, per (env, algo); a final
    return reaches ``targets[env_id]``."""
    groups = group(outcomes)
    results: dict[str, dict[str, Any]] = {}
    for (env_id, algo, lib), ours in groups.items():
        if lib != "ours" or (env_id, algo, "sb3") not in groups:
            continue
        sb3 = groups[(env_id, algo, "sb3")]
        target = targets[env_id]
        sps, sb3_sps = (float(np.mean([o.steps_per_second for o in g])) for g in (ours, sb3))
        results[f"{env_id}/{algo}/steps_per_second"] = {
            "ours": sps, "sb3": sb3_sps, "ratio": sps / sb3_sps, "unit": "env steps/s",
        }  # fmt: skip
        final, sb3_final = (float(np.mean([o.final for o in g])) for g in (ours, sb3))
        results[f"{env_id}/{algo}/final_return"] = {
            "ours": final, "sb3": sb3_final, "ratio": _return_ratio(final, sb3_final),
            "unit": "return", "ours_std": float(np.std([o.final for o in ours])),
            "sb3_std": float(np.std([o.final for o in sb3])),
            "seeds_at_target": sum(o.final >= target for o in ours),
            "sb3_seeds_at_target": sum(o.final >= target for o in sb3), "seeds": len(ours),
        }  # fmt: skip
    return results


NOTES = ("ours_std", "sb3_std", "seeds_at_target", "sb3_seeds_at_target", "seeds")


def show_agents(outcomes: Sequence[Outcome], targets: Mapping[str, float]) -> None:
    """One row per agent: final return mean +- std, seeds at target, steps/s and the ratio."""
    from rlcourse.benchmarking import print_rows

    groups = group(outcomes)
    rows = [("env", "algo", "lib", "final return", "seeds >= target", "steps/s", "vs SB3")]
    for (env_id, algo, lib), runs in groups.items():
        finals = [o.final for o in runs]
        sps = float(np.mean([o.steps_per_second for o in runs]))
        peer = groups.get((env_id, algo, "sb3"), runs)
        peer_sps = float(np.mean([o.steps_per_second for o in peer]))
        target = targets[env_id]
        rows.append((
            env_id, algo, lib, f"{np.mean(finals):8.1f} ± {np.std(finals):6.1f}",
            f"{sum(f >= target for f in finals)}/{len(finals)} (>= {target:g})",
            f"{sps:,.1f}", f"{sps / peer_sps:.2f}x",
        ))  # fmt: skip
    print()
    print_rows(rows)
    print()


def draw_runs(ax: Any, runs: Sequence[Outcome], lib: str, algo: str, color: str) -> None:
    """The runs' evaluation curves as their mean (ours solid, SB3 dashed) and a std band."""
    from rlcourse.plotting import Curve, aggregate

    curves = [
        Curve(Path(), f"{lib} {algo}", np.array([s for s, _ in o.curve], float),
              np.array([v for _, v in o.curve], float))
        for o in runs
    ]  # fmt: skip
    grid, mean, low, high = aggregate(curves, "std", points=50)
    style = "-" if lib == "ours" else "--"
    (line,) = ax.plot(grid, mean, style, color=color, lw=2, label=f"{lib} {algo} (n={len(runs)})")
    if len(runs) > 1:
        ax.fill_between(grid, low, high, color=line.get_color(), alpha=0.15, lw=0)


def plot(outcomes: Sequence[Outcome], out: Path) -> None:
    """Evaluation return against env steps, mean and std band over seeds, one panel per env."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlcourse.plotting import save_figure

    groups = group(outcomes)
    env_ids = sorted({env_id for env_id, _, _ in groups})
    fig, axes = plt.subplots(1, len(env_ids), figsize=(6.5 * len(env_ids), 4.5), dpi=110,
                             squeeze=False)  # fmt: skip
    for ax, env_id in zip(axes[0], env_ids, strict=True):
        for (env, algo, lib), runs in sorted(groups.items()):
            if env == env_id:
                draw_runs(ax, runs, lib, algo, COLORS[algo])
        ax.axhline(CASES[env_id][2], color="grey", lw=1, ls=":")
        ax.set_title(f"{env_id}: greedy evaluation return, mean ± std over seeds")
        ax.set_xlabel("environment steps")
        ax.set_ylabel(f"return ({EVAL_EPISODES} episodes)")
        ax.grid(alpha=0.3)
        ax.legend()
    print(f"wrote {save_figure(fig, out)}")


def options(argv: list[str] | None) -> argparse.Namespace:
    from rlcourse.benchmarking import bench_parser

    parser = bench_parser(__doc__, quick_help=f"1 seed, {QUICK_STEPS:,} steps, CartPole only")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per agent (default 5)")
    parser.add_argument("--envs", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=list(ALGOS))
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--plot", metavar="FILE", help="draw the learning curves into a PNG")
    opts = parser.parse_args(argv)
    if opts.seeds < 1 or opts.jobs < 1:
        parser.error("--seeds and --jobs must be at least 1")
    return opts


def main(argv: list[str] | None = None) -> int:
    from rlcourse.benchmarking import bench_main, print_table

    opts = options(argv)
    env_ids = ["CartPole-v1"] if opts.quick else opts.envs
    seeds = 1 if opts.quick else opts.seeds
    outcomes: list[Outcome] = []

    def run(quick: bool) -> dict[str, dict[str, Any]]:
        jobs = plan(env_ids, opts.algos, seeds, quick)
        print(f"{len(jobs)} runs, {opts.jobs} at a time; seeds {seeds}; envs {env_ids}",
              flush=True)  # fmt: skip
        outcomes.extend(run_jobs(jobs, opts.jobs))
        return summarise(outcomes, TARGETS)

    def show(results: dict[str, dict[str, Any]]) -> None:
        show_agents(outcomes, TARGETS)
        print_table(results, RATIO_NOTE, notes=NOTES)
        if opts.plot:
            plot(outcomes, Path(opts.plot))

    # bench_main parses only --quick and --json: hand it those two, the rest is parsed above.
    common = (["--quick"] if opts.quick else []) + (["--json", opts.json] if opts.json else [])
    versions = ("torch", "stable-baselines3", "gymnasium")
    return bench_main(run, show, description=__doc__, versions=versions, argv=common)


if __name__ == "__main__":
    sys.exit(main())
