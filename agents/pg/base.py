"""What REINFORCE, A2C and PPO share: the network, optimiser, acting, saving and stepping.

`PolicyAgent` owns an `ActorCritic`, its optimiser (Adam or RMSprop), a seeded torch
generator for action sampling, and optionally an observation normaliser whose statistics
travel with `save`/`load` and with checkpoints.

``init_from`` starts a fresh run from trained weights (`initialise_from`): another
policy-gradient agent's (every tensor it has, and its observation statistics), or a
behaviour-cloning student's, whose encoder, core and head become the actor's (the critic keeps
its fresh weights). They are read when the agent first needs its network, unless weights were
loaded before (`load`, `load_state_dict`): a resumed run or a trained agent loaded from its own
files never reads them again, so it does not need the source to exist any more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
import torch

from agents.pg.config import PolicyGradientConfig
from agents.pg.policy import ActorCritic, observation_dtype
from agents.training import load_agent
from rlcourse.files import load_data, save_data
from rlcourse.nn import FlatParameters, Hidden
from rlcourse.normalization import ObservationNormalizer
from rlcourse.vector import observation_part, split_observation


@runtime_checkable
class ClonedActor(Protocol):
    """An agent whose weights are an actor's, e.g. a behaviour-cloning student."""

    def actor_weights(self) -> dict[str, torch.Tensor]:
        """Its weights keyed as the same layers of an `ActorCritic`."""
        ...


def make_optimizer(
    config: PolicyGradientConfig, params: Iterable[torch.nn.Parameter]
) -> torch.optim.Optimizer:
    if config.optimizer == "rmsprop":  # as in A2C (Mnih et al. 2016) and SB3
        return torch.optim.RMSprop(
            params, lr=config.lr, alpha=config.rmsprop_alpha, eps=config.optimizer_eps,
            foreach=True,
        )  # fmt: skip
    return torch.optim.Adam(params, lr=config.lr, eps=config.optimizer_eps, fused=True)


class PolicyAgent:
    """Acting, saving and gradient steps; subclasses add `learn`."""

    config: PolicyGradientConfig

    def __init__(
        self,
        config: PolicyGradientConfig,
        observation_space: gym.Space,
        action_space: gym.Space,
        seed: int = 0,
        normalize_obs: bool = False,
        clip_obs: float = 10.0,
    ):
        self.config = config
        self.observation_space = observation_part(observation_space)
        self.action_space = action_space
        self.obs_dtype = observation_dtype(self.observation_space)
        self.generator = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):  # seeded initial weights, global RNG untouched
            torch.manual_seed(seed)
            self.policy = ActorCritic(config, self.observation_space, action_space)
        # One flat tensor for all parameters: the optimiser step and the clip are one
        # operation each instead of one per tensor (most of a small network's update).
        self.flat = FlatParameters(self.policy)
        self.optimizer = make_optimizer(config, [self.flat.param])
        self.obs_normalizer = (
            ObservationNormalizer(self.observation_space.shape or (), clip_obs)
            if normalize_obs
            else None
        )
        self.n_actions = int(action_space.n) if isinstance(action_space, gym.spaces.Discrete) else 0
        self.env_steps = 0
        self.updates = 0
        self._act_hidden: Hidden | None = None
        self._pending_init = config.init_from

    # ------------------------------------------------------------------ inputs

    def observations(self, obs: Any, update_stats: bool = False) -> torch.Tensor:
        """A batch of env observations [N, ...] as the network's input tensor (normalised)."""
        if self._pending_init is not None:
            self.initialise_from(self._pending_init)
        x = np.asarray(obs)
        if self.obs_normalizer is not None:
            x = self.obs_normalizer(x, update=update_stats)
        return torch.as_tensor(x, dtype=self.obs_dtype)

    # ------------------------------------------------------------------ acting

    def reset_state(self) -> None:
        """Forget the recurrent state of `act`: call it before each new episode."""
        self._act_hidden = None

    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False
    ) -> Any:
        x, mask = split_observation(obs, info)
        masks = None if mask is None else torch.as_tensor(mask[None])
        with torch.no_grad():
            actions, hidden = self.policy.act(
                self.observations(np.asarray(x)[None]), masks, self._act_hidden, None,
                deterministic, self.generator,
            )  # fmt: skip
        if self.policy.recurrent:
            self._act_hidden = hidden
        action = self.policy.to_env(actions.numpy())[0]
        return int(action) if self.policy.discrete else action

    # ------------------------------------------------------------------ learning

    def set_learning_rate(self, total_steps: int | None) -> float:
        """Apply the lr schedule at the current env step; returns the learning rate."""
        lr = self.config.lr
        if self.config.lr_schedule == "linear" and total_steps:
            lr *= max(1.0 - self.env_steps / total_steps, 0.0)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def gradient_step(self, loss: torch.Tensor) -> None:
        self.flat.zero_grad()
        loss.backward()
        if self.config.max_grad_norm is not None:
            self.flat.clip_grad_norm(self.config.max_grad_norm)
        self.optimizer.step()

    # ------------------------------------------------------------------ initial weights

    def initialise_from(self, path: str | Path) -> None:
        """Copy the weights of the agent trained at `path` (run directory, agent file or
        checkpoint) into this one's network; ValueError naming the first tensor that this
        network lacks or holds in another shape."""
        self._pending_init = None
        source, _ = load_agent(path)
        if isinstance(source, PolicyAgent):
            weights = source.policy.state_dict()
            self._copy_normalizer(source.obs_normalizer, path)
        elif isinstance(source, ClonedActor):
            weights = source.actor_weights()
        else:
            raise ValueError(
                f"init_from {str(path)!r}: a {type(source).__name__} has no weights a policy "
                "gradient agent can start from"
            )
        own = self.policy.state_dict()
        for key, value in weights.items():
            if key not in own:
                raise ValueError(
                    f"init_from {str(path)!r}: its tensor {key!r} has no place in this network "
                    f"(is agent.network / agent.recurrent / agent.shared_encoder the same?)"
                )
            if own[key].shape != value.shape:
                raise ValueError(
                    f"init_from {str(path)!r}: {key} has shape {list(value.shape)} there, "
                    f"{list(own[key].shape)} here"
                )
        self.policy.load_state_dict(weights, strict=False)
        self.reset_state()

    def _copy_normalizer(self, normalizer: ObservationNormalizer | None, path: str | Path) -> None:
        if (normalizer is None) != (self.obs_normalizer is None):
            raise ValueError(
                f"init_from {str(path)!r}: normalize_obs must be the same there and here"
            )
        if normalizer is not None and self.obs_normalizer is not None:
            self.obs_normalizer.load_state_dict(normalizer.state_dict())

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        """The policy's weights and observation statistics, written atomically as data."""
        save_data(
            path,
            {
                "policy": self.policy.state_dict(),
                "obs_normalizer": None
                if self.obs_normalizer is None
                else self.obs_normalizer.state_dict(),
            },
        )

    def load(self, path: str | Path) -> None:
        """Read an agent file as data (`rlcourse.files.FileError` naming it when it is not)."""
        state = load_data(path)
        self._pending_init = None
        self.policy.load_state_dict(state["policy"])
        if self.obs_normalizer is not None:
            self.obs_normalizer.load_state_dict(state["obs_normalizer"])
        self.reset_state()

    def state_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "obs_normalizer": None
            if self.obs_normalizer is None
            else self.obs_normalizer.state_dict(),
            "env_steps": self.env_steps,
            "updates": self.updates,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._pending_init = None
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        if self.obs_normalizer is not None:
            self.obs_normalizer.load_state_dict(state["obs_normalizer"])
        self.env_steps, self.updates = state["env_steps"], state["updates"]
        self.reset_state()
