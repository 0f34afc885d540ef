#!/usr/bin/env python
"""Our DQN and Rainbow next to Stable-Baselines3's DQN, side by side in one run.

Same network (256x256 MLP), same budget, same hyper-parameters and gradient steps per env step
(taken from configs/<env>/dqn.yaml and mapped onto SB3's arguments), several seeds each, one
torch thread for everyone. Prints the final and best evaluation return (mean ± std over seeds,
10 greedy episodes each) and env steps per second of learning (evaluation time excluded), and
draws the learning curves.

    python scripts/bench_dqn.py                      # full: 5 seeds, CartPole 50k, Acrobot 100k
    python scripts/bench_dqn.py --quick              # 1 seed, 10k steps, CartPole only
    python scripts/bench_dqn.py --json out.json --png curves.png
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rlcourse.benchmarking import bench_parser, write_json
from rlcourse.evaluation import evaluate

ROOT = Path(__file__).resolve().parent.parent
CASES = {  # env id -> (config folder, budget in env steps)
    "CartPole-v1": ("cartpole", 50_000),
    "Acrobot-v1": ("acrobot", 100_000),
}
AGENTS = ("dqn", "rainbow", "sb3_dqn")
TARGET_RETURN = {"CartPole-v1": 475.0}
EVAL_EPISODES = 10
EVAL_SEED = 1_000_000


@dataclass
class Outcome:
    final: float
    best: float
    steps_per_second: float
    curve: list[tuple[int, float]] = field(default_factory=list)


class Stopwatch:
    """Wall time of evaluations, to subtract from the learning time."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def evaluate(self, act, env_id: str) -> float:
        import gymnasium as gym

        started = time.perf_counter()
        env = gym.make(env_id)
        mean = evaluate(act, env, EVAL_EPISODES, seed=EVAL_SEED).mean
        env.close()
        self.seconds += time.perf_counter() - started
        return mean


def run_ours(config_path: Path, seed: int, steps: int, eval_every: int, runs_dir: str) -> Outcome:
    from agents.training import build_agent, env_factory, load_experiment
    from rlcourse.runs import Run

    config = load_experiment(
        config_path,
        [
            f"train.seed={seed}",
            f"train.steps={steps}",
            f"train.runs_dir={runs_dir}",
            f"train.checkpoint_every={steps}",
            f"train.eval_every={eval_every}",
        ],
    )
    make_env = env_factory(config)
    probe = make_env()
    agent = build_agent(config, probe)
    probe.close()
    watch, curve = Stopwatch(), []

    def act(obs, info):
        return agent.act(obs, info, deterministic=True)

    with Run.create(config, progress=False) as run:
        run.evaluate_fn = lambda: {
            "return": _record(curve, run.step, watch.evaluate(act, config.env.id))
        }
        started = time.perf_counter()
        agent.learn(make_env, run)
        elapsed = time.perf_counter() - started
    final = _record(curve, steps, watch.evaluate(act, config.env.id))
    learn_seconds = elapsed - watch.seconds  # the final evaluation ran after the clock stopped
    return Outcome(final, max(v for _, v in curve), steps / learn_seconds, curve)


def _record(curve: list[tuple[int, float]], step: int, value: float) -> float:
    """Append (step, value) to a learning curve; a later value at the same step replaces it."""
    if curve and curve[-1][0] == step:
        curve.pop()
    curve.append((step, value))
    return value


def run_sb3(config_path: Path, seed: int, steps: int, eval_every: int) -> Outcome:
    import gymnasium as gym
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    from agents.training import load_experiment
    from rlcourse.schedules import Linear

    cfg = load_experiment(config_path).agent
    eps = cfg.epsilon
    if not isinstance(eps, Linear):
        raise ValueError("the benchmark maps only linear epsilon schedules onto SB3")
    watch, curve = Stopwatch(), []
    env_id = load_experiment(config_path).env.id

    class EvalCallback(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % eval_every == 0:
                model = self.model

                def act(obs, info):
                    return int(model.predict(obs, deterministic=True)[0])

                curve.append((self.num_timesteps, watch.evaluate(act, env_id)))
            return True

    model = DQN(
        "MlpPolicy",
        gym.make(env_id),
        learning_rate=cfg.lr,
        buffer_size=cfg.buffer_size,
        learning_starts=cfg.learning_starts,
        batch_size=cfg.batch_size,
        tau=1.0,
        gamma=cfg.gamma,
        train_freq=cfg.train_freq,
        gradient_steps=cfg.gradient_steps,
        target_update_interval=cfg.target_update_interval,
        exploration_fraction=eps.steps / steps,
        exploration_initial_eps=eps.start,
        exploration_final_eps=eps.end,
        max_grad_norm=cfg.max_grad_norm,
        policy_kwargs={"net_arch": list(cfg.network.mlp.hidden)},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    started = time.perf_counter()
    model.learn(total_timesteps=steps, callback=EvalCallback())
    elapsed = time.perf_counter() - started

    def act(obs, info):
        return int(model.predict(obs, deterministic=True)[0])

    final = _record(curve, steps, watch.evaluate(act, env_id))
    return Outcome(final, max(v for _, v in curve), steps / (elapsed - watch.seconds), curve)


def run_all(env_ids, seeds, budget_scale, quick) -> dict:
    results: dict[str, dict[str, list[Outcome]]] = {}
    with tempfile.TemporaryDirectory() as runs_dir:
        for env_id in env_ids:
            folder, budget = CASES[env_id]
            steps = 10_000 if quick else int(budget * budget_scale)
            eval_every = max(steps // 10, 1)
            results[env_id] = {a: [] for a in AGENTS}
            for seed in range(seeds):
                for agent in AGENTS:
                    path = (
                        ROOT / "configs" / folder / f"{'dqn' if agent == 'sb3_dqn' else agent}.yaml"
                    )
                    if agent == "sb3_dqn":
                        outcome = run_sb3(path, seed, steps, eval_every)
                    else:
                        outcome = run_ours(path, seed, steps, eval_every, runs_dir)
                    results[env_id][agent].append(outcome)
                    print(
                        f"  {env_id:<12} {agent:<8} seed {seed}: final {outcome.final:8.1f}  "
                        f"best {outcome.best:8.1f}  {outcome.steps_per_second:7.0f} steps/s",
                        flush=True,
                    )
    return results


def summarise(results) -> dict:
    table = {}
    for env_id, by_agent in results.items():
        sb3 = by_agent["sb3_dqn"]
        sb3_sps = float(np.mean([o.steps_per_second for o in sb3]))
        for agent in ("dqn", "rainbow"):
            ours = by_agent[agent]
            sps = float(np.mean([o.steps_per_second for o in ours]))
            table[f"{env_id}/{agent}/steps_per_second"] = {
                "ours": sps,
                "sb3": sb3_sps,
                "ratio": sps / sb3_sps,
                "unit": "env steps/s",
            }
            final = float(np.mean([o.final for o in ours]))
            sb3_final = float(np.mean([o.final for o in sb3]))
            table[f"{env_id}/{agent}/final_return"] = {
                "ours": final,
                "sb3": sb3_final,
                "ratio": _return_ratio(final, sb3_final),
                "unit": "return",
            }
    return table


def _return_ratio(ours: float, peer: float) -> float:
    """Bigger is better for us, also for negative returns (Acrobot)."""
    if peer > 0 and ours > 0:
        return ours / peer
    return peer / ours if ours < 0 and peer < 0 else float("nan")


def print_table(results) -> None:
    print(
        f"\n{'env':<12} {'agent':<8} {'final return':>18} {'best return':>18} "
        f"{'seeds >= target':>15} {'steps/s':>9} {'vs SB3':>7}"
    )
    for env_id, by_agent in results.items():
        sb3_sps = np.mean([o.steps_per_second for o in by_agent["sb3_dqn"]])
        target = TARGET_RETURN.get(env_id)
        for agent, outs in by_agent.items():
            finals, bests = [o.final for o in outs], [o.best for o in outs]
            sps = np.mean([o.steps_per_second for o in outs])
            hits = f"{sum(b >= target for b in bests)}/{len(outs)}" if target else "-"
            print(
                f"{env_id:<12} {agent:<8} {np.mean(finals):8.1f} ± {np.std(finals):7.1f} "
                f"{np.mean(bests):8.1f} ± {np.std(bests):7.1f} {hits:>15} {sps:9.0f} "
                f"{sps / sb3_sps:6.2f}x"
            )


def plot(results, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlcourse.plotting import save_figure

    fig, axes = plt.subplots(
        1, len(results), figsize=(6 * len(results), 4.5), dpi=110, squeeze=False
    )
    for ax, (env_id, by_agent) in zip(axes[0], results.items(), strict=True):
        for agent, outs in by_agent.items():
            steps = np.array([s for s, _ in outs[0].curve])
            values = np.array([[v for _, v in o.curve] for o in outs])
            mean, std = values.mean(0), values.std(0)
            (line,) = ax.plot(steps, mean, lw=2, label=f"{agent} (n={len(outs)})")
            ax.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        ax.set_title(f"{env_id}: greedy evaluation return (mean ± std over seeds)")
        ax.set_xlabel("environment steps")
        ax.set_ylabel(f"return ({EVAL_EPISODES} episodes)")
        ax.grid(alpha=0.3)
        ax.legend()
    print(f"wrote {save_figure(fig, out)}")


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, quick_help="1 seed, 10k steps, CartPole only")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--envs", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--png", metavar="FILE", help="draw the learning curves into FILE")
    opts = parser.parse_args(argv)
    # Imported once the arguments are read, so that --help answers at once.
    import torch

    import envs  # noqa: F401  (registers the rlcourse/* env ids)

    torch.set_num_threads(1)
    env_ids = ["CartPole-v1"] if opts.quick else opts.envs
    seeds = 1 if opts.quick else opts.seeds
    print(f"torch {torch.__version__}, 1 thread; seeds {seeds}; envs {env_ids}", flush=True)
    results = run_all(env_ids, seeds, 1.0, opts.quick)
    print_table(results)
    if opts.png:
        plot(results, Path(opts.png))
    if opts.json:
        write_json(summarise(results), opts.json)
        print(f"wrote {opts.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
