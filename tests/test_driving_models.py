"""Driving models against numbers worked out by hand: the bicycle model's turn, IDM, MOBIL's
rule, and lane changes in hand-built traffic (taken only when the safety criterion holds)."""

from __future__ import annotations

import numpy as np
import pytest

from envs.driving import idm, mobil, traffic
from envs.driving.dynamics import bicycle_step, lane_keeping_steering
from envs.driving.road import Ramp, Road
from envs.driving.traffic import CAR, EGO, Vehicles

# ----------------------------------------------------------------------------- bicycle


def turn_state(sin_beta: float, speed: float = 10.0):
    beta = np.arcsin(sin_beta)
    steering = np.arctan(2.0 * np.tan(beta))
    arrays = [np.zeros(1) for _ in range(3)]
    return beta, np.array([steering]), (*arrays, np.array([speed]))


def test_one_bicycle_step_by_hand():
    # sin(beta) = 0.1, v = 10 m/s, dt = 0.1 s, length 5 m: the step is 1 m along heading+beta
    beta, steering, (x, y, heading, speed) = turn_state(0.1)
    bicycle_step(x, y, heading, speed, np.zeros(1), steering, np.array([5.0]), 0.1)
    assert x[0] == pytest.approx(np.cos(beta))
    assert y[0] == pytest.approx(0.1)
    assert heading[0] == pytest.approx(1.0 * 0.1 / 2.5)  # v sin(beta) / (L / 2) dt
    assert speed[0] == 10.0


def test_constant_steering_drives_the_hand_computed_circle():
    # radius (L / 2) / sin(beta) = 2.5 / 0.1 = 25 m, yaw rate 10 * 0.1 / 2.5 = 0.4 rad/s:
    # a quarter turn takes (pi / 2) / 0.4 s and moves the centre by R (sin(b + pi/2) - sin b,
    # cos b - cos(b + pi/2)).
    beta, steering, (x, y, heading, speed) = turn_state(0.1)
    dt = 1e-3
    for _ in range(round(np.pi / 2 / 0.4 / dt)):
        bicycle_step(x, y, heading, speed, np.zeros(1), steering, np.array([5.0]), dt)
    radius = 25.0
    assert heading[0] == pytest.approx(np.pi / 2, abs=1e-3)
    assert x[0] == pytest.approx(radius * (np.cos(beta) - np.sin(beta)), abs=0.03)
    assert y[0] == pytest.approx(radius * (np.cos(beta) + np.sin(beta)), abs=0.03)


def test_speed_stays_between_zero_and_the_maximum():
    x, y, heading, speed = np.zeros(2), np.zeros(2), np.zeros(2), np.array([1.0, 39.0])
    bicycle_step(x, y, heading, speed, np.array([-50.0, 50.0]), np.zeros(2), np.ones(2) * 5, 0.1)
    np.testing.assert_array_equal(speed, [0.0, 40.0])


def test_lane_keeping_brings_a_vehicle_to_its_lane_centre():
    x, y, heading, speed = np.zeros(1), np.zeros(1), np.zeros(1), np.array([25.0])
    length = np.array([5.0])
    for _ in range(15 * 5):  # 5 s at 15 Hz
        steering = lane_keeping_steering(y, heading, speed, np.array([4.0]), length)
        bicycle_step(x, y, heading, speed, np.zeros(1), steering, length, 1 / 15)
    assert y[0] == pytest.approx(4.0, abs=0.05)
    assert heading[0] == pytest.approx(0.0, abs=0.01)


# ----------------------------------------------------------------------------- IDM


def test_idm_by_hand():
    # free road: 3 (1 - (20/30)^4) = 3 * 65/81
    assert idm.idm_acceleration(20.0, 30.0, np.inf, 0.0) == pytest.approx(3 * 65 / 81)
    # s* = 5 + 20 * 1.5 + 20 * 5 / (2 sqrt(15)); a = 3 (65/81 - (s*/30)^2)
    s_star = 5 + 30 + 100 / (2 * np.sqrt(15))
    expected = 3 * (65 / 81 - (s_star / 30) ** 2)
    assert idm.idm_acceleration(20.0, 30.0, 30.0, 15.0) == pytest.approx(expected)
    assert expected == pytest.approx(-5.2438, abs=1e-4)


def test_idm_is_clipped_and_brakes_hardest_when_overlapping():
    assert idm.idm_acceleration(30.0, 30.0, 0.0, 0.0) == -idm.MAX_BRAKING
    assert idm.idm_acceleration(0.0, 30.0, np.inf, 0.0) == pytest.approx(3.0)


# ----------------------------------------------------------------------------- MOBIL rule


def accelerations(**values: float) -> mobil.LaneChangeAccelerations:
    base = dict.fromkeys(mobil.LaneChangeAccelerations._fields, 0.0)
    base.update(values)
    return mobil.LaneChangeAccelerations(**{k: np.array(v) for k, v in base.items()})


def test_mobil_safety_threshold_and_incentive_by_hand():
    gain = {"self_now": -1.0, "self_after": 1.0}  # own gain 2 m/s²
    assert mobil.wants_change(accelerations(**gain, new_follower_after=-2.0))
    assert not mobil.wants_change(accelerations(**gain, new_follower_after=-2.01))
    assert not mobil.wants_change(accelerations(self_now=0.0, self_after=-2.5))
    # politeness 0.5: own gain 2, new follower loses 3 -> 2 - 1.5 = 0.5 >= 0.2
    polite = accelerations(**gain, new_follower_now=1.0, new_follower_after=-2.0)
    assert mobil.incentive(polite, 0.5) == pytest.approx(0.5)
    assert mobil.wants_change(polite, 0.5)
    assert not mobil.wants_change(polite, 0.7)  # 2 - 2.1 < 0.2
    small = accelerations(self_now=0.0, self_after=0.1)
    assert not mobil.wants_change(small)
    assert mobil.wants_change(small, must_leave=True)  # forced: safety alone decides


# ----------------------------------------------------------------------------- hand-built traffic


def scene(road: Road, cars: list[tuple[float, int, float]]) -> Vehicles:
    """One scene: vehicle 0 the ego far behind, then ``(x, lane, speed)`` cars wanting 30 m/s
    (their target speed) with default IDM parameters and politeness 0."""
    v = Vehicles.zeros(1, 1 + len(cars))
    rows = [(-1000.0, 0, 20.0), *cars]
    for i, (x, lane, speed) in enumerate(rows):
        v.x[0, i], v.y[0, i], v.speed[0, i] = x, road.lane_center(lane), speed
        v.target_lane[0, i] = lane
    v.target_speed[:] = 30.0
    v.length[:], v.width[:] = 5.0, 2.0
    v.kind[:] = CAR
    v.kind[0, 0] = EGO
    v.delta[:], v.time_headway[:] = idm.DELTA, idm.TIME_HEADWAY
    return v


def decisions(v: Vehicles, road: Road, direction: int) -> np.ndarray:
    sc = traffic.scene_of(v, road)
    accel, own = traffic.lane_acceleration(v, road, sc)
    return traffic.lane_changes(v, road, sc, own, accel, direction)[0]


ROAD = Road(lanes=3)
BLOCKED = [(0.0, 1, 25.0), (25.0, 1, 15.0)]  # car 1 stuck behind a slow car 2 in lane 1


def test_blocked_car_overtakes_into_an_empty_lane():
    v = scene(ROAD, BLOCKED)
    assert decisions(v, ROAD, -1)[1] and decisions(v, ROAD, +1)[1]
    assert not decisions(v, ROAD, -1)[2]  # the slow car has nothing to gain


def test_no_change_when_the_new_follower_would_brake_too_hard():
    # a car at 30 m/s 8 m behind in lane 0 (3 m bumper to bumper) would brake harder than
    # 2 m/s² behind car 1 at 25 m/s
    assert idm.idm_acceleration(30.0, 30.0, 3.0, 25.0) < -mobil.MAX_BRAKING_IMPOSED
    v = scene(ROAD, [*BLOCKED, (-8.0, 0, 30.0)])
    assert not decisions(v, ROAD, -1)[1]
    assert decisions(v, ROAD, +1)[1]  # lane 2 is still free


def test_change_when_the_new_follower_is_far_enough_behind():
    v = scene(ROAD, [*BLOCKED, (-60.0, 0, 25.0)])  # 55 m behind at the same speed
    assert decisions(v, ROAD, -1)[1]


def test_no_change_into_a_lane_whose_leader_is_too_close():
    v = scene(ROAD, [*BLOCKED, (6.0, 0, 15.0), (6.0, 2, 15.0)])  # 1 m gaps ahead, both sides
    assert not decisions(v, ROAD, -1)[1] and not decisions(v, ROAD, +1)[1]


def test_no_change_off_the_road_or_while_changing():
    v = scene(ROAD, [(0.0, 0, 25.0), (25.0, 0, 15.0)])
    assert not decisions(v, ROAD, -1)[1]  # no lane left of lane 0
    v.target_lane[0, 1] = 1  # already moving right
    assert not decisions(v, ROAD, +1)[1]


def test_ramp_vehicle_merges_only_in_the_merge_zone_and_only_safely():
    road = Road(lanes=2, ramp=Ramp(merge_start=100.0, end=200.0))
    before_zone = scene(road, [(50.0, 2, 20.0)])
    assert not decisions(before_zone, road, -1)[1]
    in_zone = scene(road, [(150.0, 2, 20.0)])
    assert decisions(in_zone, road, -1)[1]  # forced: no gain needed
    blocked = scene(road, [(150.0, 2, 20.0), (143.0, 1, 25.0)])  # 2 m behind in lane 1
    assert not decisions(blocked, road, -1)[1]
    assert not decisions(scene(road, [(150.0, 1, 20.0)]), road, +1)[1]  # never onto the ramp


def test_vehicle_changing_lanes_is_a_leader_in_both_lanes():
    v = scene(ROAD, [(0.0, 0, 25.0), (20.0, 1, 25.0)])
    v.target_lane[0, 2] = 0  # car 2 is moving into lane 0, still centred on lane 1
    sc = traffic.scene_of(v, ROAD)
    accel, own = traffic.lane_acceleration(v, ROAD, sc)
    assert own.gap[0, 1] == pytest.approx(15.0)  # car 1 already sees car 2 ahead
    assert accel[0, 1] < 0


@pytest.mark.parametrize("seed", range(3))
def test_neighbour_lookups_match_a_brute_force_search(seed):
    # a vehicle occupies every lane its box reaches and its target lane
    from envs.driving import DrivingConfig, spawn

    rng = np.random.default_rng(seed)
    config = DrivingConfig(lanes=3 + seed % 2, vehicles=30)
    road = config.road
    v = spawn(config, rng, 2)
    moving = rng.random(v.shape) < 0.3  # some vehicles are changing lanes
    shifted = np.clip(v.target_lane + rng.choice([-1, 1], v.shape), 0, config.lanes - 1)
    v.target_lane[:] = np.where(moving, shifted, v.target_lane)
    v.y += rng.uniform(-1.5, 1.5, v.shape)  # some straddle a lane marking
    v.heading[:] = rng.uniform(-0.3, 0.3, v.shape)
    half_y = 0.5 * (v.length * np.abs(np.sin(v.heading)) + v.width * np.abs(np.cos(v.heading)))
    first, last = road.lane_of(v.y - half_y), road.lane_of(v.y + half_y)
    sc = traffic.scene_of(v, road)
    count = v.shape[1]
    for lanes in (sc.lane, sc.target, sc.lane - 1, sc.lane + 1):
        for found, sign in ((sc.ahead(lanes), 1.0), (sc.behind(lanes), -1.0)):
            for b in range(2):
                for i in range(count):
                    lane = lanes[b, i]
                    occupies = (first[b] <= lane) & (last[b] >= lane) | (sc.target[b] == lane)
                    distance = sign * (v.x[b] - v.x[b, i])
                    candidates = np.flatnonzero(occupies & (distance > 0))
                    if len(candidates) == 0:
                        assert found.gap[b, i] == np.inf
                        continue
                    j = candidates[np.argmin(distance[candidates])]
                    assert found.vehicle[b, i] == b * count + j
                    bumper = distance[j] - (v.length[b, i] + v.length[b, j]) / 2
                    assert found.gap[b, i] == pytest.approx(bumper)


def corners(x, y, heading, length, width):
    u = np.array([np.cos(heading), np.sin(heading)])
    n = np.array([-np.sin(heading), np.cos(heading)])
    return [np.array([x, y]) + a * length / 2 * u + b * width / 2 * n
            for a, b in ((1, 1), (1, -1), (-1, -1), (-1, 1))]  # fmt: skip


def polygons_intersect(p, q):
    """Separating axis test written out on the corner lists of two convex polygons."""
    for poly in (p, q):
        for i in range(len(poly)):
            edge = poly[(i + 1) % len(poly)] - poly[i]
            axis = np.array([-edge[1], edge[0]])
            pa, qa = [c @ axis for c in p], [c @ axis for c in q]
            if max(pa) <= min(qa) or max(qa) <= min(pa):
                return False
    return True


def test_collisions_match_a_brute_force_check():
    rng = np.random.default_rng(0)
    v = Vehicles.zeros(3, 40)
    v.x[:] = rng.uniform(0, 150, v.shape)
    v.y[:] = rng.uniform(-2, 14, v.shape)
    v.heading[:] = rng.uniform(-0.8, 0.8, v.shape)
    v.length[:], v.width[:] = rng.choice([5.0, 9.0], v.shape), rng.choice([2.0, 2.5], v.shape)
    boxes = [[corners(*(a[b, i] for a in (v.x, v.y, v.heading, v.length, v.width)))
              for i in range(40)] for b in range(3)]  # fmt: skip
    expected = np.zeros(v.shape, bool)
    for b in range(3):
        for i in range(40):
            for j in range(i + 1, 40):
                if polygons_intersect(boxes[b][i], boxes[b][j]):
                    expected[b, i] = expected[b, j] = True
    assert 0 < expected.sum() < expected.size  # some overlap, some not
    np.testing.assert_array_equal(traffic.collisions(v), expected)


def test_collision_three_places_apart_in_the_order_is_found():
    # sorted by x: truck, car, car, truck; neither pair two places apart can touch, but the
    # trucks (first and fourth) overlap: 7.1 m apart, 9 m long
    v = Vehicles.zeros(1, 4)
    v.x[0], v.y[0] = [0.0, 0.1, 7.0, 7.1], [0.0, 4.0, 4.0, 0.0]
    v.length[0], v.width[0] = [9.0, 5.0, 5.0, 9.0], 2.0
    np.testing.assert_array_equal(traffic.collisions(v)[0], [True, False, False, True])


def test_tilted_boxes_whose_bounds_overlap_do_not_collide():
    # two 9 x 2.5 m trucks at 30°, side by side 3.5 m apart across their headings: their
    # axis-aligned bounds overlap, the boxes do not
    v = Vehicles.zeros(1, 2)
    v.heading[:], v.length[:], v.width[:] = np.pi / 6, 9.0, 2.5
    v.x[0, 1], v.y[0, 1] = -3.5 * np.sin(np.pi / 6), 3.5 * np.cos(np.pi / 6)
    assert not traffic.collisions(v).any()
    v.y[0, 1] = 2.0 * np.cos(np.pi / 6)  # 2 m apart: now they touch
    v.x[0, 1] = -2.0 * np.sin(np.pi / 6)
    assert traffic.collisions(v).all()
