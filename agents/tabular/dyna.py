"""Planning with a learned model (Sutton & Barto, chapter 8): Dyna-Q, Dyna-Q+ and prioritized
sweeping, for deterministic environments.

All three act epsilon-greedily on Q and remember, for every state-action pair tried, the
reward, next state and whether the episode ended (`LearnedModel`). Between real steps they
make `planning_steps` Q-learning updates on transitions the model replays:

- `dyna_q` (§8.2): a direct Q-learning update on each real step, then updates on pairs drawn
  uniformly from those tried. With ``kappa > 0`` it is Dyna-Q+ (§8.3): planning rewards gain
  ``kappa * sqrt(steps since the pair was last tried)``, and planning may also pick actions
  never tried in a visited state, modelled as staying put with reward 0.
- `prioritized_sweeping` (§8.4): updates the pairs whose value would change most first,
  working backwards through the model's predecessors; a real step only feeds the queue.

Without a model of the environment, these are the model-free Q-learning of chapter 6 plus
replayed experience: "planning" here is learning from simulated experience.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat

from agents.tabular.base import TDConfig
from agents.tabular.targets import q_learning_target, td_update
from agents.tabular.td import QLearningAgent, Transition


def exploration_bonus(kappa: float, elapsed: float) -> float:
    """Dyna-Q+'s bonus reward ``kappa * sqrt(tau)`` for a pair last tried `elapsed` steps ago."""
    return kappa * float(np.sqrt(elapsed))


class LearnedModel:
    """A deterministic model [S, A]: `next_state` (-1 where never tried), `reward`, `ends`
    (the transition terminated), `last_tried` (the agent's step count when last tried), and
    the pairs in the order they were first tried (`order`, `tried` of them)."""

    def __init__(self, n_states: int, n_actions: int):
        self.next_state = np.full((n_states, n_actions), -1, dtype=np.int64)
        self.reward = np.zeros((n_states, n_actions))
        self.ends = np.zeros((n_states, n_actions), dtype=bool)
        self.last_tried = np.zeros((n_states, n_actions), dtype=np.int64)
        self.order = np.full(n_states * n_actions, -1, dtype=np.int64)
        self.tried = np.zeros((), dtype=np.int64)

    def record(self, t: Transition, step: int) -> None:
        s, a = t.state, t.action
        if self.next_state[s, a] < 0:
            self.order[int(self.tried)] = s * self.next_state.shape[1] + a
            self.tried += 1
        self.next_state[s, a], self.reward[s, a], self.ends[s, a] = (
            t.next_state,
            t.reward,
            t.terminated,
        )
        self.last_tried[s, a] = step

    def predecessors(self, state: int) -> np.ndarray:
        """[k, 2] the (state, action) pairs the model says lead to `state`."""
        return np.argwhere(self.next_state == state)

    def tables(self) -> dict[str, np.ndarray]:
        return {
            "model_next_state": self.next_state,
            "model_reward": self.reward,
            "model_ends": self.ends,
            "model_last_tried": self.last_tried,
            "model_order": self.order,
            "model_tried": self.tried,
        }


class DynaQConfig(TDConfig):
    name: Literal["dyna_q"] = "dyna_q"
    planning_steps: NonNegativeInt = Field(5, description="model updates per real step (n)")
    kappa: NonNegativeFloat = Field(0.0, description="Dyna-Q+ exploration bonus; 0: Dyna-Q")


class PrioritizedSweepingConfig(TDConfig):
    name: Literal["prioritized_sweeping"] = "prioritized_sweeping"
    planning_steps: NonNegativeInt = Field(5, description="most model updates per real step")
    theta: PositiveFloat = Field(1e-4, description="queue a pair whose update exceeds this")


class _ModelBased(QLearningAgent):
    """Q-learning that also fills a `LearnedModel`; subclasses plan with it in `learn_step`."""

    Config: ClassVar[type[TDConfig]] = DynaQConfig  # type: ignore[assignment]
    config: Any

    def __init__(
        self, config: Any, observation_space: gym.Space, action_space: gym.Space, seed: int = 0
    ):
        super().__init__(config, observation_space, action_space, seed)
        self.model = LearnedModel(self.n_states, self.n_actions)
        self.updates = 0  # Q updates made, real and planned (Example 8.4 counts them)

    def replayed_target(self, s: int, a: int, bonus: float = 0.0) -> float:
        """The Q-learning target of the model's transition from (s, a)."""
        m = self.model
        return q_learning_target(
            m.reward[s, a] + bonus,
            self.q[m.next_state[s, a]],
            self.config.gamma,
            bool(m.ends[s, a]),
        )

    def tables(self) -> dict[str, np.ndarray]:
        return {"q": self.q, **self.model.tables()}

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "updates": self.updates}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self.updates = int(state["updates"])


class DynaQAgent(_ModelBased):
    """Dyna-Q (and Dyna-Q+ with ``kappa > 0``): a real Q-learning update, then `planning_steps`
    updates on transitions replayed from the model."""

    Config = DynaQConfig
    config: DynaQConfig

    def learn_step(self, t: Transition) -> float:
        error = super().learn_step(t)
        self.model.record(t, self.steps)
        self.updates += 1
        for _ in range(self.config.planning_steps):
            self.plan_once()
        return error

    def plan_once(self) -> None:
        m, kappa = self.model, self.config.kappa
        pair = int(m.order[self.rng.integers(int(m.tried))])
        s, a = divmod(pair, self.n_actions)
        if kappa > 0.0:
            a = int(self.rng.integers(self.n_actions))  # Dyna-Q+ also plans untried actions
        if m.next_state[s, a] < 0:  # never tried: modelled as staying put with reward 0
            target = self.config.gamma * float(self.q[s].max()) + exploration_bonus(
                kappa, self.steps
            )
        else:
            bonus = exploration_bonus(kappa, self.steps - m.last_tried[s, a]) if kappa else 0.0
            target = self.replayed_target(s, a, bonus)
        td_update(self.q, s, a, target, self.alpha)
        self.updates += 1


class PrioritizedSweepingAgent(_ModelBased):
    """Prioritized sweeping (S&B §8.4): a queue of pairs by |TD error| drives the updates.

    `priority` [S, A] holds each queued pair's priority (0: not queued); the heap is rebuilt
    from it after a reload.
    """

    Config = PrioritizedSweepingConfig
    config: PrioritizedSweepingConfig

    def __init__(
        self, config: Any, observation_space: gym.Space, action_space: gym.Space, seed: int = 0
    ):
        super().__init__(config, observation_space, action_space, seed)
        self.priority = np.zeros((self.n_states, self.n_actions))
        self._heap: list[tuple[float, int, int]] = []

    def _queue(self, s: int, a: int) -> None:
        """Queue (s, a) with priority |target - Q(s, a)| when that exceeds theta (a queued pair
        keeps the larger of its priorities)."""
        p = abs(self.replayed_target(s, a) - float(self.q[s, a]))
        if p > self.config.theta and p > self.priority[s, a]:
            self.priority[s, a] = p
            heapq.heappush(self._heap, (-p, s, a))

    def _pop(self) -> tuple[int, int] | None:
        while self._heap:
            p, s, a = heapq.heappop(self._heap)
            if self.priority[s, a] == -p:  # not a stale entry of a pair queued again higher
                self.priority[s, a] = 0.0
                return s, a
        return None

    def learn_step(self, t: Transition) -> float:
        self.model.record(t, self.steps)
        error = self.replayed_target(t.state, t.action) - float(self.q[t.state, t.action])
        self._queue(t.state, t.action)
        for _ in range(self.config.planning_steps):
            pair = self._pop()
            if pair is None:
                break
            s, a = pair
            td_update(self.q, s, a, self.replayed_target(s, a), self.alpha)
            self.updates += 1
            for before, action in self.model.predecessors(s):
                self._queue(int(before), int(action))
        return error

    def tables(self) -> dict[str, np.ndarray]:
        return {**super().tables(), "priority": self.priority}

    def _rebuild_heap(self) -> None:
        queued = np.argwhere(self.priority > 0)
        self._heap = [(-float(self.priority[s, a]), int(s), int(a)) for s, a in queued]
        heapq.heapify(self._heap)

    def load(self, path: Any) -> None:
        super().load(path)
        self._rebuild_heap()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self._rebuild_heap()
