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

``teacher_input`` names an ``info`` key the teacher acts on instead of the observation, so a
teacher can show a student that sees something else: the dialogue's text env puts the belief
vector in ``info["belief"]``, and the rule policy reads it while the student reads the words.

With ``recurrent`` set the student is a recurrent policy (encoder, LSTM/GRU core, head, the
layout of a recurrent PPO/A2C policy, which can start from these weights with
``agent.init_from``): it is fitted on whole demonstrated episodes, padded to the longest, so
the core learns what to remember, and it carries its state from step to step when acting
(``reset_state()`` before each episode).

A teacher only shows what to do in the states it visits. Three settings widen that:
``exploration`` > 0 executes a uniformly random legal action instead of the teacher's with that
probability, while the teacher's action is still what is recorded (noise injection, as in
DART, Laskey et al. 2017), so the student sees the states just off the teacher's path;
``start_states: uniform`` starts every episode in a uniformly drawn non-terminal state of the
env's model (exploring starts), so states the teacher never heads for are demonstrated too; and
``dagger_rounds`` = R > 0 (DAgger, Ross et al. 2011) splits ``train.episodes`` into R + 1 equal
shares: the teacher drives the first, then the student is fitted to everything recorded so far
and drives the next share itself, the teacher still labelling every step, so the student learns
to recover from its own mistakes; after the last share it is fitted once more.
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
from pydantic import Field, NonNegativeInt, field_validator
from torch import nn
from torch.nn import functional as F

from agents.base import EnvFactory
from agents.pg.config import RecurrentSpec
from rlcourse.config import AgentConfig
from rlcourse.files import load_data, save_data
from rlcourse.nn import (
    CategoricalPolicyHead,
    Hidden,
    NetworkSpec,
    ObservationEncoder,
    RecurrentEncoder,
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
    teacher_input: str | None = Field(
        default=None,
        description="an info key whose value the teacher acts on instead of the observation",
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

    def reset_state(self) -> None:
        """A new episode: a recurrent agent forgets the last one."""
        reset = getattr(self.agent, "reset_state", None)
        if reset is not None:
            reset()


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


class InfoInputTeacher:
    """Another teacher, shown ``info[key]`` in place of the observation."""

    def __init__(self, teacher: Teacher, key: str):
        self.teacher, self.key = teacher, key

    def reset_state(self) -> None:
        _reset(self.teacher)

    def __call__(self, env: gym.Env, obs: Any, info: Mapping[str, Any]) -> int:
        if self.key not in info:
            raise ValueError(
                f"teacher_input {self.key!r}: the env's info has no such key "
                f"(it has {sorted(info)})"
            )
        return self.teacher(env, info[self.key], info)


def make_teacher(
    spec: str,
    env: gym.Env,
    gamma: float = 1.0,
    theta: float = 1e-10,
    input_key: str | None = None,
) -> Teacher:
    """The teacher `spec` names (see the module docstring) for `env`; `gamma` and `theta`
    only matter to planners; with `input_key` it acts on ``info[input_key]``."""
    teacher: Teacher
    if spec in PLANNERS:
        teacher = PlanningTeacher(env, spec, gamma, theta)
    elif "/" not in spec and not Path(spec).exists() and POLICY_CLASS.fullmatch(spec):
        teacher = PolicyTeacher(build_policy(spec, env))
    else:
        teacher = load_teacher(spec, env)
    return teacher if input_key is None else InfoInputTeacher(teacher, input_key)


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


def _reset(policy: Any) -> None:
    """Call ``policy.reset_state()`` if it has one (a recurrent policy, before an episode)."""
    reset = getattr(policy, "reset_state", None)
    if reset is not None:
        reset()


def record_episode(
    env: gym.Env,
    teacher: Teacher,
    rng: np.random.Generator,
    exploration: float = 0.0,
    start_states: np.ndarray | None = None,
    driver: Teacher | None = None,
) -> Demonstration:
    """Play one episode from ``env.reset()`` (no seed), recording the teacher's choices.

    With `start_states` [K] the episode starts in one of them drawn by `rng`
    (``env.reset(options={"state": s})``). `driver` (default: the teacher) chooses the actions
    that are executed, the teacher's are recorded; both are asked at every step.
    """
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    _reset(teacher)
    if driver is not None:
        _reset(driver)
    if start_states is None:
        obs, info = env.reset()
    else:
        obs, info = env.reset(options={"state": int(rng.choice(start_states))})
    observations, actions, masks = [], [], []
    total, done = 0.0, False
    while not done:
        label = teacher(env, obs, info)
        mask = _mask_of(info)
        executed = label if driver is None else driver(env, obs, info)
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
    driver: Teacher | None = None,
) -> list[Demonstration]:
    """`episodes` recorded episodes (seed the env with ``env.reset(seed=...)`` first)."""
    return [
        record_episode(env, teacher, rng, exploration, start_states, driver)
        for _ in range(episodes)
    ]


def pad_demonstrations(
    demos: Sequence[Demonstration],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """`demos` as sequences padded to the longest episode: observations [E, T, ...], actions
    [E, T], masks [E, T, A] or None, and which steps are real [E, T] (padding: zero
    observations, action 0, every action legal)."""
    if not demos:
        raise ValueError("no demonstrations to pad")
    steps = max(len(d.actions) for d in demos)
    first = demos[0].observations
    observations = np.zeros((len(demos), steps, *first.shape[1:]), dtype=first.dtype)
    actions = np.zeros((len(demos), steps), dtype=np.int64)
    valid = np.zeros((len(demos), steps), dtype=bool)
    has_masks = any(d.masks is not None for d in demos)
    n = max((d.masks.shape[1] for d in demos if d.masks is not None), default=0)
    masks = np.ones((len(demos), steps, n), dtype=bool) if has_masks else None
    for i, demo in enumerate(demos):
        length = len(demo.actions)
        observations[i, :length] = demo.observations
        actions[i, :length] = demo.actions
        valid[i, :length] = True
        if masks is not None and demo.masks is not None:
            masks[i, :length] = demo.masks
    return observations, actions, masks, valid


def sequence_cross_entropy(logits: torch.Tensor, targets: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Mean cross-entropy of logits [E, T, A] against actions [E, T] over the real steps
    (`targets` = (actions, valid [E, T]))."""
    actions, valid = targets
    losses = F.cross_entropy(logits.flatten(0, 1), actions.flatten(), reduction="none")
    return losses[valid.flatten()].mean()


def sequence_accuracy(logits: torch.Tensor, targets: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The fraction of real steps whose argmax is the teacher's action."""
    actions, valid = targets
    hits = (logits.argmax(dim=-1) == actions) & valid
    return hits.sum() / valid.sum()


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
    """Observations [B, ...] (+ action masks [B, A]) -> masked logits [B, A]; with a
    recurrent core, sequences [B, T, ...] (+ [B, T, A]) -> [B, T, A], each from the zero
    state."""

    def __init__(
        self, encoder: ObservationEncoder, n_actions: int, recurrent: RecurrentSpec | None = None
    ):
        super().__init__()
        self.encoder = encoder
        self.core: RecurrentEncoder | None = None
        features = encoder.out_features
        if recurrent is not None:
            self.core = RecurrentEncoder(
                features, recurrent.hidden_size, recurrent.cell, recurrent.num_layers
            )
            features = self.core.out_features
        self.head = CategoricalPolicyHead(features, n_actions)

    def forward(self, obs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.run(obs, mask)[0]

    def run(
        self, obs: torch.Tensor, mask: torch.Tensor | None = None, hidden: Hidden | None = None
    ) -> tuple[torch.Tensor, Hidden | None]:
        """(masked logits, the core's state after the last step; None without a core)."""
        if self.core is None:
            return self.head.logits(self.encoder(obs), mask), None
        batch, steps = obs.shape[:2]
        features = self.encoder(obs.flatten(0, 1)).view(batch, steps, -1)
        out, hidden = self.core(features, hidden)
        return self.head.logits(out, mask), hidden


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
        self.rounds_fitted = 0  # DAgger rounds whose student has been fitted
        self._hidden: Hidden | None = None

    def _fresh_network(self) -> PolicyNetwork:
        """The network as initialised from the seed (in eval mode)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            encoder = build_encoder(self.config.network, self.observation_space)
            return PolicyNetwork(encoder, self.n_actions, self.config.recurrent).eval()

    # ----------------------------------------------------------------- acting

    def reset_state(self) -> None:
        """Forget what a recurrent student remembers: call it before each new episode."""
        self._hidden = None

    def logits(self, obs: Any, info: Mapping[str, Any] | None = None) -> torch.Tensor:
        """Masked logits [A] for one observation (a recurrent student: the next step of the
        episode, remembered since `reset_state`)."""
        mask = None if info is None else _mask_of(info)
        with torch.no_grad():
            batch = as_batch([obs], self.observation_space)
            mask_batch = None if mask is None else torch.as_tensor(mask[None])
            if self.network.core is None:
                return self.network(batch, mask_batch)[0]
            mask_batch = None if mask_batch is None else mask_batch[:, None]
            logits, self._hidden = self.network.run(batch[:, None], mask_batch, self._hidden)
            return logits[0, 0]

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
        teacher = make_teacher(cfg.teacher, env, cfg.gamma, cfg.theta, cfg.teacher_input)
        starts = non_terminal_states(env) if self.config.start_states == "uniform" else None
        rounds, total = cfg.dagger_rounds, run.total_episodes
        if rounds and total is None:
            env.close()
            raise ValueError("agent.dagger_rounds needs train.episodes: each round plays a share")
        student = AgentTeacher(self, reads_state=False)
        while not run.finished:
            round_now = min(run.episode * (rounds + 1) // total, rounds) if rounds and total else 0
            if round_now > self.rounds_fitted:
                self.fit_result = self.fit_demonstrations(run)
                self.rounds_fitted = round_now
            driver = student if round_now else None
            demo = record_episode(env, teacher, self.rng, cfg.exploration, starts, driver)
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
        self.reset_state()
        data, loss, metric = self._training_data()
        result = fit(
            self.network, data, loss, self.config.fit, metric=metric,
            seed=self.seed, run=run, tag="bc", progress=None if run is None else run.show_progress,
        )  # fmt: skip
        self.network.eval()
        agreement = evaluate_loss(self.network, data, loss, metric).metric
        if run is not None:
            run.log(
                {
                    "bc/teacher_agreement": float(agreement or 0.0),
                    "bc/samples": sum(len(d.actions) for d in self.demonstrations),
                    "bc/best_epoch": result.best_epoch + 1,
                },
                run.step,
            )
        return result

    def _training_data(self) -> tuple[Any, Any, Any]:
        """(data for `fit`, its loss, its metric): single steps, or for a recurrent student
        whole episodes with the cross-entropy over their real steps."""
        if self.network.core is None:
            observations, actions, masks = stack_demonstrations(self.demonstrations)
            targets: Any = torch.as_tensor(actions)
            loss: Any = "cross_entropy"
            metric: Any = "accuracy"
        else:
            observations, actions, masks, valid = pad_demonstrations(self.demonstrations)
            targets = (torch.as_tensor(actions), torch.as_tensor(valid))
            loss, metric = sequence_cross_entropy, sequence_accuracy
        leading = observations.shape[: observations.ndim - len(self.observation_space.shape or ())]
        flat = observations.reshape(-1, *observations.shape[len(leading) :])  # [N, *obs_shape]
        obs = as_batch(flat, self.observation_space).view(*leading, *flat.shape[1:])
        inputs: Any = obs if masks is None else (obs, torch.as_tensor(masks))
        return (inputs, targets), loss, metric

    # ----------------------------------------------------------------- persistence

    def save(self, path: str | Path) -> None:
        """The network's weights, written atomically as data."""
        save_data(path, {"network": self.network.state_dict()})

    def load(self, path: str | Path) -> None:
        """Read an agent file as data (`rlcourse.files.FileError` naming it when it is not)."""
        state = load_data(path)
        self._load_network(state["network"], str(path))

    def _load_network(self, weights: Mapping[str, Any], source: str) -> None:
        try:
            self.network.load_state_dict(weights)
        except RuntimeError as exc:
            raise ValueError(
                f"{source}: the weights do not fit this agent's network: {exc}"
            ) from None
        self.reset_state()

    def state_dict(self) -> dict[str, Any]:
        return {
            "network": {k: v.clone() for k, v in self.network.state_dict().items()},
            "rng": self.rng.bit_generator.state,
            "demonstrations": [tuple(d) for d in self.demonstrations],
            "fit_result": None if self.fit_result is None else self.fit_result.to_dict(),
            "rounds_fitted": self.rounds_fitted,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._load_network(state["network"], "checkpoint")
        self.rng.bit_generator.state = state["rng"]
        self.demonstrations = [Demonstration(*d) for d in state["demonstrations"]]
        result = state["fit_result"]
        self.fit_result = None if result is None else FitResult(**result)
        self.rounds_fitted = state.get("rounds_fitted", 0)
