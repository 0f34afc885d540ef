"""Traffic on ``[B, V]`` arrays: who is next to whom, IDM and MOBIL, collisions, and the
step.

Vehicle 0 of each scene is the ego. Every vehicle follows IDM along its lane and the others
decide lane changes with MOBIL; given :class:`EgoControls`, the ego takes its acceleration
(and, when given, its steering) from them instead, otherwise it drives like the traffic,
keeping its lane.
A vehicle occupies every lane its box reaches across the road and its target lane: while
changing lanes (or straddling a marking) it is the leader of the followers in each.

:func:`step` and :func:`run` advance the scenes with the C extension
:mod:`envs.driving._sim`; :func:`step_reference` is the same step written with the numpy
functions below, the oracle the C step is tested against (and :func:`leader_gaps_reference`
that of :func:`leader_gaps`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from envs.driving import _sim, dynamics, idm, mobil
from envs.driving.dynamics import bicycle_step, lane_keeping_steering, speed_control
from envs.driving.road import Road

EGO, CAR, TRUCK = 0, 1, 2  # vehicle kinds
SETTLED_OFFSET = 0.5  # a vehicle closer than this to its target lane's centre is in it [m]
RAMP_STOP_MARGIN = 15.0  # a ramp vehicle not yet merging stops this far from the end [m]


@dataclass
class Vehicles:
    """``[B, V]`` arrays: pose [m, rad], speed [m/s], size [m] and driver parameters."""

    x: np.ndarray
    y: np.ndarray
    heading: np.ndarray
    speed: np.ndarray
    length: np.ndarray
    width: np.ndarray
    kind: np.ndarray  # EGO, CAR or TRUCK
    target_lane: np.ndarray  # int64
    target_speed: np.ndarray  # [m/s]
    delta: np.ndarray  # IDM acceleration exponent
    time_headway: np.ndarray  # IDM desired time gap [s]
    politeness: np.ndarray  # MOBIL politeness
    crashed: np.ndarray  # bool

    @classmethod
    def zeros(cls, scenes: int, vehicles: int) -> Vehicles:
        shape = (scenes, vehicles)
        dtypes = {"kind": np.int8, "target_lane": np.int64, "crashed": bool}
        return cls(**{f.name: np.zeros(shape, dtypes.get(f.name, np.float64)) for f in fields(cls)})

    @property
    def shape(self) -> tuple[int, int]:
        return self.x.shape

    def assign(self, rows: np.ndarray, other: Vehicles) -> None:
        """Overwrite the scenes ``rows`` with the scenes of ``other`` (in order)."""
        for f in fields(self):
            getattr(self, f.name)[rows] = getattr(other, f.name)

    def copy(self) -> Vehicles:
        return Vehicles(**{f.name: getattr(self, f.name).copy() for f in fields(self)})


class EgoControls(NamedTuple):
    """Controls of each scene's ego, ``[B]``: acceleration [m/s²], None to track its target
    speed (:func:`envs.driving.dynamics.speed_control`); steering [rad], None to keep its
    target lane like the traffic. Given steering, the ego claims the lane it drives in."""

    acceleration: np.ndarray | None = None
    steering: np.ndarray | None = None


class Leaders(NamedTuple):
    """For each vehicle ``[B, V]``, a neighbour and the bumper-to-bumper gap to it [m] (``inf``
    where there is none, the neighbour then being arbitrary). The neighbour is given as an
    index into the flattened ``[B * V]`` arrays (see :func:`flat_index`)."""

    vehicle: np.ndarray
    gap: np.ndarray


class Scene(NamedTuple):
    """Who is next to whom at one instant, from the vehicles sorted by where they are along
    the road.

    ``ahead_table[b, p, l]`` is the sorted position of the first vehicle after sorted position
    ``p`` that occupies lane ``l``, ``behind_table`` of the last one before it; a lane with
    nobody there points one past either end of the order, where the padded sorted ``x`` is
    ``+inf`` or ``-inf``. Queries are then lookups, with no ``[V, V]`` comparisons. ``lane``
    is the lane nearest each vehicle's centre, the one it drives in. The order has ``N = V``
    positions, or ``3 V`` on a ring (see :func:`scene_of`).
    """

    x: np.ndarray  # [B, V] where each vehicle is along the road (Road.place)
    length: np.ndarray  # [B, V]
    lane: np.ndarray  # [B, V] lane nearest each vehicle
    target: np.ndarray  # [B, V] target lane
    sorted_vehicle: np.ndarray  # [B, N + 2] flat vehicle indices by x, padded at both ends
    sorted_x: np.ndarray  # [B, N + 2] their x, -inf and +inf at the pads
    ahead_table: np.ndarray  # [B, N, lanes] flat indices into the padded arrays
    behind_table: np.ndarray  # [B, N, lanes]
    rank_rows: np.ndarray  # [B, V] flat index of each vehicle's row in the tables

    def ahead(self, lanes: np.ndarray) -> Leaders:
        """The nearest vehicle ahead of each vehicle that occupies its ``lanes[b, i]``."""
        return self._lookup(self.ahead_table, lanes, +1.0)

    def behind(self, lanes: np.ndarray) -> Leaders:
        """The nearest vehicle behind each vehicle that occupies its ``lanes[b, i]``."""
        return self._lookup(self.behind_table, lanes, -1.0)

    def _lookup(self, table: np.ndarray, lanes: np.ndarray, sign: float) -> Leaders:
        n_lanes = table.shape[2]
        inside = np.minimum(np.maximum(lanes, 0), n_lanes - 1)
        slot = table.take(self.rank_rows + inside)
        other = self.sorted_vehicle.take(slot)
        gap = sign * (self.sorted_x.take(slot) - self.x)
        gap -= 0.5 * (self.length.take(other) + self.length)
        gap[inside != lanes] = np.inf  # nobody is in a lane off the road
        return Leaders(other, gap)


def scene_of(v: Vehicles, road: Road) -> Scene:
    """The neighbour tables of every scene. On a ring the sorted order is laid out three
    times, a circumference apart, and each vehicle looks from the middle copy: the nearest
    occupant of a lane may then be found round the ring (the vehicle itself, a lap away, when
    it is alone in its lane)."""
    scenes, count = v.shape
    place = road.place(v.x)
    lane, target = road.lane_of(v.y), v.target_lane
    sorted_ids = np.argsort(place, axis=1, kind="stable")
    order = sorted_ids + np.arange(0, scenes * count, count)[:, None]
    rank = np.argsort(sorted_ids, axis=1)
    laps = (-1, 0, 1) if road.circumference is not None else (0,)
    length = count * len(laps)  # of the laid-out order
    padded = np.arange(0, scenes * (length + 2), length + 2)[:, None]  # flat start of each row
    sorted_vehicle = np.empty((scenes, length + 2), np.int64)
    sorted_vehicle[:, [0, -1]] = order[:, :1]  # any vehicle: its gap is infinite anyway
    sorted_vehicle[:, 1:-1] = np.tile(order, len(laps))
    sorted_x = np.empty((scenes, length + 2))
    sorted_x[:, 0], sorted_x[:, -1] = -np.inf, np.inf
    sorted_place = place.take(order)
    sorted_x[:, 1:-1] = np.concatenate(
        [sorted_place + lap * (road.circumference or 0.0) for lap in laps], axis=1
    )
    lanes = np.arange(road.total_lanes)
    half_y = 0.5 * (v.length * np.abs(np.sin(v.heading)) + v.width * np.abs(np.cos(v.heading)))
    reach_left = road.lane_of((v.y - half_y).take(order))[..., None]
    reach_right = road.lane_of((v.y + half_y).take(order))[..., None]
    occupied = (reach_left <= lanes) & (reach_right >= lanes)
    occupied |= target.take(order)[..., None] == lanes
    occupied = np.tile(occupied, (1, len(laps), 1))
    slot = np.arange(1, length + 1)[None, :, None] + padded[..., None]  # padded positions
    ahead = np.empty((scenes, length, len(lanes)), np.int64)
    ahead[:, -1] = padded + length + 1
    ahead[:, :-1] = np.minimum.accumulate(
        np.where(occupied[:, :0:-1], slot[:, :0:-1], padded[..., None] + length + 1), axis=1
    )[:, ::-1]
    behind = np.empty_like(ahead)
    behind[:, 0] = padded
    behind[:, 1:] = np.maximum.accumulate(
        np.where(occupied[:, :-1], slot[:, :-1], padded[..., None]), axis=1
    )
    middle = count * (len(laps) // 2)  # where the looking copy starts
    rank_rows = (rank + middle + np.arange(0, scenes * length, length)[:, None]) * len(lanes)
    return Scene(place, v.length, lane, target, sorted_vehicle, sorted_x, ahead, behind, rank_rows)


def flat_index(index: np.ndarray) -> np.ndarray:
    """``[B, V]`` vehicle indices within each scene -> indices into flattened ``[B * V]``."""
    scenes, count = index.shape
    return index + np.arange(0, scenes * count, count)[:, None]


def gather(values: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """``values`` ``[B, V]`` at the flat indices ``flat`` (see :func:`flat_index`)."""
    return values.take(flat)


def following_acceleration(
    v: Vehicles, leader: Leaders, follower: np.ndarray | None = None
) -> np.ndarray:
    """IDM acceleration of each vehicle (or of the vehicles at the flat indices ``follower``)
    behind ``leader``, with the follower's own parameters."""
    speed, target_speed, delta, time_headway = v.speed, v.target_speed, v.delta, v.time_headway
    if follower is not None:
        speed, target_speed = gather(speed, follower), gather(target_speed, follower)
        delta, time_headway = gather(delta, follower), gather(time_headway, follower)
    return idm.idm_acceleration(
        speed, target_speed, leader.gap, gather(v.speed, leader.vehicle), delta, time_headway
    )


def lane_acceleration(v: Vehicles, road: Road, scene: Scene) -> tuple[np.ndarray, Leaders]:
    """IDM acceleration of every vehicle given the leaders in its lane and its target lane
    (the lower of the two) and, for vehicles on a ramp that have not begun to merge, a stop
    ``RAMP_STOP_MARGIN`` before its end; also the leaders in its own lane."""
    own = scene.ahead(scene.lane)
    accel = following_acceleration(v, own)
    changing = scene.target != scene.lane
    if changing.any():
        target = scene.ahead(scene.target)
        accel = np.where(changing, np.minimum(accel, following_acceleration(v, target)), accel)
    if road.ramp is not None:
        waiting = (scene.lane == road.ramp_lane) & (scene.target == road.ramp_lane)
        if waiting.any():  # stop before the ramp ends, with room left to move over
            to_end = road.ramp.end - RAMP_STOP_MARGIN - scene.x - 0.5 * v.length
            end_accel = idm.idm_acceleration(
                v.speed, v.target_speed, to_end, 0.0, v.delta, v.time_headway
            )
            accel = np.where(waiting, np.minimum(accel, end_accel), accel)
    return accel, own


def lane_changes(
    v: Vehicles,
    road: Road,
    scene: Scene,
    own_leader: Leaders,
    self_accel: np.ndarray,
    direction: np.ndarray | int,
) -> np.ndarray:
    """MOBIL: which vehicles start a change to the lane on their left (``direction = -1``) or
    right (``+1``), per scene (``[B, 1]``) or for all. Only settled, uncrashed, non-ego
    vehicles decide."""
    candidate = scene.lane + direction
    settled = (scene.target == scene.lane) & (
        np.abs(v.y - road.lane_center(scene.lane)) < SETTLED_OFFSET
    )
    deciding = road.may_change(scene.lane, candidate, v.x) & settled & ~v.crashed
    deciding &= v.kind != EGO
    if not deciding.any():
        return deciding
    self_index = flat_index(np.broadcast_to(np.arange(v.shape[1]), v.shape))
    new_leader = scene.ahead(candidate)
    new_follower = scene.behind(candidate)
    old_follower = scene.behind(scene.lane)
    between_new = _gap_between(v, new_follower, new_leader)
    between_old = _gap_between(v, old_follower, own_leader)
    has_new = np.isfinite(new_follower.gap)
    has_old = np.isfinite(old_follower.gap)
    new_f, old_f = new_follower.vehicle, old_follower.vehicle
    acc = mobil.LaneChangeAccelerations(
        self_now=self_accel,
        self_after=following_acceleration(v, new_leader),
        new_follower_now=np.where(has_new, following_acceleration(v, between_new, new_f), 0.0),
        new_follower_after=np.where(
            has_new, following_acceleration(v, Leaders(self_index, new_follower.gap), new_f), 0.0
        ),
        old_follower_now=np.where(
            has_old, following_acceleration(v, Leaders(self_index, old_follower.gap), old_f), 0.0
        ),
        old_follower_after=np.where(has_old, following_acceleration(v, between_old, old_f), 0.0),
    )
    must_leave = (scene.lane == road.ramp_lane) if road.ramp is not None else False
    return deciding & mobil.wants_change(acc, v.politeness, must_leave)


def _gap_between(v: Vehicles, follower: Leaders, leader: Leaders) -> Leaders:
    """The follower's gap to the leader, both found around the same vehicle: the two gaps
    plus that vehicle's length (inf if either is missing)."""
    return Leaders(leader.vehicle, follower.gap + leader.gap + v.length)


def collisions(v: Vehicles, road: Road | None = None) -> np.ndarray:
    """[B, V] whether each vehicle's (rotated) box overlaps another's (on ``road``'s ring,
    when it is one, boxes meet across the point where ``x`` comes round).

    Vehicles are sorted by where they are along the road and each is compared with the
    next, the one after, and so on, until every pair that far apart in the order is further
    apart along the road than the two longest boxes could reach; pairs whose axis-aligned
    bounds overlap are then tested exactly (:func:`boxes_overlap`).
    """
    scenes, count = v.shape
    circumference = road.circumference if road is not None else None
    place = road.place(v.x) if road is not None else v.x
    cos, sin = np.abs(np.cos(v.heading)), np.abs(np.sin(v.heading))
    order = np.argsort(place, axis=1) + np.arange(0, scenes * count, count)[:, None]
    x, y = place.take(order), v.y.take(order)
    hx = 0.5 * (v.length * cos + v.width * sin).take(order)
    hy = 0.5 * (v.length * sin + v.width * cos).take(order)
    ring = circumference is not None
    if circumference is not None:  # the order followed by itself one lap further on
        x = np.concatenate([x, x + circumference], axis=1)
        order, y, hx, hy = (np.concatenate([a, a], axis=1) for a in (order, y, hx, hy))
    reach = 2.0 * hx.max()
    crashed = np.zeros(scenes * count, bool)
    for k in range(1, count):
        later = slice(k, k + count) if ring else slice(k, None)
        first = slice(0, count) if ring else slice(0, count - k)
        dx = x[:, later] - x[:, first]
        if dx.min() >= reach:  # sorted: pairs further apart in the order are further apart
            break
        near = (dx < hx[:, later] + hx[:, first]) & (
            np.abs(y[:, later] - y[:, first]) < hy[:, later] + hy[:, first]
        )
        if near.any():
            scene, i = np.nonzero(near)
            a, b = order[scene, i], order[scene, i + k]
            hit = boxes_overlap(v, a, b, dx[scene, i])
            crashed[a[hit]] = True
            crashed[b[hit]] = True
    return crashed.reshape(scenes, count)


def boxes_overlap(v: Vehicles, a: np.ndarray, b: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Whether the boxes of the vehicles at flat indices ``a`` and ``b`` overlap (separating
    axis test on the four edge directions), ``b`` being ``dx`` [m] ahead of ``a``."""
    heading = np.stack([v.heading.take(a), v.heading.take(b)])  # [2, P]
    half_length = 0.5 * np.stack([v.length.take(a), v.length.take(b)])
    half_width = 0.5 * np.stack([v.width.take(a), v.width.take(b)])
    dy = v.y.take(b) - v.y.take(a)
    separated = np.zeros(len(a), bool)
    for axis in (heading[0], heading[0] + np.pi / 2, heading[1], heading[1] + np.pi / 2):
        ax, ay = np.cos(axis), np.sin(axis)
        along = np.abs(np.cos(heading - axis))  # |u . axis| for each box
        across = np.abs(np.sin(heading - axis))  # |v . axis|
        reach = (half_length * along + half_width * across).sum(axis=0)
        separated |= np.abs(dx * ax + dy * ay) >= reach
    return ~separated


# The model constants in the order of _sim.c's enum Param.
PARAMS = np.array(
    [
        idm.COMFORT_ACCELERATION,
        idm.MAX_ACCELERATION,
        idm.MAX_BRAKING,
        idm.JAM_GAP,
        idm.MIN_GAP,
        idm.CLOSING_FACTOR,
        mobil.MAX_BRAKING_IMPOSED,
        mobil.MIN_ACCELERATION_GAIN,
        SETTLED_OFFSET,
        RAMP_STOP_MARGIN,
        dynamics.TAU_ACCELERATION,
        dynamics.TAU_HEADING,
        dynamics.TAU_LATERAL,
        dynamics.MAX_HEADING_OFFSET,
        dynamics.MAX_STEERING,
        dynamics.MAX_SPEED,
    ]
)
if len(PARAMS) != _sim.PARAM_COUNT:
    raise ImportError(f"envs.driving._sim takes {_sim.PARAM_COUNT} constants, not {len(PARAMS)}")


def vehicle_arrays(v: Vehicles) -> tuple[np.ndarray, ...]:
    """The arrays of ``v`` in the order the C extension takes them."""
    return (v.x, v.y, v.heading, v.speed, v.length, v.width, v.kind, v.target_lane,
            v.target_speed, v.delta, v.time_headway, v.politeness, v.crashed)  # fmt: skip


def road_numbers(road: Road) -> tuple[int, int, float, float, float, float]:
    """``road`` as the C extension takes it: lanes, total lanes, lane width, the ramp's merge
    start and end (0 without a ramp) and the circumference (0 for a straight road)."""
    ramp = road.ramp
    return (road.lanes, road.total_lanes, road.lane_width, ramp.merge_start if ramp else 0.0,
            ramp.end if ramp else 0.0, road.circumference or 0.0)  # fmt: skip


def leader_gaps(v: Vehicles, road: Road) -> np.ndarray:
    """``[B, V]``: each vehicle's bumper-to-bumper gap to the nearest vehicle ahead in its own
    lane [m] (``inf`` when there is none), by the C extension."""
    scenes, count = v.shape
    gaps = np.empty((scenes, count))
    if scenes:  # no scenes (nothing to restart) is no call
        _sim.leader_gaps(vehicle_arrays(v), scenes, count, *road_numbers(road), gaps)
    return gaps


def leader_gaps_reference(v: Vehicles, road: Road) -> np.ndarray:
    """:func:`leader_gaps` written with numpy arrays (the oracle of the C version)."""
    scene = scene_of(v, road)
    return scene.ahead(scene.lane).gap


def run(
    v: Vehicles,
    road: Road,
    dt: float,
    directions: np.ndarray,
    ego: EgoControls | None = None,
) -> None:
    """Advance every scene by ``len(directions)`` steps of ``dt`` [s] in place, step ``k``
    deciding lane changes in the direction ``directions[k, b]`` (int64 ``[S, B]``: -1 left,
    +1 right, 0 none). Each step: IDM accelerations, MOBIL decisions, lane keeping, the
    ego's controls, the bicycle model, then collisions; crashed vehicles brake to a stop."""
    scenes, count = v.shape
    directions = np.ascontiguousarray(directions, dtype=np.int64)
    if directions.ndim != 2 or directions.shape[1] != scenes:
        raise ValueError(f"directions must be [steps, {scenes}], got shape {directions.shape}")
    if ego is None:
        mode, acceleration = _sim.ACCEL_TRAFFIC, None
    elif ego.acceleration is None:
        mode, acceleration = _sim.ACCEL_TRACK_SPEED, None
    else:
        mode, acceleration = _sim.ACCEL_GIVEN, _per_scene(ego.acceleration, scenes)
    steering = None if ego is None or ego.steering is None else _per_scene(ego.steering, scenes)
    _sim.run(
        vehicle_arrays(v), scenes, count, PARAMS, *road_numbers(road), dt,
        directions, mode, acceleration, steering,
    )  # fmt: skip


def step(
    v: Vehicles,
    road: Road,
    dt: float,
    ego: EgoControls | None = None,
    lane_change_direction: np.ndarray | int = 0,
) -> None:
    """One step of :func:`run`, deciding lane changes in ``lane_change_direction`` (an int
    for every scene or ``[B, 1]``)."""
    scenes = v.shape[0]
    direction = np.asarray(lane_change_direction, dtype=np.int64).reshape(-1)
    run(v, road, dt, np.broadcast_to(direction, (scenes,))[None, :], ego)


def _per_scene(values: np.ndarray, scenes: int) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(values, np.float64), (scenes,)))


def step_reference(
    v: Vehicles,
    road: Road,
    dt: float,
    ego: EgoControls | None = None,
    lane_change_direction: np.ndarray | int = 0,
) -> None:
    """:func:`step` written with numpy arrays (the oracle of the C step)."""
    if ego is not None and ego.steering is not None:
        v.target_lane[:, 0] = road.lane_of(v.y[:, 0])
    scene = scene_of(v, road)
    accel, own_leader = lane_acceleration(v, road, scene)
    if np.any(lane_change_direction):
        start = lane_changes(v, road, scene, own_leader, accel, lane_change_direction)
        v.target_lane += np.where(start, lane_change_direction, 0)
    steering = lane_keeping_steering(
        v.y, v.heading, v.speed, road.lane_center(v.target_lane), v.length
    )
    if ego is not None:
        accel[:, 0] = (
            speed_control(v.speed[:, 0], v.target_speed[:, 0])
            if ego.acceleration is None
            else ego.acceleration
        )
        if ego.steering is not None:
            steering[:, 0] = ego.steering
    if v.crashed.any():  # crashed vehicles stop in one step
        accel = np.where(v.crashed, -v.speed / dt, accel)
        steering = np.where(v.crashed, 0.0, steering)
    bicycle_step(v.x, v.y, v.heading, v.speed, accel, steering, v.length, dt)
    v.crashed |= collisions(v, road)
