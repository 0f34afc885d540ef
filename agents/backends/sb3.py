"""Stable-Baselines3 behind our Agent contract: ``backend: {name: sb3, algo: ...}``.

`SB3Agent` trains through a `Run` like our own agents do, so an sb3 run directory has the same
files as ours: config.yaml, TensorBoard events (our episode/* and eval/* tags next to SB3's
rollout/* and train/*), checkpoints/step_<N>.pt (the SB3 zip inside our atomic checkpoint),
agent.ckpt (an SB3 zip that ``ALGO.load`` reads) and eval.json from our evaluator.
MaskablePPO needs an env whose `info` carries ``action_mask``; the env is wrapped with
sb3-contrib's ActionMasker, and `act` passes the mask of the given `info`.

``--resume`` restores the weights, optimiser and counters of the last checkpoint (not the replay
buffer of DQN, SAC, TD3 or DDPG) and starts fresh episodes: it carries on, but not bit for bit.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import KVWriter, Logger
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.backends import accepted_keywords, unknown_keys
from agents.backends.versions import require
from agents.base import EnvFactory
from rlcourse.config import ExperimentConfig, SB3Backend
from rlcourse.files import CorruptFileError, FileError, UnsafeFileError, atomic_write_bytes
from rlcourse.runs import Run

# policy_kwargs.activation_fn as a config names it -> the torch.nn module
ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "elu": "ELU", "leaky_relu": "LeakyReLU",
               "gelu": "GELU", "silu": "SiLU"}  # fmt: skip
# Constructor keywords the backend sets itself -> where a config sets them.
RESERVED: dict[str, str] = {
    "policy": "backend.policy",
    "env": "env",
    "policy_kwargs": "backend.policy_kwargs",
    "seed": "train.seed",
    "device": "backend.device",
    "tensorboard_log": "the run directory",
    "verbose": "the run's logger",
    "_init_setup_model": "the backend",
}
UNBOUNDED_STEPS = 2**62  # the step budget handed to SB3 when only train.episodes is set


def algorithm_class(algo: str) -> Any:
    """The SB3 (or sb3-contrib) class named `algo` (sb3-contrib's version checked first)."""
    if algo == "MaskablePPO":
        require("sb3-contrib")
        from sb3_contrib import MaskablePPO

        return MaskablePPO
    import stable_baselines3

    return getattr(stable_baselines3, algo)


def backend_problems(config: ExperimentConfig) -> list[str]:
    """Hyper-parameters and policy keywords the chosen algorithm does not take, an unknown
    activation, or MaskablePPO on an env without action masks."""
    backend = config.backend
    assert isinstance(backend, SB3Backend)
    cls = algorithm_class(backend.algo)
    problems = [
        f"backend.hyperparameters.{key}: set by {RESERVED[key]}, not here"
        for key in backend.hyperparameters
        if key in RESERVED
    ]
    problems += unknown_keys(
        [key for key in backend.hyperparameters if key not in RESERVED],
        accepted_keywords(cls.__init__),
        "backend.hyperparameters",
        backend.algo,
    )
    policy_cls = cls.policy_aliases.get(backend.policy)
    if policy_cls is None:
        problems.append(
            f"backend.policy: {backend.algo} has no {backend.policy!r}; "
            f"expected one of {sorted(cls.policy_aliases)}"
        )
    else:
        problems += unknown_keys(
            backend.policy_kwargs,
            accepted_keywords(policy_cls.__init__)
            - {"observation_space", "action_space", "lr_schedule"},
            "backend.policy_kwargs",
            f"{backend.algo}'s {backend.policy}",
        )
    activation = backend.policy_kwargs.get("activation_fn")
    if activation is not None and activation not in ACTIVATIONS:
        problems.append(
            f"backend.policy_kwargs.activation_fn: unknown activation {activation!r}; "
            f"expected one of {list(ACTIVATIONS)}"
        )
    if backend.algo == "MaskablePPO" and not _has_action_mask(config):
        problems.append(
            f"backend.algo: MaskablePPO needs an env whose info holds 'action_mask'; "
            f"{config.env.id} has none (choose PPO)"
        )
    return problems


def _has_action_mask(config: ExperimentConfig) -> bool:
    env = gym.make(config.env.id, **config.env.kwargs)
    try:
        _, info = env.reset(seed=config.train.seed)
        return "action_mask" in info
    finally:
        env.close()


class LatestActionMask(gym.Wrapper):
    """Keeps the ``action_mask`` of the latest `info`: what ActionMasker hands MaskablePPO."""

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self.action_mask = np.asarray(info["action_mask"], dtype=bool)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.action_mask = np.asarray(info["action_mask"], dtype=bool)
        return obs, reward, terminated, truncated, info


class SB3Agent:
    """An SB3 model trained, saved and asked for actions through our Agent contract."""

    Config: ClassVar[type[SB3Backend]] = SB3Backend

    def __init__(
        self,
        config: SB3Backend,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        self.config = config
        self.observation_space, self.action_space = observation_space, action_space
        self.seed = seed
        self.algorithm = algorithm_class(config.algo)
        self.model: Any = None

    # ------------------------------------------------------------------ acting

    def act(self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False):
        assert self.model is not None, "train or load the agent first"
        extra = {}
        if self.config.algo == "MaskablePPO" and info is not None and "action_mask" in info:
            extra["action_masks"] = np.asarray(info["action_mask"], dtype=bool)
        action, _ = self.model.predict(obs, deterministic=deterministic, **extra)
        if isinstance(self.action_space, gym.spaces.Discrete):
            return int(action)
        return action

    # ------------------------------------------------------------------ learning

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        """Train within `run`'s budget; `run` logs, evaluates and checkpoints as for our agents."""
        # SB3 resets its envs when resuming (its last observations are not in our checkpoints).
        vec_env = run.begin(self, self._vec_env(env_factory), env_snapshot="none")
        if self.model is None:  # a fresh run; a resumed one got its model from the checkpoint
            self.model = self._new_model(vec_env)
        else:
            self.model.set_env(vec_env)
        self.model.set_logger(Logger(folder=None, output_formats=[_RunWriter(run)]))
        budget = UNBOUNDED_STEPS if run.total_steps is None else run.total_steps - run.step
        if budget > 0 and not run.finished:
            self.model.learn(
                total_timesteps=budget,
                callback=_RunCallback(run),
                reset_num_timesteps=not run.resumed,
            )
            self.model.logger.dump(self.model.num_timesteps)  # the last update's train/* numbers
        run.checkpoint()  # like our agents: a short run resumes from its end
        vec_env.close()

    def _vec_env(self, env_factory: EnvFactory) -> DummyVecEnv:
        masked = self.config.algo == "MaskablePPO"

        def make() -> gym.Env:
            env = env_factory()
            if masked:
                from sb3_contrib.common.wrappers import ActionMasker

                env = ActionMasker(LatestActionMask(env), _latest_mask)
            return Monitor(env)

        return DummyVecEnv([make] * self.config.n_envs)

    def _new_model(self, vec_env: DummyVecEnv | None, setup: bool = True) -> Any:
        """The model the config describes; without `setup`, only its constructor's attributes
        (no networks, buffers or schedules yet), as ``ALGO.load`` starts one."""
        policy_kwargs = dict(self.config.policy_kwargs)
        if "activation_fn" in policy_kwargs:
            policy_kwargs["activation_fn"] = getattr(
                torch.nn, ACTIVATIONS[policy_kwargs["activation_fn"]]
            )
        extra = {} if setup else {"_init_setup_model": False}
        return self.algorithm(
            self.config.policy,
            vec_env,
            policy_kwargs=policy_kwargs or None,
            seed=self.seed,
            device=self.config.device,
            verbose=0,
            **self.config.hyperparameters,
            **extra,
        )

    # ------------------------------------------------------------------ saving

    def _zip(self) -> bytes:
        buffer = io.BytesIO()
        self.model.save(buffer)
        return buffer.getvalue()

    def _unzip(self, data: bytes, source: str = "the SB3 zip") -> None:
        """Load an SB3 zip without unpickling anything: SB3 reads its .pth files with
        ``weights_only=True``, and each entry of its ``data`` JSON that SB3 would unpickle
        (``:serialized:``: spaces, policy class, schedules, policy_kwargs...) is replaced by
        this agent's own value from its config and spaces (`custom_objects`)."""
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                stored = json.loads(archive.read("data")) if "data" in archive.namelist() else {}
            self.model = self.algorithm.load(
                io.BytesIO(data), device=self.config.device,
                custom_objects=self._replacements(stored),
            )  # fmt: skip
        except pickle.UnpicklingError:
            raise UnsafeFileError(
                f"{source}: refused to load: a .pth entry of the zip holds Python objects, not "
                "tensors, and loading it could run code"
            ) from None
        except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError, ValueError,
                KeyError, RuntimeError, EOFError, AssertionError) as exc:  # fmt: skip
            raise CorruptFileError(
                f"{source}: not an SB3 {self.config.algo} zip for this config "
                f"({type(exc).__name__}: {exc})"
            ) from None

    def _replacements(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """For every pickled (``:serialized:``) entry of an SB3 zip's data, the value a fresh
        model of this config holds before its setup (None where it holds none: ``load`` then
        rebuilds schedules and buffer classes from the plain entries, as a fresh model does)."""
        template = self._new_model(None, setup=False)
        template.observation_space, template.action_space = (
            self.observation_space, self.action_space,
        )  # fmt: skip
        return {
            key: getattr(template, key, None)
            for key, value in stored.items()
            if isinstance(value, dict) and ":serialized:" in value
        }

    def save(self, path: str | Path) -> None:
        """Write the SB3 zip (readable by ``ALGO.load``) atomically."""
        atomic_write_bytes(path, self._zip())

    def load(self, path: str | Path) -> None:
        """Read an SB3 zip without unpickling it (see `_unzip`); `rlcourse.files.FileError`
        naming the file when it cannot be read or is not this config's zip."""
        path = Path(path)
        if not path.is_file():
            raise FileError(f"{path}: no such file")
        self._unzip(path.read_bytes(), str(path))

    def state_dict(self) -> dict[str, Any]:
        """The SB3 zip: weights, optimiser and counters (not an off-policy replay buffer)."""
        return {"sb3_zip": self._zip()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._unzip(state["sb3_zip"])


def _latest_mask(env: gym.Env) -> np.ndarray:
    return env.get_wrapper_attr("action_mask")


class _RunCallback(BaseCallback):
    """Counts SB3's steps and finished episodes into our Run; stops SB3 when an episode budget
    is spent (SB3 stops at the step budget itself, after logging its last iteration)."""

    def __init__(self, run: Run):
        super().__init__()
        self.run = run

    def _on_step(self) -> bool:
        self.run.advance(self.num_timesteps - self.run.step)
        for info in self.locals["infos"]:
            if "episode" in info:  # Monitor's summary of a finished episode
                self.run.record_episode(info["episode"]["r"], info["episode"]["l"])
        episodes = self.run.total_episodes
        return episodes is None or self.run.episode < episodes


class _RunWriter(KVWriter):
    """Forwards SB3's logged numbers (rollout/*, train/*, time/*) to our Run's TensorBoard."""

    def __init__(self, run: Run):
        self.run = run

    def write(
        self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0
    ) -> None:
        numbers = {
            k: float(v)
            for k, v in key_values.items()
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
        }
        self.run.log(numbers, step)

    def close(self) -> None:
        pass
