"""Train, resume and reload agents from configs: what `scripts/train.py` and friends call.

The env ids a config names must be registered before a config is loaded (``import envs``).
The config's backend decides who trains: our agents and the sb3 backend's `SB3Agent` go through
the same `Run`; the rllib backend runs RLlib's own loop (`agents.backends.rllib`). Every
backend writes the same run directory layout and is loaded back by `load_agent`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym

from agents import REGISTRY, agent_schemas
from agents.backends import backend_module, check_backend
from agents.base import Agent, EnvFactory
from rlcourse.config import (
    ConfigError,
    ExperimentConfig,
    apply_overrides,
    load_config,
    parse_config,
    read_config_file,
)
from rlcourse.evaluation import EvalResult, Policy, evaluate
from rlcourse.files import atomic_write_text, load_data
from rlcourse.runs import Run, latest_checkpoint, load_latest_checkpoint, load_state

AGENT_FILE = "agent.ckpt"
EVAL_FILE = "eval.json"
BEST_FILE, BEST_EVAL_FILE = "best.ckpt", "best.json"  # the best periodic evaluation's agent
EVAL_SEED = 1_000_000  # evaluation episodes never share seeds with training episodes

EvalHook = Callable[[int, EvalResult], None]  # (env step, periodic evaluation) -> None


@dataclass
class TrainResult:
    config: ExperimentConfig
    run_dir: Path
    agent: Any
    evaluation: EvalResult


def load_experiment(path: str | Path, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Load and validate a config file against the registered agents, and build its env once."""
    config = load_config(path, overrides, agent_schemas())
    check_env_builds(config, str(path)).close()
    check_backend(config, str(path))
    return config


def env_factory(config: ExperimentConfig, **extra: Any) -> EnvFactory:
    """A function that makes a fresh env as the config describes (extra kwargs win)."""

    def make() -> gym.Env:
        return gym.make(config.env.id, **{**config.env.kwargs, **extra})

    return make


def build_agent(config: ExperimentConfig, env: gym.Env) -> Agent:
    """The agent the config names: ours (`agent` section) or the sb3 backend's `SB3Agent`."""
    section: Any = config.agent
    if config.backend.name == "sb3":
        cls, section = backend_module("sb3").SB3Agent, config.backend
    else:
        assert section is not None, "validation requires an agent for the rlcourse backend"
        cls = REGISTRY[section.name]
    agent: Agent = cls(section, env.observation_space, env.action_space, seed=config.train.seed)
    return agent


def check_env_builds(config: ExperimentConfig, source: str) -> gym.Env:
    """Make the env once so bad env kwargs (a missing map file...) fail before training."""
    try:
        return env_factory(config)()
    except Exception as exc:  # any constructor error is a config error here
        raise ConfigError(source, [f"env: {config.env.id} could not be built: {exc}"]) from exc


def train(
    config: ExperimentConfig,
    resume_dir: str | Path | None = None,
    progress: bool | None = None,
    on_eval: EvalHook | None = None,
    announce: bool = True,
) -> TrainResult:
    """Train (or resume) one run; save the agent and write eval.json into the run directory.

    `on_eval` receives every periodic evaluation (every `train.eval_every` env steps);
    `announce` prints the run directory (or where a resume starts) when training starts.
    """
    probe = check_env_builds(config, config.name)  # cheap, and catches hand-made configs
    check_backend(config, config.name)
    if config.backend.name == "rllib":
        probe.close()
        return backend_module("rllib").train(config, resume_dir, progress, on_eval)
    try:
        agent = build_agent(config, probe)
    except (TypeError, ValueError) as exc:  # the agent refuses the env's spaces
        name = config.agent.name if config.agent is not None else config.backend.name
        raise ConfigError(
            config.name, [f"agent {name} cannot train on {config.env.id}: {exc}"]
        ) from None
    finally:
        probe.close()
    run = (
        Run.open(resume_dir, config, progress=progress, announce=announce)
        if resume_dir
        else Run.create(config, progress=progress, announce=announce)
    )
    eval_env = env_factory(config)()

    best = BestAgent(run.dir)

    def periodic_eval() -> dict[str, float]:
        result = evaluate_agent(agent, eval_env, config)
        best.offer(agent, result, run.step)
        if on_eval is not None:
            on_eval(run.step, result)
        return {"return_mean": result.mean, "return_ci95_low": result.ci95_low}

    run.evaluate_fn = periodic_eval
    with run:
        agent.learn(env_factory(config), run)
    agent.save(run.dir / AGENT_FILE)
    result = evaluate_agent(agent, eval_env, config)
    result.write_json(run.dir / EVAL_FILE)
    eval_env.close()
    return TrainResult(config, run.dir, agent, result)


class BestAgent:
    """Keeps ``best.ckpt``, the agent of the best periodic evaluation so far (by mean return,
    as SB3's EvalCallback keeps best_model), and ``best.json`` with its step and evaluation;
    a resumed run reads the best so far back from ``best.json``."""

    def __init__(self, run_dir: Path) -> None:
        self.path, self.record = run_dir / BEST_FILE, run_dir / BEST_EVAL_FILE
        self.mean = float("-inf")
        if self.record.is_file():
            self.mean = float(json.loads(self.record.read_text(encoding="utf-8"))["mean"])

    def offer(self, agent: Agent, result: EvalResult, step: int) -> None:
        if result.mean > self.mean:
            agent.save(self.path)
            atomic_write_text(self.record, json.dumps({"step": step, **result.to_dict()}, indent=2))
            self.mean = result.mean


def evaluate_agent(agent: Policy, env: gym.Env, config: ExperimentConfig) -> EvalResult:
    """The greedy policy's statistics over `train.eval_episodes` seeded episodes."""
    train_cfg = config.train
    return evaluate(
        agent, env, train_cfg.eval_episodes, seed=EVAL_SEED, max_steps=train_cfg.eval_max_steps
    )


def resume_config(run_dir: str | Path, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """The config a run was started with (optionally with overrides, e.g. a larger budget)."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run directory (no config.yaml)")
    data = read_config_file(path)
    config = parse_config(apply_overrides(data, overrides), agent_schemas(), str(path))
    check_env_builds(config, str(path)).close()
    check_backend(config, str(path))
    return config


def load_agent(path: str | Path) -> tuple[Agent, ExperimentConfig]:
    """An agent ready to act, from a run directory, its agent file or one of its checkpoints.

    A run directory without an agent file gives its newest good checkpoint: broken ones, and
    ones holding Python objects, are named in a warning and skipped. A checkpoint or agent file
    named explicitly must be good: `rlcourse.files.FileError` names it otherwise.
    """
    path = Path(path)
    run_dir = _run_dir_of(path)
    config = resume_config(run_dir)
    if config.backend.name == "rllib":  # RLlib checkpoints are directories of its own format
        policy: Agent = backend_module("rllib").load_policy(path, config)
        return policy, config
    state = None
    if path.is_dir():
        weights = path / AGENT_FILE
        if not weights.is_file():
            if latest_checkpoint(path) is None:
                raise FileNotFoundError(f"{path} holds neither {AGENT_FILE} nor a checkpoint")
            weights, state = load_latest_checkpoint(path)
    else:
        weights = path
    env = env_factory(config)()
    agent = build_agent(config, env)
    env.close()
    try:
        if weights.suffix == ".pt":
            agent.load_state_dict((state or load_state(weights))["learner"])
        else:
            agent.load(weights)
    except RuntimeError as exc:  # torch: the tensors do not fit the network the config builds
        first = str(exc).strip().splitlines()[-1].strip()
        raise ValueError(
            f"{weights}: its weights do not fit the network its config builds for "
            f"{config.env.id} (made for another version of the env or agent?): {first}"
        ) from None
    return agent, config


def _run_dir_of(path: Path) -> Path:
    """The run directory `path` is (or lies in): the nearest folder with a config.yaml."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such run directory, agent file or checkpoint")
    for folder in (path, *path.parents)[:4]:
        if (folder / "config.yaml").is_file():
            return folder
    network = next(iter(sorted((path if path.is_dir() else path.parent).glob("alphazero*.ckpt"))),
                   None)  # fmt: skip
    if network is not None:  # a Go network as shipped, without a run of its own
        game = load_data(network).get("config", {}).get("game", {})
        board = f"--size {game.get('board_size', 9)} --komi {game.get('komi', 7.5)}"
        raise FileNotFoundError(
            f"{path} holds an AlphaZero network ({network.name}) without a run config: play it "
            f"with scripts/go_match.py network random --checkpoint {network} {board} (or gnugo, "
            f"mcts instead of random), or against yourself with scripts/play.py go {board}"
        )
    if path.is_dir():
        return path
    return path.parent.parent if path.parent.name == "checkpoints" else path.parent
