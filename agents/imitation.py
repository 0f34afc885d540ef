"""Behaviour cloning: record a teacher's actions, then fit a policy network to them.

The `behaviour_cloning` agent plays demonstration episodes until the run's budget
(``train.episodes`` and/or ``train.steps``) is spent, recording every observation, the
teacher's action and the action mask if the env gives one. It then fits an MLP or CNN policy
(built from ``agent.network`` and the observation space) by cross-entropy with
`rlcourse.supervised.fit`, and acts by the argmax of its logits over the legal actions
(``deterministic=True``, as in evaluation) or by sampling their softmax.

Teachers (``agent.teacher``):

- ``value_iteration`` / ``policy_iteration``: plans on the env's own model
  (`envs.gridworld.TabularMDP.from_env`) and acts greedily on the true state
  ``env.unwrapped.s``, whatever the observation type.
- a trained run directory, agent file or checkpoint (`agents.training.load_agent`): acts with
  ``deterministic=True`` on the observation, or on ``env.unwrapped.s`` when it was trained on
  state indices and the student sees another observation type.
- an importable policy class ``module:Class`` (e.g. ``envs.dialogue:RulePolicy``), built from
  the env (see `build_policy`) and asked ``act(obs, info)`` on the observation.

A teacher only shows what to do in the states it visits. Two settings widen that:
``exploration`` > 0 executes a uniformly random legal action instead of the teacher's with that
probability, while the teacher's action is still what is recorded (noise injection, as in
DART, Laskey et al. 2017), so the student sees the states just off the teacher's path; and
``start_states: uniform`` starts every episode in a uniformly drawn non-terminal state of the
env's model (exploring starts), so states the teacher never heads for are demonstrated too.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from pydantic import Field, field_validator
from torch import nn

from agents.base import EnvFactory
from rlcourse.config import AgentConfig
from rlcourse.nn import (
    CategoricalPolicyHead,
    NetworkSpec,
    ObservationEncoder,
    as_batch,
    build_encoder,
)
from rlcourse.runs import Run
from rlcourse.schedules import Probability
from rlcourse.supervised import FitConfig, FitResult, evaluate_loss, fit

PLANNERS = ("value_iteration", "policy_iteration")
POLICY_CLASS = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")  # module:Class

#: A teacher maps (env, observation, info) to the action it would take.
Teacher = Callable[[gym.Env, Any, Mapping[str, Any]], int]


class BehaviourCloningConfig(AgentConfig):
    name: Literal["behaviour_cloning"] = "behaviour_cloning"
    teacher: str = Field(
        default="value_iteration",
        description="value_iteration, policy_iteration, a trained run directory/agent file, or "
        "an importable policy class module:Class",
    )
    gamma: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=1.0, description="planning teachers"
    )
    theta: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=1e-10, description="planning teachers: stop when no value changes by more than this"
    )
    exploration: Probability = Field(
        default=0.0, description="probability of executing a random action instead of the teacher's"
    )
    start_states: Literal["env", "uniform"] = Field(
        default="env",
        description="env: the env's own starts; uniform: any non-terminal state of the env's "
        "model, drawn per episode (envs whose reset takes options={'state': s})",
    )
    network: NetworkSpec = NetworkSpec()
    fit: FitConfig = FitConfig()

    @field_validator("teacher")
    @classmethod
    def _known_teacher(cls, value: str) -> str:
        return check_teacher(value)


def check_teacher(value: str) -> str:
    """`value` if it names a teacher: a planner, a path, or a policy class that imports."""
    # A path is only checked for existence when learning starts: a trained student must
    # stay loadable after its teacher's run directory is gone.
    if value in PLANNERS or "/" in value or Path(value).exists():
        return value
    if POLICY_CLASS.fullmatch(value):
        import_policy_class(value)
        return value
    raise ValueError(
        f"expected one of {list(PLANNERS)}, the path of a trained run or a policy class "
        f"module:Class, got {value!r}"
    )


# ----------------------------------------------------------------------------- teachers


class PlanningTeacher:
    """The greedy action of a value/policy-iteration solution at ``env.unwrapped.s``."""

    def __init__(self, env: gym.Env, method: str, gamma: float, theta: float):
        from agents.tabular.planning import policy_iteration, value_iteration
        from envs.gridworld import TabularMDP  # the model type lives with the envs

        if not hasattr(env.unwrapped, "s"):
            raise TypeError(
                f"teacher {method!r} reads the true state from env.unwrapped.s; "
                f"{type(env.unwrapped).__name__} has no such attribute"
            )
        planner = value_iteration if method == "value_iteration" else policy_iteration
        solution = planner(TabularMDP.from_env(env), gamma, theta)
        self.actions = np.argmax(solution.policy, axis=1)  # [S]

    def __call__(self, env: gym.Env, obs: Any, info: Mapping[str, Any]) -> int:
        return int(self.actions[int(env.unwrapped.s)])  # type: ignore[attr-defined]


class AgentTeacher:
    """A trained agent's deterministic action, on the observation or on the true state."""

    def __init__(self, agent: Any, reads_state: bool):
        self.agent, self.reads_state = agent, reads_state

    def __call__(self, env: gym.Env, obs: Any, info: Mapping[str, Any]) -> int:
        seen = int(env.unwrapped.s) if self.reads_state else obs  # type: ignore[attr-defined]
        return int(self.agent.act(seen, info, deterministic=True))


def load_teacher(path: str | Path, env: gym.Env) -> AgentTeacher:
    """The agent trained in `path` (run directory, agent file or checkpoint) as a teacher."""
    from agents.training import env_factory, load_agent

    if not Path(path).exists():
        raise FileNotFoundError(f"teacher {str(path)!r}: no such run directory or agent file")
    agent, config = load_agent(path)
    if env.spec is not None and config.env.id != env.spec.id:
        raise ValueError(f"teacher {str(path)!r} was trained on {config.env.id}, not {env.spec.id}")
    probe = env_factory(config)()
    teacher_space = probe.observation_space
    probe.close()
    if teacher_space == env.observation_space:
        return AgentTeacher(agent, reads_state=False)
    if isinstance(teacher_space, gym.spaces.Discrete) and hasattr(env.unwrapped, "s"):
        return AgentTeacher(agent, reads_state=True)
    raise ValueError(
        f"teacher {str(path)!r} observes {teacher_space}, the student {env.observation_space}; "
        "only a teacher trained on state indices can read another observation type"
    )


def import_policy_class(spec: str) -> type:
    """The class ``module:Class`` names; ValueError naming what failed to import."""
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"teacher {spec!r}: cannot import module {module_name!r}: {exc}") from None
    found = getattr(module, class_name, None)
    if not inspect.isclass(found):
        what = "no attribute" if found is None else "no class"
        raise ValueError(f"teacher {spec!r}: module {module_name!r} has {what} {class_name!r}")
    if not callable(getattr(found, "act", None)):
        raise ValueError(f"teacher {spec!r}: {class_name} has no act(obs, info) method")
    return found


def build_policy(spec: str, env: gym.Env) -> Any:
    """An instance of the class ``module:Class`` built for `env`: each constructor parameter
    named like an attribute of ``env.unwrapped`` (e.g. ``ontology``) receives that attribute,
    the others keep their defaults."""
    cls = import_policy_class(spec)
    base = env.unwrapped
    shared = [name for name in inspect.signature(cls).parameters if hasattr(base, name)]
    return cls(**{name: getattr(base, name) for name in shared})


class PolicyTeacher:
    """A policy object's ``act(obs, info)`` on the observation."""

    def __init__(self, policy: Any):
        self.policy = policy

    def __call__(self, env: gym.Env, obs: Any, info: Mapping[str, Any]) -> int:
        return int(self.policy.act(obs, info))


def make_teacher(
    spec: str, env: gym.Env, gamma: float = 1.0, theta: float = 1e-10
) -> PlanningTeacher | AgentTeacher | PolicyTeacher:
    """The teacher `spec` names (see the module docstring) for `env`; `gamma` and `theta`
    only matter to planners."""
    if spec in PLANNERS:
        return PlanningTeacher(env, spec, gamma, theta)
    if "/" not in spec and not Path(spec).exists() and POLICY_CLASS.fullmatch(spec):
        return PolicyTeacher(build_policy(spec, env))
    return load_teacher(spec, env)


def reads_true_state(teacher: Teacher) -> bool:
    """Whether `teacher` acts on ``env.unwrapped.s`` rather than on the observation."""
    return isinstance(teacher, PlanningTeacher) or getattr(teacher, "reads_state", False)


# ----------------------------------------------------------------------------- demonstrations


class Demonstration(NamedTuple):
    """One episode: what was observed and what the teacher chose there."""

    observations: np.ndarray  # [T, *obs_shape]
    actions: np.ndarray  # [T] int64, the teacher's actions (not always the executed ones)
    masks: np.ndarray | None  # [T, A] bool action masks, None when the env gives none
    episode_return: float  # undiscounted return of the executed actions


def _mask_of(info: Mapping[str, Any]) -> np.ndarray | None:
    mask = info.get("action_mask")
    return None if mask is None else np.asarray(mask, dtype=bool)


def non_terminal_states(env: gym.Env) -> np.ndarray:
    """The states [K] of the env's model that an episode may start in (exploring starts)."""
    from envs.gridworld import TabularMDP  # the model type lives with the envs

    try:
        mdp = TabularMDP.from_env(env)
    except TypeError as exc:
        raise TypeError(f"start_states: uniform needs an env with a model: {exc}") from None
    return np.flatnonzero(~mdp.terminal)


def record_episode(
    env: gym.Env,
    teacher: Teacher,
    rng: np.random.Generator,
    exploration: float = 0.0,
    start_states: np.ndarray | None = None,
) -> Demonstration:
    """Play one episode from ``env.reset()`` (no seed), recording the teacher's choices.

    With `start_states` [K] the episode starts in one of them drawn by `rng`
    (``env.reset(options={"state": s})``).
    """
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    if start_states is None:
        obs, info = env.reset()
    else:
        obs, info = env.reset(options={"state": int(rng.choice(start_states))})
    observations, actions, masks = [], [], []
    total, done = 0.0, False
    while not done:
        label = teacher(env, obs, info)
        mask = _mask_of(info)
        executed = label
        if exploration > 0.0 and rng.random() < exploration:
            legal = np.flatnonzero(mask) if mask is not None else np.arange(n_actions)
            executed = int(rng.choice(legal))
        observations.append(obs)
        actions.append(label)
        masks.append(mask)
        obs, reward, terminated, truncated, info = env.step(executed)
        total += float(reward)
        done = terminated or truncated
    has_masks = any(m is not None for m in masks)
    return Demonstration(
        np.asarray(observations),
        np.asarray(actions, dtype=np.int64),
        np.stack([np.ones(n_actions, bool) if m is None else m for m in masks])
        if has_masks
        else None,
        total,
    )


def collect_demonstrations(
    env: gym.Env,
    teacher: Teacher,
    episodes: int,
    rng: np.random.Generator,
    exploration: float = 0.0,
    start_states: np.ndarray | None = None,
) -> list[Demonstration]:
    """`episodes` recorded episodes (seed the env with ``env.reset(seed=...)`` first)."""
    return [record_episode(env, teacher, rng, exploration, start_states) for _ in range(episodes)]


def stack_demonstrations(
    demos: Sequence[Demonstration],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """All steps of `demos`: observations [N, ...], actions [N], masks [N, A] or None."""
    if not demos:
        raise ValueError("no demonstrations to stack")
    observations = np.concatenate([d.observations for d in demos])
    actions = np.concatenate([d.actions for d in demos])
    if all(d.masks is None for d in demos):
        return observations, actions, None
    n = max(d.masks.shape[1] for d in demos if d.masks is not None)
    masks = np.concatenate(
        [d.masks if d.masks is not None else np.ones((len(d.actions), n), bool) for d in demos]
    )
    return observations, actions, masks


# ----------------------------------------------------------------------------- the agent


class PolicyNetwork(nn.Module):
    """Observations [B, ...] (+ action masks [B, A]) -> masked logits [B, A]."""

    def __init__(self, encoder: ObservationEncoder, n_actions: int):
        super().__init__()
        self.encoder = encoder
        self.head = CategoricalPolicyHead(encoder.out_features, n_actions)

    def forward(self, obs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.head.logits(self.encoder(obs), mask)


class BehaviourCloningAgent:
    """A policy network fitted to a teacher's demonstrations (see the module docstring)."""

    Config: ClassVar[type[BehaviourCloningConfig]] = BehaviourCloningConfig

    def __init__(
        self,
        config: BehaviourCloningConfig,
        observation_space: gym.Space[Any],
        action_space: gym.Space[Any],
        seed: int = 0,
    ):
        if not isinstance(action_space, gym.spaces.Discrete):
            raise TypeError(f"behaviour cloning needs a Discrete action space, got {action_space}")
        self.config = config
        self.observation_space = observation_space
        self.n_actions = int(action_space.n)
        self.seed = seed
        self.network = self._fresh_network()
        self.rng = np.random.default_rng(seed)
        self.demonstrations: list[Demonstration] = []
        self.fit_result: FitResult | None = None

    def _fresh_network(self) -> PolicyNetwork:
        """The network as initialised from the seed (in eval mode)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            encoder = build_encoder(self.config.network, self.observation_space)
            return PolicyNetwork(encoder, self.n_actions).eval()

    # ----------------------------------------------------------------- acting

    def logits(self, obs: Any, info: Mapping[str, Any] | None = None) -> torch.Tensor:
        """Masked logits [A] for one observation."""
        mask = None if info is None else _mask_of(info)
        with torch.no_grad():
            batch = as_batch([obs], self.observation_space)
            mask_batch = None if mask is None else torch.as_tensor(mask[None])
            return self.network(batch, mask_batch)[0]

    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False
    ) -> int:
        """The argmax legal action; sampled from the softmax unless `deterministic`."""
        logits = self.logits(obs, info)
        if deterministic:
            return int(torch.argmax(logits))
        probs = torch.softmax(logits.double(), dim=-1).numpy()
        return int(self.rng.choice(self.n_actions, p=probs / probs.sum()))

    # ----------------------------------------------------------------- learning

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        env = run.begin(self, env_factory())
        if run.finished and self.fit_result is not None:
            env.close()
            return
        cfg = self.config
        teacher = make_teacher(cfg.teacher, env, cfg.gamma, cfg.theta)
        starts = non_terminal_states(env) if self.config.start_states == "uniform" else None
        while not run.finished:
            demo = record_episode(env, teacher, self.rng, self.config.exploration, starts)
            self.demonstrations.append(demo)
            run.end_episode(demo.episode_return, len(demo.actions))
        self.fit_result = self.fit_demonstrations(run)
        run.checkpoint()
        env.close()

    def fit_demonstrations(self, run: Run | None = None) -> FitResult:
        """Fit a freshly initialised network to every recorded step by cross-entropy.

        Starting from the seed's weights each time makes the result depend only on the
        demonstrations, so a run resumed with a larger budget ends as a longer run would.
        """
        self.network = self._fresh_network()
        observations, actions, masks = stack_demonstrations(self.demonstrations)
        obs = as_batch(observations, self.observation_space)
        inputs: Any = obs if masks is None else (obs, torch.as_tensor(masks))
        data = (inputs, torch.as_tensor(actions))
        result = fit(
            self.network, data, "cross_entropy", self.config.fit, metric="accuracy",
            seed=self.seed, run=run, tag="bc", progress=None if run is None else run.show_progress,
        )  # fmt: skip
        agreement = evaluate_loss(self.network, data, "cross_entropy", "accuracy").metric
        if run is not None:
            run.log(
                {
                    "bc/teacher_agreement": float(agreement or 0.0),
                    "bc/samples": len(actions),
                    "bc/best_epoch": result.best_epoch + 1,
                },
                run.step,
            )
        return result

    # ----------------------------------------------------------------- persistence

    def save(self, path: str | Path) -> None:
        torch.save({"network": self.network.state_dict()}, path)

    def load(self, path: str | Path) -> None:
        state = torch.load(path, map_location="cpu", weights_only=True)
        self._load_network(state["network"], str(path))

    def _load_network(self, weights: Mapping[str, Any], source: str) -> None:
        try:
            self.network.load_state_dict(weights)
        except RuntimeError as exc:
            raise ValueError(
                f"{source}: the weights do not fit this agent's network: {exc}"
            ) from None

    def state_dict(self) -> dict[str, Any]:
        return {
            "network": {k: v.clone() for k, v in self.network.state_dict().items()},
            "rng": self.rng.bit_generator.state,
            "demonstrations": [tuple(d) for d in self.demonstrations],
            "fit_result": None if self.fit_result is None else self.fit_result.to_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._load_network(state["network"], "checkpoint")
        self.rng.bit_generator.state = state["rng"]
        self.demonstrations = [Demonstration(*d) for d in state["demonstrations"]]
        result = state["fit_result"]
        self.fit_result = None if result is None else FitResult(**result)
