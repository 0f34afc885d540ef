"""RLlib's PPO or DQN (new API stack) from our configs: ``backend: {name: rllib, ...}``.

`train` registers the config's env with ``ray.tune.registry``, starts a local Ray cluster (or
joins `backend.address`), runs RLlib's training iterations until the `train` budget is spent,
and writes our run directory: config.yaml, TensorBoard events (``episode/return`` is RLlib's
mean over the episodes finished in an iteration; ``rllib/*`` its other numbers; ``eval/*`` our
evaluator's), ``checkpoints/rllib_step_<N>/`` (RLlib's checkpoint format, written under a
temporary name and renamed; ``checkpoints/latest`` names the newest; each holds ``module.ckpt``,
the RLModule's weights as data) and eval.json from our evaluator, run on the final checkpoint's
RLModule. `load_policy` reads such a run back from ``module.ckpt`` only: RLlib's own files are
pickles, and loading a shared run must not run code.

Observations other than a flat Box (a Discrete state index, a 2-D grid of vehicle features,
image planes...) reach RLlib's default fully connected model flattened to float32 (one-hot for
Discrete), in the env runners and in `RLlibPolicy` alike.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import ray
import torch
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.algorithms.dqn import DQNConfig
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
from ray.rllib.core.rl_module.rl_module import RLModule
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.spaces.space_utils import unsquash_action
from ray.tune.registry import register_env

from agents.backends import accepted_keywords, unknown_keys
from agents.training import EVAL_FILE, EvalHook, TrainResult, env_factory, evaluate_agent
from rlcourse.config import ExperimentConfig, RLlibBackend
from rlcourse.distributed import start_ray, stderr_without
from rlcourse.files import CorruptFileError, FileError, atomic_write_bytes, load_data, save_data
from rlcourse.runs import CHECKPOINT_DIR, KEEP_CHECKPOINTS, LATEST, Run

ALGORITHMS: dict[str, type[AlgorithmConfig]] = {"PPO": PPOConfig, "DQN": DQNConfig}
CHECKPOINT_PREFIX = "rllib_step_"
# Where an algorithm checkpoint keeps the trained RLModule (RLlib's pickles: never loaded here).
MODULE_IN_CHECKPOINT = Path("learner_group", "learner", "rl_module", "default_policy")
# The trained RLModule's weights as data (arrays), beside RLlib's files: what `load_policy` reads.
MODULE_FILE = "module.ckpt"


def backend_problems(config: ExperimentConfig) -> list[str]:
    """Training keywords and model-config keys the installed RLlib does not take."""
    backend = config.backend
    assert isinstance(backend, RLlibBackend)
    algo_config = ALGORITHMS[backend.algo]
    problems = unknown_keys(
        backend.hyperparameters,
        accepted_keywords(algo_config.training, AlgorithmConfig.training),
        "backend.hyperparameters",
        f"{backend.algo}Config.training",
    )
    problems += unknown_keys(
        backend.model,
        {f.name for f in dataclasses.fields(DefaultModelConfig)},
        "backend.model",
        "DefaultModelConfig",
    )
    return problems


# ----------------------------------------------------------------------------- envs


def is_flat(space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 1


def flat_observations(env: gym.Env) -> gym.Env:
    """`env` with its observations flattened to float32 unless they are a flat Box already."""
    if is_flat(env.observation_space):
        return env
    flat: gym.Env = gym.wrappers.FlattenObservation(env)
    return gym.wrappers.DtypeObservation(flat, np.float32)


def make_env(spec: gym.envs.registration.EnvSpec, kwargs: Mapping[str, Any], _: Any) -> gym.Env:
    """RLlib's env creator: the env from its Gymnasium spec (so that an env runner needs no
    registration of its own), observations flattened."""
    return flat_observations(gym.make(spec, **kwargs))


def register(config: ExperimentConfig) -> str:
    """Register the config's env with Ray Tune's registry under its Gymnasium id."""
    spec = gym.spec(config.env.id)
    register_env(config.env.id, functools.partial(make_env, spec, dict(config.env.kwargs)))
    return config.env.id


# ----------------------------------------------------------------------------- cluster

#: A false alarm Ray's C++ core writes (at error level, once per process) when RLlib starts its
#: env runners: their config reaches them through the object store and they may be restarted,
#: but the EnvRunnerGroup holds that config's reference for its whole life, so a restart still
#: finds it (ray-project/ray#53727 describes the case the notice guards against).
ENV_RUNNER_RESTART_NOTICE = "has constructor arguments in the object store and max_restarts > 0"


def connect(backend: RLlibBackend) -> bool:
    """Join `backend.address` or start a local cluster; False when Ray was already running
    (the caller's cluster, which is left as it is)."""
    if ray.is_initialized():
        return False
    print(start_ray(backend.address, backend.num_cpus), flush=True)
    # RLlib sets its own loggers' level when imported: its notices ("running PPO on the new API
    # stack") are kept below errors here, as start_ray keeps Ray's.
    logging.getLogger("ray.rllib").setLevel(logging.ERROR)
    return True


def algorithm_config(config: ExperimentConfig) -> AlgorithmConfig:
    backend = config.backend
    assert isinstance(backend, RLlibBackend)
    return (
        ALGORITHMS[backend.algo]()
        .environment(register(config))
        .env_runners(
            num_env_runners=backend.num_env_runners,
            num_envs_per_env_runner=backend.num_envs_per_env_runner,
        )
        .training(**backend.hyperparameters)
        .rl_module(model_config=DefaultModelConfig(**backend.model))
        .debugging(seed=config.train.seed, log_level="ERROR")  # RLlib's notices stay quiet
    )


# ----------------------------------------------------------------------------- training


def build_algorithm(config: ExperimentConfig) -> Algorithm:
    """RLlib's algorithm for `config`, its env runners started on the running cluster."""
    with stderr_without(ENV_RUNNER_RESTART_NOTICE):
        return algorithm_config(config).build_algo()


def train(
    config: ExperimentConfig,
    resume_dir: str | Path | None = None,
    progress: bool | None = None,
    on_eval: EvalHook | None = None,
) -> TrainResult:
    """Train until the `train` budget is spent, then evaluate the final checkpoint's policy.

    `progress` prints one line per training iteration (default: when stderr is a terminal);
    `on_eval` receives every periodic evaluation.
    """
    backend = config.backend
    assert isinstance(backend, RLlibBackend)
    if resume_dir is not None:
        raise ValueError(
            "--resume is not supported with backend rllib: start a new run "
            "(RLlib checkpoints are in the run directory's checkpoints/)"
        )
    show = sys.stderr.isatty() if progress is None else progress
    started = connect(backend)
    eval_env = env_factory(config)()
    algo: Algorithm | None = None
    try:
        algo = build_algorithm(config)
        with Run.create(config, progress=False) as run:
            last_eval = last_checkpoint = 0
            latest: Path | None = None
            while not run.finished:
                result = algo.train()
                _count(run, result)
                _log(run, result)
                if show:
                    print(f"{config.name}: step {run.step}, {_summary(result)}", file=sys.stderr)
                every = config.train.eval_every
                if every is not None and run.step - last_eval >= every:
                    last_eval = run.step
                    module = algo.get_module()
                    assert module is not None, "a single-agent algorithm has its default module"
                    policy = RLlibPolicy(module, eval_env.observation_space)
                    evaluation = evaluate_agent(policy, eval_env, config)
                    run.log(
                        {
                            "eval/return_mean": evaluation.mean,
                            "eval/return_ci95_low": evaluation.ci95_low,
                        }
                    )
                    if on_eval is not None:
                        on_eval(run.step, evaluation)
                if run.step - last_checkpoint >= config.train.checkpoint_every:
                    latest, last_checkpoint = save_checkpoint(algo, run), run.step
            if latest is None or last_checkpoint != run.step:
                latest = save_checkpoint(algo, run)
            policy = load_policy(latest, config)
            evaluation = evaluate_agent(policy, eval_env, config)
            evaluation.write_json(run.dir / EVAL_FILE)
    finally:
        eval_env.close()
        if algo is not None:
            algo.stop()
        if started:
            ray.shutdown()
    return TrainResult(config, run.dir, policy, evaluation)


def _count(run: Run, result: Mapping[str, Any]) -> None:
    """Carry RLlib's lifetime counters into the run (its budget is checked against them)."""
    runners = result.get("env_runners", {})
    run.step = int(result.get("num_env_steps_sampled_lifetime", run.step))
    run.episode = int(runners.get("num_episodes_lifetime", run.episode))


def _log(run: Run, result: Mapping[str, Any]) -> None:
    runners = result.get("env_runners", {})
    scalars = {
        f"rllib/{key}": runners[key]
        for key in ("episode_return_mean", "episode_len_mean", "num_episodes")
        if _finite(runners.get(key))
    }
    if _finite(runners.get("episode_return_mean")):
        scalars["episode/return"] = runners["episode_return_mean"]
        scalars["episode/length"] = runners["episode_len_mean"]
    seconds: Any = result.get("time_this_iter_s")
    sampled: Any = runners.get("num_env_steps_sampled")
    if _finite(seconds) and _finite(sampled) and seconds > 0:
        scalars["perf/steps_per_second"] = sampled / seconds
    run.log(scalars)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and bool(np.isfinite(value))


def _summary(result: Mapping[str, Any]) -> str:
    runners = result.get("env_runners", {})
    value = runners.get("episode_return_mean")
    return f"episode return {value:.3f}" if _finite(value) else "no episode finished yet"


# ----------------------------------------------------------------------------- checkpoints


def save_checkpoint(algo: Algorithm, run: Run) -> Path:
    """Write RLlib's checkpoint of `algo` to ``checkpoints/rllib_step_<N>/`` under a temporary
    name first, point ``checkpoints/latest`` at it, and keep the newest few."""
    directory = run.dir / CHECKPOINT_DIR
    final = directory / f"{CHECKPOINT_PREFIX}{run.step:010d}"
    tmp = directory / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    algo.save_to_path(str(tmp.resolve()))
    learners = algo.learner_group
    if learners is None:  # only RLlib's old API stack has none; its default is the new one
        raise RuntimeError("the RLlib algorithm has no learner group to take the weights from")
    weights = learners.get_weights([DEFAULT_MODULE_ID])[DEFAULT_MODULE_ID]
    save_data(tmp / MODULE_FILE, weights)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    atomic_write_bytes(directory / LATEST, final.name.encode())
    for old in sorted(directory.glob(f"{CHECKPOINT_PREFIX}*"))[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old)
    return final


def latest_rllib_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete RLlib checkpoint of a run directory, or None."""
    directory = run_dir / CHECKPOINT_DIR
    pointer = directory / LATEST
    if pointer.is_file() and (directory / pointer.read_text().strip()).is_dir():
        return directory / pointer.read_text().strip()
    found = sorted(directory.glob(f"{CHECKPOINT_PREFIX}*"))
    return found[-1] if found else None


# ----------------------------------------------------------------------------- acting


class RLlibPolicy:
    """An RLModule asked for one action at a time, as our evaluator and scripts expect."""

    def __init__(self, module: RLModule, observation_space: gym.Space):
        self.module = module
        self.observation_space = observation_space
        self.action_space = module.action_space

    def act(self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False):
        if is_flat(self.observation_space):
            x = np.asarray(obs, dtype=np.float32)
        else:
            x = np.asarray(gym.spaces.flatten(self.observation_space, obs), dtype=np.float32)
        with torch.no_grad():
            out = self.module.forward_inference({Columns.OBS: torch.from_numpy(x[None])})
        if Columns.ACTIONS in out:  # DQN's module picks the greedy action itself
            action = np.asarray(out[Columns.ACTIONS][0])
        else:
            if deterministic:
                dist_cls = self.module.get_inference_action_dist_cls()
            else:
                dist_cls = self.module.get_exploration_action_dist_cls()
            dist = dist_cls.from_logits(out[Columns.ACTION_DIST_INPUTS])
            if deterministic:
                dist = dist.to_deterministic()
            action = np.asarray(dist.sample()[0])
        if isinstance(self.action_space, gym.spaces.Discrete):
            return int(action)
        # RLlib normalises Box actions to [-1, 1] by default; the env wants its own bounds.
        return unsquash_action(action, self.action_space)


def load_policy(path: str | Path, config: ExperimentConfig) -> RLlibPolicy:
    """The trained policy of an rllib run directory (its newest checkpoint) or of one of its
    ``checkpoints/rllib_step_<N>`` directories.

    RLlib restores its own checkpoints by unpickling (``RLModule.from_checkpoint`` reads
    ``class_and_ctor_args.pkl`` and ``module_state.pkl``), which could run code. So the module is
    built afresh from the run's config and given the weights of the checkpoint's ``module.ckpt``,
    read as data; a checkpoint without one (written before it existed, or not by this backend)
    is refused with a `rlcourse.files.FileError` naming it."""
    path = Path(path)
    checkpoint = path if (path / "rllib_checkpoint.json").is_file() else None
    if checkpoint is None:
        checkpoint = latest_rllib_checkpoint(path)
    if checkpoint is None:
        raise FileNotFoundError(f"{path} holds no RLlib checkpoint ({CHECKPOINT_PREFIX}<N>/)")
    weights_file = checkpoint / MODULE_FILE
    if not weights_file.is_file():
        raise FileError(
            f"{weights_file}: no such file: this RLlib checkpoint has no module weights saved as "
            "data, and RLlib's own checkpoint files are pickles, which could run code, so they "
            "are not loaded (train the run again with this version)"
        )
    weights = load_data(weights_file)
    env = gym.make(config.env.id, **config.env.kwargs)
    module = algorithm_config(config).get_rl_module_spec(env=flat_observations(env)).build()
    if not isinstance(module, TorchRLModule):  # torch is RLlib's default framework
        raise TypeError(f"expected a torch RLModule, got a {type(module).__name__}")
    observation_space = env.observation_space
    env.close()
    stored = weights if isinstance(weights, Mapping) else {}
    missing = sorted(set(module.state_dict()) - set(stored))
    try:
        if missing:  # set_state itself would leave them at their fresh values
            raise ValueError(f"no tensor {missing[0]!r}")
        module.set_state(weights)
    except (RuntimeError, ValueError, TypeError, AttributeError) as exc:
        raise CorruptFileError(
            f"{weights_file}: the weights do not fit the run's RLModule: {exc}"
        ) from None
    module.eval()
    return RLlibPolicy(module, observation_space)
