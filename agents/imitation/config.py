"""The behaviour-cloning config section (see `agents.imitation` for what each setting does)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeInt, model_validator

from agents.pg.config import RecurrentSpec
from agents.teachers import TeacherSpec, spec_of_string, warn_deprecated
from rlcourse.config import AgentConfig
from rlcourse.nn import NetworkSpec
from rlcourse.schedules import Probability
from rlcourse.supervised import FitConfig

#: Keys of earlier releases that now live in the teacher spec (read for one more release).
MOVED_INTO_TEACHER = {"gamma": "gamma", "theta": "theta", "teacher_input": "input"}


class BehaviourCloningConfig(AgentConfig):
    name: Literal["behaviour_cloning"] = "behaviour_cloning"
    teacher: TeacherSpec = Field(
        default={"planner": "value_iteration"},
        validate_default=True,
        description="{planner: value_iteration|policy_iteration}, {run: RUN_DIR} or "
        "{policy: module:Class} (see agents.teachers)",
    )
    exploration: Probability = Field(
        default=0.0, description="probability of executing a random action instead of the teacher's"
    )
    start_states: Literal["env", "uniform"] = Field(
        default="env",
        description="env: the env's own starts; uniform: any non-terminal state of the env's "
        "model, drawn per episode (envs whose reset takes options={'state': s})",
    )
    dagger_rounds: NonNegativeInt = Field(
        default=0,
        description="rounds in which the student drives and the teacher labels (DAgger); "
        "needs train.episodes",
    )
    network: NetworkSpec = NetworkSpec()
    recurrent: RecurrentSpec | None = Field(
        default=None, description="an LSTM/GRU core after the encoder, fitted on whole episodes"
    )
    fit: FitConfig = FitConfig()

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        """``gamma``, ``theta`` and ``teacher_input`` of earlier releases (and of the configs
        their runs wrote) move into the teacher spec, with one FutureWarning."""
        if not isinstance(data, dict) or not MOVED_INTO_TEACHER.keys() & data.keys():
            return data
        data = dict(data)
        old = data.get("teacher", "value_iteration")
        try:
            teacher = spec_of_string(old) if isinstance(old, str) else dict(old)
        except (TypeError, ValueError):
            return data  # the teacher field names what is wrong with it
        moved = [key for key in MOVED_INTO_TEACHER if key in data]
        for key in moved:
            value, field = data.pop(key), MOVED_INTO_TEACHER[key]
            # gamma and theta only ever mattered to planners, and a null input is no input
            if value is not None and (field == "input" or "planner" in teacher):
                teacher.setdefault(field, value)
        warn_deprecated(f"{old!r} with agent.{', agent.'.join(moved)}", teacher)
        data["teacher"] = teacher
        return data
