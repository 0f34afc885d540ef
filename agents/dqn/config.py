"""The DQN config section: every classic improvement is a switch, and they combine freely.

All switches on (double, dueling, prioritized, n_step > 1, noisy, distributional) is Rainbow
(Hessel et al. 2018).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from agents.teachers import PlannerTeacherSpec, TeacherSpec
from rlcourse.config import AgentConfig
from rlcourse.nn import NetworkSpec
from rlcourse.schedules import FrozenModel, Probability, schedule_of

Fraction = Annotated[float, Field(gt=0.0, le=1.0)]


class TeacherStart(FrozenModel):
    """Replay buffer spiking (Lipton et al. 2018): the first `steps` env steps are the
    teacher's actions rather than epsilon-greedy ones, so replay starts with its episodes.
    Over the next `anneal` steps the teacher's share falls linearly to 0, so the learner's own
    greedy choices are tried (and corrected) while most of the data is still good. With
    `margin_weight` > 0 every update also adds DQfD's large-margin loss (Hester et al. 2018) on
    a batch of the teacher's (observation, action) pairs, so that Q ranks the teacher's action
    above the others by `margin` unless the returns say otherwise."""

    teacher: TeacherSpec = Field(
        description="{policy: module:Class} or {run: RUN_DIR} (see agents.teachers); it acts "
        "on the observation"
    )
    steps: PositiveInt = Field(description="env steps (all envs together) the teacher plays")
    anneal: Annotated[int, Field(ge=0)] = Field(
        0, description="env steps after `steps` over which the teacher's share falls to 0"
    )
    margin: Annotated[float, Field(ge=0.0)] = Field(0.8, description="[return units]")
    margin_weight: Annotated[float, Field(ge=0.0)] = Field(
        0.0, description="weight of the large-margin loss; 0: off"
    )

    def share(self, step: int) -> float:
        """The probability that env step `step` (0-based) is the teacher's."""
        if step < self.steps:
            return 1.0
        return max(0.0, 1.0 - (step - self.steps + 1) / (self.anneal + 1))

    @field_validator("teacher")
    @classmethod
    def _acts_on_observations(cls, value: TeacherSpec) -> TeacherSpec:
        if isinstance(value, PlannerTeacherSpec):
            raise ValueError(
                f"{value.planner!r} reads the true state, which a vector env does not give"
            )
        return value


class DQNConfig(AgentConfig):
    name: Literal["dqn"] = "dqn"
    network: NetworkSpec = Field(default_factory=NetworkSpec, description="the torso")
    gamma: Annotated[float, Field(ge=0.0, le=1.0)] = 0.99
    lr: Annotated[float, Field(gt=0.0, le=1.0)] = 1e-3
    adam_eps: Annotated[float, Field(gt=0.0)] = 1e-8
    batch_size: PositiveInt = 64
    buffer_size: PositiveInt = 100_000
    learning_starts: Annotated[int, Field(ge=0)] = 1_000
    train_freq: PositiveInt = Field(4, description="env steps (all envs together) per update")
    gradient_steps: PositiveInt = Field(1, description="gradient steps per update")
    target_update: Literal["hard", "polyak"] = "hard"
    target_update_interval: PositiveInt = Field(1_000, description="env steps between hard copies")
    tau: Fraction = Field(0.005, description="Polyak rate per gradient step")
    loss: Literal["huber", "mse"] = "huber"
    max_grad_norm: Annotated[float, Field(gt=0.0)] | None = 10.0
    epsilon: schedule_of(Probability) = Field(  # type: ignore[valid-type]
        {"kind": "linear", "start": 1.0, "end": 0.05, "steps": 10_000},
        description="exploration; ignored (zero) with noisy nets",
        validate_default=True,
    )
    num_envs: PositiveInt = 1
    # The switches.
    double: bool = False
    dueling: bool = False
    prioritized: bool = False
    n_step: PositiveInt = 1
    noisy: bool = False
    distributional: bool = False
    # Prioritized replay: beta anneals linearly from beta to 1 over the run's step budget.
    alpha: Annotated[float, Field(ge=0.0, le=1.0)] = 0.6
    beta: Annotated[float, Field(ge=0.0, le=1.0)] = 0.4
    # Noisy nets and C51.
    noisy_sigma: Annotated[float, Field(gt=0.0)] = 0.5
    atoms: Annotated[int, Field(ge=2)] = 51
    v_min: float = -10.0
    v_max: float = 10.0
    optimize_memory_usage: bool = Field(
        True,
        description="store each observation once in the replay (next_obs is the next step's "
        "obs); false keeps two frames per transition, for envs whose reset does not continue "
        "from the final observation",
    )
    save_replay: bool = Field(
        True,
        description="put the replay buffer in checkpoints (zlib-compressed), so that a resumed "
        "run continues exactly; false keeps checkpoints small, and a resume then warns",
    )
    teacher_start: TeacherStart | None = Field(
        None, description="warm start: a teacher plays the first steps (epsilon counts them too)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> DQNConfig:
        if self.distributional and self.v_min >= self.v_max:
            raise ValueError(f"v_min ({self.v_min}) must be below v_max ({self.v_max})")
        if self.batch_size > self.buffer_size:
            raise ValueError(
                f"batch_size ({self.batch_size}) cannot exceed buffer_size ({self.buffer_size})"
            )
        return self
