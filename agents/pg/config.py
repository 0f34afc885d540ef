"""Config sections of the policy-gradient agents: REINFORCE, A2C and PPO.

`PolicyGradientConfig` holds what all three share (network, optimiser, action distribution);
`RolloutConfig` adds vector-env rollouts, GAE and normalisation for A2C and PPO.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt, model_validator

from rlcourse.config import AgentConfig
from rlcourse.nn import MLPSpec, NetworkSpec
from rlcourse.schedules import FrozenModel

Discount = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
NonNegative = Annotated[float, Field(ge=0.0)]

#: SB3's MlpPolicy for A2C and PPO: two tanh layers of 64, actor and critic apart.
DEFAULT_NETWORK = NetworkSpec(mlp=MLPSpec(hidden=(64, 64), activation="tanh"))


class RecurrentSpec(FrozenModel):
    """An LSTM or GRU after the observation encoder, shared by actor and critic."""

    cell: Literal["lstm", "gru"] = "lstm"
    hidden_size: PositiveInt = 64
    num_layers: PositiveInt = 1


class PolicyGradientConfig(AgentConfig):
    network: NetworkSpec = Field(DEFAULT_NETWORK, description="encoder of actor and critic")
    shared_encoder: bool = Field(False, description="one encoder for actor and critic")
    recurrent: RecurrentSpec | None = Field(None, description="LSTM/GRU core (shared)")
    init_from: str | None = Field(
        None,
        description="start a fresh run from the weights of this trained run directory, agent "
        "file or checkpoint (a policy-gradient agent's, or a behaviour-cloning student's for the "
        "actor side)",
    )
    ortho_init: bool = Field(True, description="orthogonal init (PPO recipe gains)")
    gamma: Discount = 0.99
    lr: Positive = 3e-4
    lr_schedule: Literal["constant", "linear"] = Field(
        "constant", description="linear: anneal to 0 over the run's step budget"
    )
    optimizer: Literal["adam", "rmsprop"] = "adam"
    optimizer_eps: Positive = 1e-5
    rmsprop_alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.99
    max_grad_norm: Positive | None = 0.5
    ent_coef: NonNegative = 0.0
    vf_coef: NonNegative = 0.5
    normalize_advantage: bool = True
    # Continuous actions: a diagonal Gaussian.
    log_std_init: float = 0.0
    state_dependent_std: bool = False
    squash: bool = Field(False, description="tanh-squash actions into the Box bounds")


class RolloutConfig(PolicyGradientConfig):
    num_envs: PositiveInt = 8
    vector_env: Literal["sync", "async"] = Field(
        "sync",
        description="async: one subprocess per env; a resumed async run restarts its episodes",
    )
    n_steps: PositiveInt = Field(128, description="steps per env in one rollout")
    gae_lambda: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.95, description="1.0 gives n-step returns"
    )
    seq_len: PositiveInt | None = Field(
        None, description="recurrent: sequence length of minibatches (default n_steps)"
    )
    normalize_obs: bool = False
    normalize_reward: bool = False
    clip_obs: Positive = 10.0
    clip_reward: Positive = 10.0

    @model_validator(mode="after")
    def _sequences_fit(self) -> RolloutConfig:
        if self.seq_len is not None and self.n_steps % self.seq_len:
            raise ValueError(f"seq_len ({self.seq_len}) must divide n_steps ({self.n_steps})")
        return self

    @property
    def rollout_size(self) -> int:
        return self.num_envs * self.n_steps

    @property
    def sequence_length(self) -> int:
        return self.seq_len or self.n_steps


class REINFORCEConfig(PolicyGradientConfig):
    name: Literal["reinforce"] = "reinforce"
    baseline: bool = Field(True, description="subtract a learned state value from the return")
    episodes_per_update: PositiveInt = 1
    lr: Positive = 1e-3
    max_grad_norm: Positive | None = None

    @model_validator(mode="after")
    def _feed_forward(self) -> REINFORCEConfig:
        if self.recurrent is not None:
            raise ValueError("reinforce has no recurrent policies; use ppo or a2c")
        return self


class A2CConfig(RolloutConfig):
    """Defaults are Stable-Baselines3's A2C (Mnih et al. 2016 with RMSprop)."""

    name: Literal["a2c"] = "a2c"
    n_steps: PositiveInt = 5
    gae_lambda: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    lr: Positive = 7e-4
    optimizer: Literal["adam", "rmsprop"] = "rmsprop"
    normalize_advantage: bool = False


class PPOConfig(RolloutConfig):
    """Defaults are Stable-Baselines3's PPO (Schulman et al. 2017)."""

    name: Literal["ppo"] = "ppo"
    n_steps: PositiveInt = 2048
    n_epochs: PositiveInt = 10
    batch_size: PositiveInt = Field(64, description="samples (recurrent: steps) per minibatch")
    clip_range: Positive = 0.2
    clip_range_vf: Positive | None = Field(None, description="clip value updates; null: off")
    target_kl: Positive | None = Field(None, description="stop the epochs past 1.5x this KL")
    num_envs: PositiveInt = 1

    @model_validator(mode="after")
    def _batches_fit(self) -> PPOConfig:
        if self.batch_size > self.rollout_size:
            raise ValueError(
                f"batch_size ({self.batch_size}) exceeds the rollout "
                f"(num_envs * n_steps = {self.rollout_size})"
            )
        if self.recurrent is not None and self.batch_size % self.sequence_length:
            raise ValueError(
                f"recurrent: batch_size ({self.batch_size}) must be a multiple of the "
                f"sequence length ({self.sequence_length})"
            )
        return self
