"""The `behaviour_cloning` agent: records demonstrations within the run's budget, fits the
student to them, and acts with it (see `agents.imitation`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from agents.base import EnvFactory
from agents.imitation.config import BehaviourCloningConfig
from agents.imitation.demonstrations import (
    Demonstration,
    action_mask,
    non_terminal_states,
    pad_demonstrations,
    record_episode,
    stack_demonstrations,
)
from agents.imitation.losses import sequence_accuracy, sequence_cross_entropy
from agents.imitation.network import PolicyNetwork
from agents.teachers import AgentTeacher, make_teacher
from rlcourse.files import load_data, save_data
from rlcourse.nn import Hidden, as_batch, build_encoder
from rlcourse.runs import Run
from rlcourse.supervised import FitResult, evaluate_loss, fit


class BehaviourCloningAgent:
    """A policy network fitted to a teacher's demonstrations (see `agents.imitation`)."""

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
        mask = None if info is None else action_mask(info)
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

    def actor_weights(self) -> dict[str, torch.Tensor]:
        """The student's weights keyed as an `ActorCritic`'s actor (PPO/A2C ``init_from``)."""
        return self.network.actor_weights()

    # ----------------------------------------------------------------- learning

    def learn(self, env_factory: EnvFactory, run: Run) -> None:
        env = run.begin(self, env_factory())
        if run.finished and self.fit_result is not None:
            env.close()
            return
        cfg = self.config
        teacher = make_teacher(cfg.teacher, env)
        starts = non_terminal_states(env) if cfg.start_states == "uniform" else None
        rounds, total = cfg.dagger_rounds, run.total_episodes
        if rounds and total is None:
            env.close()
            raise ValueError("agent.dagger_rounds needs train.episodes: each round plays a share")
        student = AgentTeacher(self)
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
