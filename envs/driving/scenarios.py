"""Scenario settings (:class:`DrivingConfig`) and the random initial traffic of each scenario.

- ``highway``: a straight road of ``lanes`` lanes; the ego starts behind a column of
  ``vehicles`` vehicles placed one after another in random lanes, about one vehicle per
  ``(12 + speed) exp(-5 lanes / 40) / density`` metres (highway-env's spacing).
- ``merge``: ``lanes`` main lanes and an on-ramp on their right that ends at ``ramp_end``;
  lane changes from the ramp are allowed from ``merge_start``. The ego drives on the main
  road among ``vehicles`` vehicles (up to two of them behind it); ``ramp_vehicles`` vehicles
  start on the ramp and must merge. The episode ends when the ego passes ``road_end``.
- ``roundabout``: a ring of ``lanes`` lanes, ``2 pi ring_radius`` metres round (driven
  anticlockwise: lane 0 is the innermost), with ``vehicles`` vehicles spread around it and an
  entry lane on its outside from ``x = 0`` to ``ENTRY_END`` of the way round, merging from
  ``ENTRY_MERGE_START``. The ego starts at the entry's beginning behind ``ramp_vehicles``
  other entering vehicles, must merge, and leaves the ring (the episode ends) at ``EXIT`` of
  a lap, on the far side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from envs.driving import idm, traffic
from envs.driving.road import Ramp, Road
from envs.driving.traffic import CAR, EGO, RAMP_STOP_MARGIN, TRUCK, Vehicles

SCENARIOS = ("highway", "merge", "roundabout")
OBSERVATIONS = ("kinematics", "occupancy_grid", "rgb")
ACTIONS = ("discrete", "continuous")

CAR_SIZE = (5.0, 2.0)  # length, width [m]
TRUCK_SIZE = (9.0, 2.5)  # [m]
TRUCK_SPEED_FACTOR = 0.85  # trucks want this fraction of a car's speed
EGO_SPEED = 25.0  # [m/s]
EGO_SPACING = 2.0  # the ego's gap to the first vehicle, in units of the default spacing
DELTA_RANGE = (3.5, 4.5)  # IDM exponent
TIME_HEADWAY_RANGE = (1.2, 1.8)  # [s]
POLITENESS_RANGE = (0.0, 0.5)
INITIAL_SPEED_RANGE = (0.7, 0.8)  # fraction of the speed limit
RAMP_SPEED = 20.0  # [m/s]
ENTRY_MERGE_START = 0.2  # roundabout entry: merging allowed from here [fraction of a lap]
ENTRY_END = 0.35  # where the entry lane ends [fraction of a lap]
EXIT = ENTRY_END + 0.5  # where the ego leaves the ring, opposite its entry [fraction of a lap]
ENTRY_SPACING = 15.0  # between vehicles starting on the roundabout's entry lane [m]
RING_SPACING = 16.0  # room per vehicle on the ring: at least 9.6 m between centres [m]


@dataclass(frozen=True)
class DrivingConfig:
    """Everything a driving scene is made from; see :class:`envs.driving.env.DrivingEnv`."""

    scenario: Literal["highway", "merge", "roundabout"] = "highway"
    lanes: int = 4
    vehicles: int = 50
    density: float = 1.0
    truck_fraction: float = 0.1
    duration: float = 40.0  # [s]
    simulation_frequency: int = 15  # [Hz]
    policy_frequency: int = 1  # [Hz]
    observation: Literal["kinematics", "occupancy_grid", "rgb"] = "kinematics"
    observed_vehicles: int = 5
    action: Literal["discrete", "continuous"] = "discrete"
    target_speeds: tuple[float, ...] = (20.0, 25.0, 30.0)  # [m/s]
    speed_limit: float = 30.0  # [m/s]
    reward_speed_range: tuple[float, float] = (20.0, 30.0)  # [m/s]
    collision_reward: float = -1.0
    high_speed_reward: float = 0.4
    right_lane_reward: float = 0.1
    lane_change_reward: float = 0.0
    normalize_reward: bool = True
    offroad_terminal: bool = True
    ramp_vehicles: int = 1
    merge_start: float = 230.0  # [m]
    ramp_end: float = 310.0  # [m]
    road_end: float = 370.0  # [m]
    ego_x: float = 30.0  # merge: the ego's start [m]
    ring_radius: float = 40.0  # roundabout: radius of the ring [m]

    def __post_init__(self) -> None:
        checks = {
            "scenario": self.scenario in SCENARIOS,
            "observation": self.observation in OBSERVATIONS,
            "action": self.action in ACTIONS,
            "lanes": self.lanes >= 1,
            "vehicles": self.vehicles >= 0,
            "ramp_vehicles": self.ramp_vehicles >= 0,
            "density": self.density > 0,
            "truck_fraction": 0.0 <= self.truck_fraction <= 1.0,
            "duration": self.duration > 0,
            "simulation_frequency": self.simulation_frequency >= 1,
            "policy_frequency": 1 <= self.policy_frequency <= self.simulation_frequency,
            "observed_vehicles": self.observed_vehicles >= 1,
            "target_speeds": len(self.target_speeds) >= 1
            and all(0 <= s <= 40 for s in self.target_speeds),
            "speed_limit": self.speed_limit > 0,
            "reward_speed_range": self.reward_speed_range[0] < self.reward_speed_range[1],
            "merge_start": 0 < self.merge_start < self.ramp_end < self.road_end,
            "ring_radius": self.ring_radius > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise ValueError(f"invalid driving settings: {values}")
        if self.scenario == "roundabout":
            self._check_roundabout_room()
        if self.simulation_frequency % self.policy_frequency:
            raise ValueError(
                f"simulation_frequency ({self.simulation_frequency}) must be a multiple of "
                f"policy_frequency ({self.policy_frequency})"
            )

    def _check_roundabout_room(self) -> None:
        ring = 2 * np.pi * self.ring_radius
        most = int(ring // RING_SPACING)
        if self.vehicles > most:
            raise ValueError(
                f"invalid driving settings: vehicles={self.vehicles} do not fit on a ring of "
                f"ring_radius={self.ring_radius} m (at most {most}, one per {RING_SPACING} m)"
            )
        entering = int((ENTRY_END * ring - RAMP_STOP_MARGIN) // ENTRY_SPACING)
        if self.ramp_vehicles > entering:
            raise ValueError(
                f"invalid driving settings: ramp_vehicles={self.ramp_vehicles} do not fit on "
                f"the entry lane of a ring of ring_radius={self.ring_radius} m (at most "
                f"{entering})"
            )

    @property
    def road(self) -> Road:
        if self.scenario == "roundabout":
            ring = 2 * np.pi * self.ring_radius
            entry = Ramp(ENTRY_MERGE_START * ring, ENTRY_END * ring)
            return Road(
                self.lanes, speed_limit=self.speed_limit, ramp=entry, length=EXIT * ring,
                circumference=ring,
            )  # fmt: skip
        if self.scenario == "merge":
            ramp = Ramp(self.merge_start, self.ramp_end)
            return Road(self.lanes, speed_limit=self.speed_limit, ramp=ramp, length=self.road_end)
        return Road(self.lanes, speed_limit=self.speed_limit)

    @property
    def substeps(self) -> int:
        """Simulation steps per policy step."""
        return self.simulation_frequency // self.policy_frequency

    @property
    def total_vehicles(self) -> int:
        """The ego plus everyone else."""
        has_ramp = self.scenario in ("merge", "roundabout")
        return 1 + self.vehicles + (self.ramp_vehicles if has_ramp else 0)


def spawn(config: DrivingConfig, rng: np.random.Generator, scenes: int) -> Vehicles:
    """Initial traffic of ``scenes`` independent scenes, vehicle 0 the ego."""
    if config.scenario == "roundabout":
        return _spawn_roundabout(config, rng, scenes)
    road = config.road
    v = Vehicles.zeros(scenes, config.total_vehicles)
    main = 1 + config.vehicles
    _draw_drivers(v, config, rng)
    lanes = rng.integers(0, config.lanes, size=(scenes, main))
    speeds = rng.uniform(*INITIAL_SPEED_RANGE, size=(scenes, main)) * config.speed_limit
    speeds[:, 0] = EGO_SPEED
    spacing = np.full((scenes, main), 1.0 / config.density)
    spacing[:, 0] = EGO_SPACING
    offset = spacing * (12.0 + speeds) * np.exp(-5.0 / 40.0 * config.lanes)
    jitter = rng.uniform(0.9, 1.1, size=(scenes, main))
    gaps = offset * jitter
    gaps[:, 0] = offset[:, 0] * (3.0 + jitter[:, 0])  # highway-env's first vehicle
    # highway-env's spacing is for 5 m cars: trucks add their extra length
    length = v.length[:, :main]
    gaps[:, 1:] += 0.5 * (length[:, 1:] + length[:, :-1]) - CAR_SIZE[0]
    x = np.cumsum(gaps, axis=1)
    if config.scenario == "merge":
        # the ego takes the place of the first, second or third vehicle of the column (so up
        # to two start behind it) and the column moves so that the ego starts at ego_x
        ego_at = np.minimum(rng.integers(0, 3, size=scenes), config.vehicles)
        x_ego = x[np.arange(scenes), ego_at]
        order = np.argsort(np.arange(main)[None, :] != ego_at[:, None], axis=1, kind="stable")
        x, lanes, speeds = (np.take_along_axis(a, order, 1) for a in (x, lanes, speeds))
        x += config.ego_x - x_ego[:, None]
        speeds[:, 0] = EGO_SPEED
    v.x[:, :main] = x
    v.y[:, :main] = road.lane_center(lanes)
    v.target_lane[:, :main] = lanes
    v.speed[:, :main] = speeds
    v.target_speed[:, :main] = speeds
    if config.scenario == "merge" and config.ramp_vehicles:
        ramp = slice(main, None)
        n = config.ramp_vehicles
        v.x[:, ramp] = 60.0 + np.cumsum(rng.uniform(25.0, 40.0, size=(scenes, n)), axis=1)
        v.y[:, ramp] = road.lane_center(road.ramp_lane)
        v.target_lane[:, ramp] = road.ramp_lane
        v.speed[:, ramp] = RAMP_SPEED
        v.target_speed[:, ramp] = config.speed_limit
    _finish(v, config, EGO_SPEED)
    return v


def _spawn_roundabout(config: DrivingConfig, rng: np.random.Generator, scenes: int) -> Vehicles:
    road = config.road
    ring = road.circumference or 0.0
    v = Vehicles.zeros(scenes, config.total_vehicles)
    _draw_drivers(v, config, rng)
    n = config.vehicles
    on_ring = slice(1, 1 + n)
    slots = np.arange(n) + rng.uniform(-0.2, 0.2, size=(scenes, n))  # [fraction of a share]
    v.x[:, on_ring] = (slots * (ring / max(n, 1)) + rng.uniform(0, ring, (scenes, 1))) % ring
    lanes = rng.integers(0, config.lanes, size=(scenes, n))
    v.y[:, on_ring] = road.lane_center(lanes)
    v.target_lane[:, on_ring] = lanes
    speeds = rng.uniform(*INITIAL_SPEED_RANGE, size=(scenes, n)) * config.speed_limit
    v.speed[:, on_ring] = v.target_speed[:, on_ring] = speeds
    entering = np.r_[0, 1 + n : config.total_vehicles]  # the ego last in the entry queue
    v.x[:, entering] = ENTRY_SPACING * np.arange(len(entering))
    v.y[:, entering] = road.lane_center(road.ramp_lane)
    v.target_lane[:, entering] = road.ramp_lane
    entry_speed = min(RAMP_SPEED, config.speed_limit)
    v.speed[:, entering] = entry_speed
    v.target_speed[:, entering] = config.speed_limit
    _finish(v, config, entry_speed)
    return v


def _finish(v: Vehicles, config: DrivingConfig, ego_speed: float) -> None:
    """Trucks slower, the ego's target speed the one nearest ``ego_speed``, nobody above the
    speed limit, and a calm start."""
    trucks = v.kind == TRUCK
    v.target_speed[trucks] *= TRUCK_SPEED_FACTOR
    v.target_speed[:, 0] = _nearest(config.target_speeds, ego_speed)
    np.minimum(v.target_speed, config.speed_limit, out=v.target_speed)
    _calm_start(v, config.road)


def _calm_start(v: Vehicles, road: Road) -> None:
    """Slow down vehicles that start too close behind their leader: at most the speed whose
    IDM desired gap ``s0 + v T`` is the gap they have (dense traffic would otherwise start
    with emergency stops)."""
    gap = traffic.leader_gaps(v, road)
    safe = np.maximum(gap - idm.JAM_GAP, 0.0) / v.time_headway
    np.minimum(v.speed, safe, out=v.speed)


def _draw_drivers(v: Vehicles, config: DrivingConfig, rng: np.random.Generator) -> None:
    shape = v.shape
    is_truck = rng.random(shape) < config.truck_fraction
    is_truck[:, 0] = False
    v.kind[:] = np.where(is_truck, TRUCK, CAR)
    v.kind[:, 0] = EGO
    v.length[:] = np.where(is_truck, TRUCK_SIZE[0], CAR_SIZE[0])
    v.width[:] = np.where(is_truck, TRUCK_SIZE[1], CAR_SIZE[1])
    v.delta[:] = rng.uniform(*DELTA_RANGE, size=shape)
    v.time_headway[:] = rng.uniform(*TIME_HEADWAY_RANGE, size=shape)
    v.politeness[:] = rng.uniform(*POLITENESS_RANGE, size=shape)
    v.delta[:, 0] = idm.DELTA
    v.time_headway[:, 0] = idm.TIME_HEADWAY
    v.politeness[:, 0] = 0.0


def _nearest(values: tuple[float, ...], value: float) -> float:
    return float(min(values, key=lambda s: abs(s - value)))
