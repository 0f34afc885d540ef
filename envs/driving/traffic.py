"""Every vehicle of many independent scenes as ``[B, V]`` arrays, and one simulation step.

Vehicle 0 of each scene is the ego. Every vehicle follows IDM along its lane and the others
decide lane changes with MOBIL; given :class:`EgoControls`, the ego takes its acceleration
(and, when given, its steering) from them instead, otherwise it drives like the traffic,
keeping its lane.
A vehicle occupies every lane its box reaches across the road and its target lane: while
changing lanes (or straddling a marking) it is the leader of the followers in each.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from envs.driving import idm, mobil
from envs.driving.dynamics import bicycle_step, lane_keeping_steering
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
    """Controls of each scene's ego: acceleration [m/s²] and steering [rad], ``[B]``;
    steering None keeps the ego on its target lane like the traffic."""

    acceleration: np.ndarray
    steering: np.ndarray | None = None


class Leaders(NamedTuple):
    """For each vehicle ``[B, V]``, a neighbour and the bumper-to-bumper gap to it [m] (``inf``
    where there is none, the neighbour then being arbitrary). The neighbour is given as an
    index into the flattened ``[B * V]`` arrays (see :func:`flat_index`)."""

    vehicle: np.ndarray
    gap: np.ndarray


class Scene(NamedTuple):
    """Who is next to whom at one instant, from the vehicles sorted by ``x``.

    ``ahead_table[b, p, l]`` is the sorted position of the first vehicle after sorted position
    ``p`` that occupies lane ``l``, ``behind_table`` of the last one before it; a lane with
    nobody there points one past either end of the order, where the padded sorted ``x`` is
    ``+inf`` or ``-inf``. Queries are then lookups, with no ``[V, V]`` comparisons. ``lane``
    is the lane nearest each vehicle's centre, the one it drives in.
    """

    x: np.ndarray  # [B, V]
    length: np.ndarray  # [B, V]
    lane: np.ndarray  # [B, V] lane nearest each vehicle
    target: np.ndarray  # [B, V] target lane
    sorted_vehicle: np.ndarray  # [B, V + 2] flat vehicle indices by x, padded at both ends
    sorted_x: np.ndarray  # [B, V + 2] their x, -inf and +inf at the pads
    ahead_table: np.ndarray  # [B, V, lanes] flat indices into the padded arrays
    behind_table: np.ndarray  # [B, V, lanes]
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
    scenes, count = v.shape
    lane, target = road.lane_of(v.y), v.target_lane
    sorted_ids = np.argsort(v.x, axis=1, kind="stable")
    order = sorted_ids + np.arange(0, scenes * count, count)[:, None]
    rank = np.argsort(sorted_ids, axis=1)
    padded = np.arange(0, scenes * (count + 2), count + 2)[:, None]  # flat start of each row
    sorted_vehicle = np.empty((scenes, count + 2), np.int64)
    sorted_vehicle[:, [0, -1]] = order[:, :1]  # any vehicle: its gap is infinite anyway
    sorted_vehicle[:, 1:-1] = order
    sorted_x = np.empty((scenes, count + 2))
    sorted_x[:, 0], sorted_x[:, -1] = -np.inf, np.inf
    sorted_x[:, 1:-1] = v.x.take(order)
    lanes = np.arange(road.total_lanes)
    half_y = 0.5 * (v.length * np.abs(np.sin(v.heading)) + v.width * np.abs(np.cos(v.heading)))
    reach_left = road.lane_of((v.y - half_y).take(order))[..., None]
    reach_right = road.lane_of((v.y + half_y).take(order))[..., None]
    occupied = (reach_left <= lanes) & (reach_right >= lanes)
    occupied |= target.take(order)[..., None] == lanes
    slot = np.arange(1, count + 1)[None, :, None] + padded[..., None]  # padded positions
    ahead = np.empty((scenes, count, len(lanes)), np.int64)
    ahead[:, -1] = padded + count + 1
    ahead[:, :-1] = np.minimum.accumulate(
        np.where(occupied[:, :0:-1], slot[:, :0:-1], padded[..., None] + count + 1), axis=1
    )[:, ::-1]
    behind = np.empty_like(ahead)
    behind[:, 0] = padded
    behind[:, 1:] = np.maximum.accumulate(
        np.where(occupied[:, :-1], slot[:, :-1], padded[..., None]), axis=1
    )
    rank_rows = (rank + np.arange(0, scenes * count, count)[:, None]) * len(lanes)
    return Scene(v.x, v.length, lane, target, sorted_vehicle, sorted_x, ahead, behind, rank_rows)


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
            to_end = road.ramp.end - RAMP_STOP_MARGIN - v.x - 0.5 * v.length
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
    """The follower's gap to the leader, both found around the same vehicle (inf if either
    is missing)."""
    f, p = follower.vehicle, leader.vehicle
    gap = gather(v.x, p) - gather(v.x, f) - 0.5 * (gather(v.length, p) + gather(v.length, f))
    missing = ~(np.isfinite(follower.gap) & np.isfinite(leader.gap))
    return Leaders(p, np.where(missing, np.inf, gap))


def collisions(v: Vehicles) -> np.ndarray:
    """[B, V] whether each vehicle's (rotated) box overlaps another's.

    Vehicles are sorted by ``x`` and each is compared with the next, the one after, and so
    on, until every pair that far apart in the order is further apart along the road than
    the two longest boxes could reach; pairs whose axis-aligned bounds overlap are then
    tested exactly (:func:`boxes_overlap`).
    """
    scenes, count = v.shape
    cos, sin = np.abs(np.cos(v.heading)), np.abs(np.sin(v.heading))
    order = np.argsort(v.x, axis=1) + np.arange(0, scenes * count, count)[:, None]
    x, y = v.x.take(order), v.y.take(order)
    hx = 0.5 * (v.length * cos + v.width * sin).take(order)
    hy = 0.5 * (v.length * sin + v.width * cos).take(order)
    reach = 2.0 * hx.max()
    crashed = np.zeros(scenes * count, bool)
    for k in range(1, count):
        dx = x[:, k:] - x[:, :-k]
        if dx.min() >= reach:  # sorted: pairs further apart in the order are further apart
            break
        near = (dx < hx[:, k:] + hx[:, :-k]) & (
            np.abs(y[:, k:] - y[:, :-k]) < hy[:, k:] + hy[:, :-k]
        )
        if near.any():
            scene, first = np.nonzero(near)
            a, b = order[scene, first], order[scene, first + k]
            hit = boxes_overlap(v, a, b)
            crashed[a[hit]] = True
            crashed[b[hit]] = True
    return crashed.reshape(scenes, count)


def boxes_overlap(v: Vehicles, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether the boxes of the vehicles at flat indices ``a`` and ``b`` overlap (separating
    axis test on the four edge directions)."""
    heading = np.stack([v.heading.take(a), v.heading.take(b)])  # [2, P]
    half_length = 0.5 * np.stack([v.length.take(a), v.length.take(b)])
    half_width = 0.5 * np.stack([v.width.take(a), v.width.take(b)])
    dx, dy = v.x.take(b) - v.x.take(a), v.y.take(b) - v.y.take(a)
    separated = np.zeros(len(a), bool)
    for axis in (heading[0], heading[0] + np.pi / 2, heading[1], heading[1] + np.pi / 2):
        ax, ay = np.cos(axis), np.sin(axis)
        along = np.abs(np.cos(heading - axis))  # |u . axis| for each box
        across = np.abs(np.sin(heading - axis))  # |v . axis|
        reach = (half_length * along + half_width * across).sum(axis=0)
        separated |= np.abs(dx * ax + dy * ay) >= reach
    return ~separated


def step(
    v: Vehicles,
    road: Road,
    dt: float,
    ego: EgoControls | None = None,
    lane_change_direction: np.ndarray | int = 0,
) -> None:
    """Advance every scene by ``dt`` [s] in place: IDM accelerations, MOBIL decisions for
    ``lane_change_direction`` (-1 left, +1 right, 0 none; an int or ``[B, 1]``), lane
    keeping, the bicycle model, then collisions. Crashed vehicles brake to a stop."""
    scene = scene_of(v, road)
    accel, own_leader = lane_acceleration(v, road, scene)
    if np.any(lane_change_direction):
        start = lane_changes(v, road, scene, own_leader, accel, lane_change_direction)
        v.target_lane += np.where(start, lane_change_direction, 0)
    steering = lane_keeping_steering(
        v.y, v.heading, v.speed, road.lane_center(v.target_lane), v.length
    )
    if ego is not None:
        accel[:, 0] = ego.acceleration
        if ego.steering is not None:
            steering[:, 0] = ego.steering
    if v.crashed.any():  # crashed vehicles stop in one step
        accel = np.where(v.crashed, -v.speed / dt, accel)
        steering = np.where(v.crashed, 0.0, steering)
    bicycle_step(v.x, v.y, v.heading, v.speed, accel, steering, v.length, dt)
    v.crashed |= collisions(v)
