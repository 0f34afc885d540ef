"""`DrivingSim`: ``B`` independent driving scenes stepped together at the policy frequency.

Each policy step applies the ego actions, then runs ``simulation_frequency /
policy_frequency`` traffic steps (:func:`envs.driving.traffic.run`). Every other vehicle
reconsiders a lane change every ``LANE_CHANGE_PERIOD`` seconds, to the left and to the right
in turn, so that two vehicles never move into the same lane from both sides at once.

Under discrete meta-actions the whole policy step (actions, traffic, rewards, episode end,
action mask) runs in the C extension :mod:`envs.driving._sim`; :meth:`DrivingSim.step_reference`
is the same step in numpy, the oracle it is tested against and the step of continuous actions.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any, NamedTuple

import numpy as np

from envs.driving import _sim, traffic
from envs.driving.observations import observe
from envs.driving.rewards import TERM_NAMES, reward_terms, total_reward
from envs.driving.scenarios import DrivingConfig, spawn
from envs.driving.traffic import EgoControls, Vehicles

LANE_CHANGE_PERIOD = 1.0  # [s] (highway-env: LANE_CHANGE_DELAY)
MAX_ACCELERATION = 5.0  # continuous action +-1 [m/s²]
MAX_STEERING = np.pi / 4  # continuous action +-1 [rad]


class Action(IntEnum):
    """Discrete meta-actions (highway-env's order)."""

    LANE_LEFT = 0
    IDLE = 1
    LANE_RIGHT = 2
    FASTER = 3
    SLOWER = 4


ACTION_COUNT = len(Action)
TRACK_TARGETS = EgoControls()  # the ego tracks its target speed and keeps its target lane
LANE_STEP = np.array([-1, 0, 1, 0, 0])  # what each Action does to the target lane
SPEED_STEP = np.array([0, 0, 0, 1, -1])  # ... and to the index into target_speeds


class StepResult(NamedTuple):
    """What one policy step gives for every scene (``[B]`` arrays, ``[B, ...]`` observation)."""

    observation: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    rewards: dict[str, np.ndarray]  # the named terms
    action_mask: np.ndarray | None  # [B, 5] of the new state (discrete actions), else None


class DrivingSim:
    """The state of ``scenes`` scenes of one :class:`DrivingConfig` and the step that moves
    them. Nothing here resets by itself: :meth:`reset` chooses the scenes to start again."""

    def __init__(self, config: DrivingConfig, scenes: int = 1) -> None:
        if scenes < 1:
            raise ValueError(f"scenes must be >= 1, got {scenes}")
        self.config = config
        self.road = config.road
        self.scenes = scenes
        self.target_speeds = np.asarray(config.target_speeds, dtype=np.float64)
        self.vehicles = Vehicles.zeros(scenes, config.total_vehicles)
        self.time = np.zeros(scenes)  # [s]
        self.substep = np.zeros(scenes, np.int64)
        self.speed_index = np.zeros(scenes, np.int64)  # into target_speeds (discrete actions)
        self.start_x = np.zeros(scenes)  # [m]
        self.speed_sum = np.zeros(scenes)  # ego speed summed over policy steps [m/s]
        self.steps = np.zeros(scenes, np.int64)
        every = max(1, round(LANE_CHANGE_PERIOD * config.simulation_frequency))
        tick = np.arange(2 * every)  # one left-then-right cycle of substeps
        self.lane_change_cycle = np.where(tick % every == 0, np.where(tick < every, -1, 1), 0)
        self._substep_offsets = np.arange(config.substeps)[:, None]
        self._rows = np.arange(scenes)
        # the config's numbers for the C policy step, in the order of _sim.c's enum Setting
        self._settings = np.array([
            1.0 / config.policy_frequency, config.duration, self.road.length,
            config.collision_reward, config.high_speed_reward, config.right_lane_reward,
            config.lane_change_reward, *config.reward_speed_range,
            config.normalize_reward, config.offroad_terminal,
        ], dtype=np.float64)  # fmt: skip
        if len(self._settings) != _sim.SETTING_COUNT:
            raise ImportError(
                f"envs.driving._sim takes {_sim.SETTING_COUNT} settings, not {len(self._settings)}"
            )

    # ---------------------------------------------------------------------------- state

    def reset(self, rng: np.random.Generator, rows: np.ndarray | None = None) -> None:
        """Start new episodes in the scenes ``rows`` (all when None), drawn from ``rng``."""
        rows = np.arange(self.scenes) if rows is None else np.asarray(rows)
        fresh = spawn(self.config, rng, len(rows))
        self.vehicles.assign(rows, fresh)
        self.time[rows] = 0.0
        self.substep[rows] = 0
        self.speed_index[rows] = np.abs(self.target_speeds - fresh.target_speed[:, :1]).argmin(1)
        self.start_x[rows] = fresh.x[:, 0]
        self.speed_sum[rows] = 0.0
        self.steps[rows] = 0

    def observation(self) -> np.ndarray:
        c = self.config
        return observe(c.observation, self.vehicles, self.road, c.observed_vehicles)

    def action_mask(self) -> np.ndarray:
        """``[B, 5]`` bool: which :class:`Action` has an effect (IDLE always does)."""
        v = self.vehicles
        lane, x = v.target_lane[:, :1], v.x[:, :1]
        mask = np.empty((self.scenes, ACTION_COUNT), bool)
        mask[:, 0:3] = self.road.may_change(lane, lane + LANE_STEP[:3], x)  # LEFT, IDLE, RIGHT
        mask[:, 1] = True  # IDLE
        mask[:, 3] = self.speed_index < len(self.target_speeds) - 1  # FASTER
        mask[:, 4] = self.speed_index > 0  # SLOWER
        return mask

    def metrics(self) -> dict[str, np.ndarray]:
        """Episode-so-far metrics: ``collision`` (0/1), ``mean_speed`` [m/s] over policy steps,
        ``distance`` travelled along the road [m]."""
        return {
            "collision": self.vehicles.crashed[:, 0].astype(np.float64),
            "mean_speed": self.speed_sum / np.maximum(self.steps, 1),
            "distance": self.vehicles.x[:, 0] - self.start_x,
        }

    def info(self, action_mask: np.ndarray | None = None) -> dict[str, Any]:
        """Per-scene values of the current state (``[B]`` arrays); ``action_mask``, when given,
        is this state's (a step's :attr:`StepResult.action_mask`), else it is computed."""
        v = self.vehicles
        info: dict[str, Any] = {
            "speed": v.speed[:, 0].copy(),
            "lane": self.road.lane_of(v.y[:, 0]),
            "crashed": v.crashed[:, 0].copy(),
            "time": self.time.copy(),
            **self.metrics(),
        }
        if self.config.action == "discrete":
            info["action_mask"] = self.action_mask() if action_mask is None else action_mask
        return info

    # ----------------------------------------------------------------------------- step

    def step(self, actions: np.ndarray) -> StepResult:
        """One policy step of every scene: ``actions`` is ``[B]`` ints (discrete meta-actions:
        the whole step runs in C) or ``[B, 2]`` floats in ``[-1, 1]`` (acceleration, steering:
        :meth:`step_reference`)."""
        if self.config.action != "discrete":
            return self.step_reference(actions)
        c = self.config
        actions = np.asarray(actions)
        if actions.dtype.kind not in "iu" or actions.size != self.scenes:
            raise ValueError(
                f"discrete actions must be {self.scenes} ints in 0..{ACTION_COUNT - 1}, "
                f"got {actions!r}"
            )
        actions = np.ascontiguousarray(actions.reshape(self.scenes), dtype=np.int64)
        reward, terms = np.empty(self.scenes), np.empty((len(TERM_NAMES), self.scenes))
        terminated, truncated = np.empty(self.scenes, bool), np.empty(self.scenes, bool)
        mask = np.empty((self.scenes, ACTION_COUNT), bool)
        episode = (self.speed_index, self.substep, self.steps, self.time, self.speed_sum)
        _sim.policy_step(
            traffic.vehicle_arrays(self.vehicles), episode, self.scenes,
            self.vehicles.shape[1], traffic.PARAMS, *traffic.road_numbers(self.road),
            self._settings, self.target_speeds, 1.0 / c.simulation_frequency, c.substeps,
            self.lane_change_cycle, actions, reward, terminated, truncated, terms, mask,
        )  # fmt: skip
        rewards = dict(zip(TERM_NAMES, terms, strict=True))
        return StepResult(self.observation(), reward, terminated, truncated, rewards, mask)

    def step_reference(
        self, actions: np.ndarray, on_substep: Callable[[], None] | None = None
    ) -> StepResult:
        """:meth:`step` written with numpy arrays around :func:`envs.driving.traffic.run`;
        ``on_substep`` is called after each simulation step (to draw it), which runs the
        substeps one call each (the same arithmetic)."""
        c, v = self.config, self.vehicles
        if c.action == "discrete":
            lane_change = self._apply_meta_actions(np.asarray(actions).reshape(self.scenes))
            ego = TRACK_TARGETS
        else:
            a = np.asarray(actions, dtype=np.float64).reshape(self.scenes, 2)
            a = np.minimum(np.maximum(a, -1.0), 1.0)
            ego = EgoControls(a[:, 0] * MAX_ACCELERATION, a[:, 1] * MAX_STEERING)
            lane_change = np.zeros(self.scenes, bool)
        directions, dt = self._lane_change_directions(), 1.0 / c.simulation_frequency
        if on_substep is None:
            traffic.run(v, self.road, dt, directions, ego)
        else:
            for k in range(len(directions)):
                traffic.run(v, self.road, dt, directions[k : k + 1], ego)
                on_substep()
        self.substep += c.substeps
        self.time += 1.0 / c.policy_frequency
        self.steps += 1
        self.speed_sum += v.speed[:, 0]
        on_road = self.road.on_road(v.x[:, 0], v.y[:, 0])
        terms = reward_terms(v, self.road, c, lane_change)
        reward = total_reward(terms, c, on_road)
        terminated = v.crashed[:, 0] | (v.x[:, 0] > self.road.length)
        if c.offroad_terminal:
            terminated |= ~on_road
        truncated = (self.time >= c.duration - 1e-9) & ~terminated
        mask = self.action_mask() if c.action == "discrete" else None
        return StepResult(self.observation(), reward, terminated, truncated, terms, mask)

    def _apply_meta_actions(self, actions: np.ndarray) -> np.ndarray:
        if actions.dtype.kind not in "iu" or not ((actions >= 0) & (actions < ACTION_COUNT)).all():
            raise ValueError(
                f"discrete actions must be ints in 0..{ACTION_COUNT - 1}, got {actions}"
            )
        effective = self.action_mask()[self._rows, actions]
        taken = np.where(effective, actions, Action.IDLE.value)  # a masked action idles
        lane_step = LANE_STEP[taken]
        self.vehicles.target_lane[:, 0] += lane_step
        self.speed_index += SPEED_STEP[taken]
        self.vehicles.target_speed[:, 0] = self.target_speeds[self.speed_index]
        return lane_step != 0

    def _lane_change_directions(self) -> np.ndarray:
        """``[substeps, B]``: -1 (left) or +1 (right) on each scene's decision substeps of
        this policy step, else 0."""
        tick = (self.substep[None, :] + self._substep_offsets) % len(self.lane_change_cycle)
        return self.lane_change_cycle.take(tick)
