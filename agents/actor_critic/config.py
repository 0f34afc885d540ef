"""The config sections of DDPG, TD3 and SAC: what they share, then what each adds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt, model_validator

from rlcourse.config import AgentConfig
from rlcourse.nn import MLPSpec, NetworkSpec

Fraction = Annotated[float, Field(gt=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]


def _wide_network() -> NetworkSpec:
    return NetworkSpec(mlp=MLPSpec(hidden=(256, 256)))


class OffPolicyConfig(AgentConfig):
    """What the three share. Actions live in [-1, 1] for the networks and the replay, and are
    rescaled to the env's Box bounds only when they reach the env."""

    network: NetworkSpec = Field(
        default_factory=_wide_network,
        description="the actor's torso and head; the critics use the same mlp widths",
    )
    gamma: Annotated[float, Field(ge=0.0, le=1.0)] = 0.99
    lr: Annotated[float, Field(gt=0.0, le=1.0)] = 1e-3
    batch_size: PositiveInt = 256
    buffer_size: PositiveInt = 1_000_000
    learning_starts: Annotated[int, Field(ge=0)] = Field(
        100, description="env steps of uniformly random actions before the first update"
    )
    train_freq: PositiveInt = Field(1, description="env steps (all envs together) per update")
    gradient_steps: PositiveInt = Field(1, description="gradient steps per update")
    tau: Fraction = Field(0.005, description="Polyak rate of the target networks per step")
    n_step: PositiveInt = 1
    num_envs: PositiveInt = 1
    optimize_memory_usage: bool = Field(
        True, description="store each observation once in the replay (see rlcourse.replay)"
    )
    save_replay: bool = Field(
        True, description="put the replay in checkpoints, so that a resumed run continues exactly"
    )
    normalize_obs: bool = Field(
        False,
        description="standardise observations by running statistics of those collected; the "
        "replay keeps them raw and each batch is standardised by the statistics of its update",
    )
    clip_obs: Annotated[float, Field(gt=0.0)] = Field(
        10.0, description="standardised observations are clipped to +-this"
    )

    @model_validator(mode="after")
    def _batch_fits(self) -> OffPolicyConfig:
        if self.batch_size > self.buffer_size:
            raise ValueError(
                f"batch_size ({self.batch_size}) cannot exceed buffer_size ({self.buffer_size})"
            )
        return self


class DDPGConfig(OffPolicyConfig):
    """DDPG (Lillicrap et al. 2016): one critic, a deterministic actor, exploration noise
    that is either independent Gaussian draws or an Ornstein-Uhlenbeck process."""

    name: Literal["ddpg"] = "ddpg"
    exploration: Literal["gaussian", "ornstein_uhlenbeck"] = Field(
        "gaussian",
        description="gaussian: an independent draw each step; ornstein_uhlenbeck: a process "
        "per env, correlated over about 1 / (ou_theta * ou_dt) steps, restarted at 0 when the "
        "env's episode ends",
    )
    exploration_noise: NonNegative = Field(
        0.1,
        description="in [-1, 1] action units: the Gaussian's std, or the Ornstein-Uhlenbeck "
        "process's sigma (its stationary std is about sigma / sqrt(2 ou_theta): 0.18 for "
        "sigma 0.1, ou_theta 0.15)",
    )
    ou_theta: Annotated[float, Field(gt=0.0)] = Field(
        0.15, description="Ornstein-Uhlenbeck: the rate of reversion to ou_mu [1 / time]"
    )
    ou_dt: Annotated[float, Field(gt=0.0)] = Field(
        1e-2, description="Ornstein-Uhlenbeck: the time that one env step advances"
    )
    ou_mu: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        0.0, description="Ornstein-Uhlenbeck: the mean it reverts to, in [-1, 1] action units"
    )

    @model_validator(mode="after")
    def _ou_step_does_not_overshoot(self) -> DDPGConfig:
        if self.ou_theta * self.ou_dt > 1.0:
            raise ValueError(
                f"ou_theta * ou_dt must be at most 1 (got {self.ou_theta} * {self.ou_dt}): "
                "beyond it each step overshoots ou_mu"
            )
        return self


class TD3Config(DDPGConfig):
    """TD3 (Fujimoto et al. 2018): DDPG with twin critics (the smaller target counts), noise
    on the target action, and the actor updated every `policy_delay` critic steps."""

    name: Literal["td3"] = "td3"  # type: ignore[assignment]
    n_critics: PositiveInt = 2
    policy_delay: PositiveInt = 2
    target_policy_noise: NonNegative = Field(0.2, description="std, in [-1, 1] units")
    target_noise_clip: NonNegative = Field(0.5, description="the noise is clipped to +-this")


class SACConfig(OffPolicyConfig):
    """SAC (Haarnoja et al. 2018): a tanh-squashed Gaussian actor, twin critics, and an entropy
    temperature alpha tuned so that the policy's entropy stays near `target_entropy`."""

    name: Literal["sac"] = "sac"
    lr: Annotated[float, Field(gt=0.0, le=1.0)] = 3e-4
    n_critics: PositiveInt = 2
    alpha: float | Literal["auto"] = Field(
        "auto", description="a fixed temperature, or auto: learned from alpha_init"
    )
    alpha_init: Annotated[float, Field(gt=0.0)] = 1.0
    target_entropy: float | Literal["auto"] = Field(
        "auto", description="[nats] auto: minus the number of action dimensions"
    )
    log_std_bounds: tuple[float, float] = (-20.0, 2.0)

    @model_validator(mode="after")
    def _valid_alpha(self) -> SACConfig:
        if self.alpha != "auto" and self.alpha < 0:
            raise ValueError(f"alpha must be auto or >= 0, got {self.alpha}")
        low, high = self.log_std_bounds
        if not low < high:
            raise ValueError(f"log_std_bounds must be (low, high), low < high; got {low, high}")
        return self
