#!/usr/bin/env python
"""Scaling PPO with Ray: RLlib's PPO with 1 and 2 env runners next to our vectorised PPO.

All three train the same env with the same network (two tanh layers of 64), the same batch of
env steps per update and one pass over it (minibatches of 128), one torch thread each, and
step 8 envs in all (RLlib: 8 per runner with 1 runner, 4 per runner with 2). The
env is our highway driving env when it is registered, else the 4x4 gridworld (``--env``
picks). RLlib runs through the rllib backend (`agents.backends.rllib`) on a local Ray cluster
of 2 CPUs; its first iteration (actor start-up) is not timed. Our PPO steps its
``num_envs`` envs in one process (Gymnasium's SyncVectorEnv).

Cases (bigger ratios are better for us):
- ``<env>/ppo_steps_per_second``: env steps per second of training (sampling and updates);
  the peers are RLlib with 1 and with 2 env runners; ratio: ours / the faster of the two.
- ``<env>/rllib_scaling_efficiency``: RLlib's steps per second with 2 runners over twice its
  steps per second with 1 (1.0 is linear scaling); ratio: the efficiency itself.

    python scripts/bench_scale.py                    # 5 timed iterations of 4,000 steps
    python scripts/bench_scale.py --quick            # 2 timed iterations of 1,000 steps
    python scripts/bench_scale.py --env rlcourse/SuttonBarto4x4-v0 --json scale.json
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlcourse.benchmarking import Results, bench_parser, print_table, version_line, write_json

if TYPE_CHECKING:
    from rlcourse.config import ExperimentConfig

DRIVING, GRIDWORLD = "rlcourse/HighwayFast-v0", "rlcourse/SuttonBarto4x4-v0"
HIDDEN = [64, 64]
MINIBATCH = 128
ENVS = 8  # envs stepped in all, by our PPO's vector env or by RLlib's runners together
RUNNERS = (1, 2)
CLUSTER_CPUS = 2
RATIO_NOTE = (
    "ratio: ours / the faster RLlib setting (steps per second); scaling efficiency: RLlib's "
    "2-runner rate / (2 x its 1-runner rate), 1.0 is linear."
)


def settings(quick: bool) -> tuple[int, int]:
    """(env steps per update, timed updates)."""
    return (1_000, 2) if quick else (4_000, 5)


def experiment(env_id: str, section: str, body: dict[str, Any], steps: int) -> ExperimentConfig:
    from agents import agent_schemas
    from rlcourse.config import parse_config

    data = {"env": {"id": env_id}, "train": {"steps": steps, "checkpoint_every": 10**9}}
    return parse_config({**data, section: body}, agent_schemas(), "bench_scale")


def rllib_steps_per_second(env_id: str, runners: int, batch: int, updates: int) -> float:
    from agents.backends import backend_module

    rllib = backend_module("rllib")
    backend = {
        "name": "rllib",
        "algo": "PPO",
        "num_env_runners": runners,
        "num_envs_per_env_runner": ENVS // runners,
        "model": {"fcnet_hiddens": HIDDEN, "fcnet_activation": "tanh"},
        "hyperparameters": {
            "train_batch_size_per_learner": batch,
            "minibatch_size": MINIBATCH,
            "num_epochs": 1,
        },
    }
    algo = rllib.build_algorithm(experiment(env_id, "backend", backend, batch))
    try:
        algo.train()  # actor start-up and first sampling: not timed
        started, first = time.perf_counter(), _sampled(algo)
        for _ in range(updates):
            algo.train()
        return (_sampled(algo) - first) / (time.perf_counter() - started)
    finally:
        algo.stop()


def _sampled(algo: Any) -> int:
    from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME

    return int(algo.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME)))


def ours_steps_per_second(env_id: str, batch: int, updates: int) -> float:
    from agents.training import build_agent, env_factory
    from rlcourse.runs import Run

    agent_section = {
        "name": "ppo",
        "network": {"mlp": {"hidden": HIDDEN, "activation": "tanh"}},
        "num_envs": ENVS,
        "n_steps": batch // ENVS,
        "batch_size": MINIBATCH,
        "n_epochs": 1,
    }
    config = experiment(env_id, "agent", agent_section, batch * updates)
    probe = env_factory(config)()
    agent = build_agent(config, probe)
    probe.close()
    with tempfile.TemporaryDirectory() as tmp, Run(config, Path(tmp), progress=False) as run:
        started = time.perf_counter()
        agent.learn(env_factory(config), run)
        return run.step / (time.perf_counter() - started)


def measure(env_id: str, quick: bool) -> Results:
    import ray

    from agents import REGISTRY

    batch, updates = settings(quick)
    rates: dict[str, float] = {}
    ray.init(num_cpus=CLUSTER_CPUS, include_dashboard=False)
    try:
        for runners in RUNNERS:
            rate = rllib_steps_per_second(env_id, runners, batch, updates)
            rates[f"rllib_{runners}_runner{'s' if runners > 1 else ''}"] = rate
            print(f"rllib, {runners} env runner(s): {rate:,.0f} steps/s", flush=True)
    finally:
        ray.shutdown()
    one, two = rates["rllib_1_runner"], rates["rllib_2_runners"]
    name = env_id.split("/")[-1]
    results: Results = {}
    if "ppo" in REGISTRY:
        ours = ours_steps_per_second(env_id, batch, updates)
        print(f"ours, {ENVS} envs in one process: {ours:,.0f} steps/s", flush=True)
        results[f"{name}/ppo_steps_per_second"] = {
            "ours": ours, **rates, "ratio": ours / max(rates.values()), "unit": "steps/s",
        }  # fmt: skip
    efficiency = two / (2 * one)
    results[f"{name}/rllib_scaling_efficiency"] = {
        "ours": efficiency, "rllib_1_runner": one, "rllib_2_runners": two,
        "ratio": efficiency, "unit": "fraction of linear",
    }  # fmt: skip
    return results


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "2 timed iterations of 1,000 steps (about two minutes)")
    parser.add_argument(
        "--env", help=f"env id (default {DRIVING}, or {GRIDWORLD} where that is not registered)"
    )
    opts = parser.parse_args(argv)
    # Imported once the arguments are read, so that --help answers at once.
    import gymnasium as gym
    import torch

    import envs  # noqa: F401  (registers the rlcourse/* env ids)

    if opts.env is None:
        opts.env = DRIVING if DRIVING in gym.registry else GRIDWORLD
    torch.set_num_threads(1)
    print(version_line(["ray", "torch", "gymnasium"]))
    batch, updates = settings(opts.quick)
    print(f"{opts.env}: {updates} timed updates of {batch:,} env steps, {CLUSTER_CPUS} CPUs")
    results = measure(opts.env, opts.quick)
    print_table(results, RATIO_NOTE, number=lambda v, unit: f"{v:,.3g}")
    if opts.json:
        write_json(results, opts.json)
        print(f"wrote {opts.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
