"""What DDPG, TD3 and SAC share: collection, replay, the update cadence and persistence.

Collection runs on a vector env (SAME_STEP autoreset). The first `learning_starts` env steps
take uniformly random actions; after that every `train_freq` env steps `gradient_steps`
gradient steps each sample a batch and call the algorithm's `_update` (`ddpg`, `td3`, `sac`),
which calls its pure losses (`losses`). Actions are in [-1, 1] everywhere but at the env,
where `ActionScale` maps them to the Box's bounds. Each network's parameters sit in one flat
tensor (`FlatParameters`): zeroing, a fused Adam step and a Polyak step are one operation each.
With `normalize_obs` the networks see observations standardised by running statistics of
every observation collected (`rlcourse.normalization`); the replay keeps them raw, so each
batch is standardised by the statistics at its update, as Stable-Baselines3's VecNormalize
does for off-policy agents. A resumed run continues exactly: checkpoints hold every network,
optimiser and random generator, the envs' state with their current observations, any
exploration process's state (DDPG's Ornstein-Uhlenbeck noise), the observation statistics,
and the replay buffer (unless `save_replay: false`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from agents.actor_critic.config import OffPolicyConfig
from agents.actor_critic.networks import ActionScale, QEnsemble
from agents.base import EnvFactory
from rlcourse.files import load_data, save_data
from rlcourse.nn import FlatParameters, fused_adam
from rlcourse.normalization import ObservationNormalizer
from rlcourse.replay import ReplayBatch, ReplayBuffer
from rlcourse.runs import Run, warn
from rlcourse.vector import make_vector_env, observation_part, true_next_observations

LOG_EVERY = 1_000  # env steps between train/* scalars
Net = TypeVar("Net", bound=nn.Module)


@dataclass
class Collector:
    """Per env: the current observations [N, ...], and the return and length so far [N]."""

    obs: np.ndarray
    returns: np.ndarray
    lengths: np.ndarray

    def state_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class Trainable(Generic[Net]):
    """A network with its parameters in one flat tensor and a fused Adam step over it."""

    def __init__(self, module: Net, lr: float):
        self.module = module
        self.flat = FlatParameters(module)
        self.optimizer = fused_adam([self.flat.param], lr)

    def step(self, loss: torch.Tensor) -> None:
        """One Adam step on the gradient of `loss`."""
        self.flat.zero_grad()
        loss.backward()
        self.optimizer.step()


class OffPolicyAgent:
    """The shared loop; a subclass builds its actor (`_build_actor`), acts
    (`_policy_actions`) and takes one gradient step (`_update`)."""

    Config: ClassVar[type[OffPolicyConfig]] = OffPolicyConfig
    n_critics: int = 1

    def __init__(
        self,
        config: OffPolicyConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
    ):
        name = type(self).__name__
        if not isinstance(action_space, gym.spaces.Box) or len(action_space.shape) != 1:
            raise TypeError(f"{name} needs a one-dimensional Box action space, got {action_space}")
        space = observation_part(observation_space)
        if not isinstance(space, gym.spaces.Box):
            raise TypeError(f"{name} needs Box observations, got {space}")
        self.config = config
        self.observation_space: gym.spaces.Box = space
        self.action_space = action_space
        self.action_dim = int(action_space.shape[0])
        self.scale = ActionScale(action_space)
        self.rng = np.random.default_rng(seed)
        self.torch_rng = torch.Generator().manual_seed(seed)
        obs_features = int(np.prod(space.shape))
        with torch.random.fork_rng(devices=[]):  # seeded initial weights, global RNG untouched
            torch.manual_seed(seed)
            actor = self._build_actor()
            critic = QEnsemble(
                self.n_critics, obs_features, self.action_dim, config.network.mlp, self.torch_rng
            )
        self.target_critic = frozen_copy(critic)
        self.actor: Trainable[nn.Module] = Trainable(actor, config.lr)
        self.critic: Trainable[QEnsemble] = Trainable(critic, config.lr)
        self.target_critic_flat = FlatParameters(self.target_critic, gradients=False)
        self.obs_normalizer = (
            ObservationNormalizer(space.shape, config.clip_obs) if config.normalize_obs else None
        )
        self.buffer: ReplayBuffer | None = None
        self.env_steps = 0
        self.updates = 0
        self.collector: Collector | None = None  # built by `learn`
        self._sums: dict[str, torch.Tensor | float] = {}  # train/* sums since the last log
        self._summed = 0

    # ------------------------------------------------------------------ what differs

    def _build_actor(self) -> nn.Module:
        raise NotImplementedError

    def _policy_actions(self, obs: torch.Tensor, deterministic: bool) -> np.ndarray:
        """Actions [N, D] in [-1, 1] for observations [N, ...] (exploring unless
        `deterministic`)."""
        raise NotImplementedError

    def _exploring_actions(self, obs: torch.Tensor) -> np.ndarray:
        """The collector's actions [num_envs, D] in [-1, 1], one row per env."""
        return self._policy_actions(obs, deterministic=False)

    def _episodes_ended(self, done: np.ndarray) -> None:
        """Told which envs [num_envs] (bool) start a new episode with the next step."""

    def _update(self, batch: ReplayBatch) -> dict[str, torch.Tensor]:
        """One gradient step on `batch`; returns the losses to log."""
        raise NotImplementedError

    def _networks(self) -> dict[str, nn.Module]:
        """Every module whose state a checkpoint holds, by name."""
        return {"actor": self.actor.module, "critic": self.critic.module,
                "target_critic": self.target_critic}  # fmt: skip

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"actor": self.actor.optimizer, "critic": self.critic.optimizer}

    # ------------------------------------------------------------------ acting

    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False
    ) -> np.ndarray:
        """The action for one observation, in the env's units (within the Box's bounds)."""
        x = self._inputs(np.asarray(obs, dtype=self.observation_space.dtype)[None])
        return self.scale.to_env(self._policy_actions(torch.as_tensor(x), deterministic)[0])

    def _inputs(self, obs: np.ndarray, update_stats: bool = False) -> np.ndarray:
        """Observations [N, ...] as the networks read them: standardised with
        `normalize_obs` (`update_stats`: the batch first joins the statistics), else as given."""
        if self.obs_normalizer is None:
            return obs
        return self.obs_normalizer(obs, update=update_stats)

    def _standardised(self, batch: ReplayBatch) -> ReplayBatch:
        """A replay batch with both observation fields as the networks read them."""
        if self.obs_normalizer is None:
            return batch
        return batch._replace(
            observations=self._inputs(batch.observations),
            next_observations=self._inputs(batch.next_observations),
        )

    def _explore(self, obs: np.ndarray) -> np.ndarray:
        """[N, D] actions in [-1, 1]: uniform before `learning_starts`, then the policy's.
        Every observation collected joins the normalisation statistics here, once."""
        x = self._inputs(obs, update_stats=True)
        if self.env_steps < self.config.learning_starts:
            return self.rng.uniform(-1.0, 1.0, size=(len(obs), self.action_dim))
        return self._exploring_actions(torch.as_tensor(x))

    # ------------------------------------------------------------------ learning

    def _make_buffer(self, seed: int) -> ReplayBuffer:
        cfg = self.config
        return ReplayBuffer(
            cfg.buffer_size, self.observation_space, cfg.num_envs, cfg.n_step, cfg.gamma,
            seed=seed, optimize_memory_usage=cfg.optimize_memory_usage,
            action_space=self.action_space,
        )  # fmt: skip

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        cfg = self.config
        envs = run.begin(self, make_vector_env(env_factory, cfg.num_envs), env_snapshot="full")
        if run.resumed and self.buffer is None:
            warn("the checkpoint holds no replay buffer (agent.save_replay: false): the replay "
                 "starts empty, so the run will differ from an uninterrupted one")  # fmt: skip
        if not run.env_restored or self.collector is None:
            obs, _ = envs.reset(seed=run.reset_seed)
            zeros = np.zeros(cfg.num_envs)
            self.collector = Collector(obs, zeros, zeros.astype(np.int64))
            self._episodes_ended(np.ones(cfg.num_envs, dtype=bool))
        if self.buffer is None:  # fresh, or resumed from a checkpoint without the replay
            self.buffer = self._make_buffer(int(self.rng.integers(2**31)))
        while not run.finished:
            self._collect_step(envs, run)
            if (
                self.env_steps > cfg.learning_starts
                and self.env_steps % cfg.train_freq < cfg.num_envs
                and len(self.buffer) >= cfg.batch_size
            ):
                for _ in range(cfg.gradient_steps):
                    batch = self._standardised(self.buffer.sample(cfg.batch_size))
                    self._add_to_log(self._update(batch))
            if self.env_steps % LOG_EVERY < cfg.num_envs and self._summed:
                scalars = {f"train/{k}": float(v) / self._summed for k, v in self._sums.items()}
                run.log({**scalars, "train/updates": self.updates}, self.env_steps)
                self._sums, self._summed = {}, 0
            run.advance(cfg.num_envs)
        run.checkpoint()
        envs.close()

    def _collect_step(self, envs: gym.vector.VectorEnv, run: Run) -> None:
        c, buffer = self.collector, self.buffer
        assert c is not None and buffer is not None
        actions = self._explore(c.obs).astype(np.float32)
        next_obs, rewards, terminated, truncated, infos = envs.step(self.scale.to_env(actions))
        done = terminated | truncated
        real_next = true_next_observations(next_obs, infos, done)
        buffer.add(c.obs, actions, rewards, real_next, terminated, truncated)
        c.returns += rewards
        c.lengths += 1
        for i in np.flatnonzero(done):
            run.record_episode(float(c.returns[i]), int(c.lengths[i]))
            c.returns[i], c.lengths[i] = 0.0, 0
        self._episodes_ended(done)
        c.obs = next_obs
        self.env_steps += self.config.num_envs

    def _add_to_log(self, losses: Mapping[str, torch.Tensor]) -> None:
        for key, value in losses.items():
            self._sums[key] = self._sums.get(key, 0.0) + value.detach()
        self._summed += 1

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        """The actor's weights (and the observation statistics), written atomically as data."""
        save_data(path, {"actor": self.actor.module.state_dict(), **self._statistics()})

    def load(self, path: str | Path) -> None:
        """Read an agent file as data (`rlcourse.files.FileError` naming it when it is not)."""
        state = load_data(path)
        self.actor.module.load_state_dict(state["actor"])
        self._load_statistics(state, path)

    def _statistics(self) -> dict[str, Any]:
        if self.obs_normalizer is None:
            return {}
        return {"obs_normalizer": self.obs_normalizer.state_dict()}

    def _load_statistics(self, state: Mapping[str, Any], source: str | Path) -> None:
        saved = state.get("obs_normalizer")
        if (saved is None) != (self.obs_normalizer is None):
            raise ValueError(
                f"{source}: agent.normalize_obs is {self.obs_normalizer is not None} here but "
                f"{saved is not None} where it was saved"
            )
        if self.obs_normalizer is not None and saved is not None:
            self.obs_normalizer.load_state_dict(saved)

    def state_dict(self) -> dict[str, Any]:
        save_replay = self.buffer is not None and self.config.save_replay
        return {
            "networks": {name: net.state_dict() for name, net in self._networks().items()},
            "optimizers": {name: opt.state_dict() for name, opt in self._optimizers().items()},
            "rng": self.rng.bit_generator.state,
            "torch_rng": self.torch_rng.get_state(),
            "env_steps": self.env_steps,
            "updates": self.updates,
            "collector": None if self.collector is None else self.collector.state_dict(),
            "replay": self.buffer.state_dict() if save_replay else None,  # type: ignore[union-attr]
            **self._statistics(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for name, net in self._networks().items():
            net.load_state_dict(state["networks"][name])
        for name, opt in self._optimizers().items():
            opt.load_state_dict(state["optimizers"][name])
        self.rng.bit_generator.state = state["rng"]
        self.torch_rng.set_state(state["torch_rng"])
        self.env_steps, self.updates = state["env_steps"], state["updates"]
        collector = state["collector"]
        self.collector = Collector(**collector) if collector else None
        self._load_statistics(state, "the checkpoint")
        if state.get("replay") is not None:
            # The seed is irrelevant: the buffer's own generator state is restored next.
            self.buffer = self._make_buffer(seed=0)
            self.buffer.load_state_dict(state["replay"])


def frozen_copy(module: Net) -> Net:
    """A target network: a copy of `module` that needs no gradient."""
    target = copy.deepcopy(module)
    target.requires_grad_(False)
    return target


def polyak(target: FlatParameters, online: FlatParameters, tau: float) -> None:
    """target <- (1 - tau) target + tau online, on the flat parameters."""
    with torch.no_grad():
        target.param.lerp_(online.param, tau)
