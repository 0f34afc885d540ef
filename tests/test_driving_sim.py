"""The C traffic step (envs.driving._sim through traffic.step/run) against the numpy step it
replaces (traffic.step_reference), on random scenes of the highway, the merge and the
roundabout: the same lane changes, crashes and poses, with every kind of ego control; the
ring has no seam; the C kinematics observation, leader gaps and whole policy step
(DrivingSim.step) against their numpy versions."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from envs.driving import DrivingConfig, spawn, traffic
from envs.driving.observations import kinematics, kinematics_reference
from envs.driving.simulation import ACTION_COUNT, DrivingSim
from envs.driving.traffic import EgoControls, Vehicles

CONFIGS = {
    "highway": DrivingConfig(lanes=4, vehicles=40),
    "merge": DrivingConfig(scenario="merge", lanes=2, vehicles=8, ramp_vehicles=4),
    "roundabout": DrivingConfig(scenario="roundabout", lanes=2, vehicles=15, ramp_vehicles=2),
}
EXACT = ("kind", "target_lane", "crashed")


def random_scenes(config: DrivingConfig, seed: int, scenes: int = 6) -> Vehicles:
    """Spawned traffic, then stirred: vehicles moved along and across the road (some
    changing lanes, some straddling markings, some overlapping), turned, sped up or slowed,
    a few already crashed."""
    rng = np.random.default_rng(seed)
    v = spawn(config, rng, scenes)
    v.x += rng.normal(0.0, 4.0, v.shape)
    moving = rng.random(v.shape) < 0.2
    shifted = np.clip(v.target_lane + rng.choice([-1, 1], v.shape), 0, config.lanes - 1)
    v.target_lane[:] = np.where(moving & (v.target_lane < config.lanes), shifted, v.target_lane)
    v.y += np.where(rng.random(v.shape) < 0.3, rng.uniform(-1.8, 1.8, v.shape), 0.0)
    v.heading[:] = rng.normal(0.0, 0.05, v.shape)
    v.speed[:] = np.clip(v.speed + rng.normal(0.0, 3.0, v.shape), 0.0, 40.0)
    v.crashed[:] = rng.random(v.shape) < 0.03
    close = rng.random(v.shape) < 0.1  # next to the vehicle before it, maybe touching
    close[:, :2] = False
    v.x[:] = np.where(close, np.roll(v.x, 1, axis=1) + rng.uniform(-7, 7, v.shape), v.x)
    v.y[:] = np.where(close, np.roll(v.y, 1, axis=1) + rng.uniform(-3, 3, v.shape), v.y)
    return v


def ego_controls(kind: str, rng: np.random.Generator, scenes: int) -> EgoControls | None:
    if kind == "traffic":
        return None
    if kind == "track_speed":
        return EgoControls()
    acceleration = rng.uniform(-5.0, 5.0, scenes)
    if kind == "acceleration":
        return EgoControls(acceleration)
    return EgoControls(acceleration, rng.uniform(-0.3, 0.3, scenes))


def assert_same(c: Vehicles, numpy: Vehicles) -> None:
    for f in fields(Vehicles):
        ours, reference = getattr(c, f.name), getattr(numpy, f.name)
        if f.name in EXACT:
            np.testing.assert_array_equal(ours, reference, err_msg=f.name)
        else:
            np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-9, err_msg=f.name)


@pytest.mark.parametrize("scenario", sorted(CONFIGS))
@pytest.mark.parametrize("ego", ["traffic", "track_speed", "acceleration", "steering"])
def test_one_c_step_equals_the_numpy_step(scenario, ego):
    config = CONFIGS[scenario]
    road = config.road
    changes = crashes = 0
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        v = random_scenes(config, seed)
        direction = rng.choice([-1, 0, 1], size=(v.shape[0], 1))
        controls = ego_controls(ego, rng, v.shape[0])
        before, reference = v.copy(), v.copy()
        traffic.step(v, road, 1 / 15, controls, direction)
        traffic.step_reference(reference, road, 1 / 15, controls, direction)
        assert_same(v, reference)
        changes += int((v.target_lane != before.target_lane)[:, 1:].sum())
        crashes += int((v.crashed & ~before.crashed).sum())
    assert changes > 0 and crashes > 0  # MOBIL changed lanes and new crashes were found


@pytest.mark.parametrize("scenario", sorted(CONFIGS))
def test_many_c_steps_equal_as_many_numpy_steps(scenario):
    config = CONFIGS[scenario]
    road = config.road
    rng = np.random.default_rng(7)
    v = spawn(config, rng, 4)
    reference = v.copy()
    steps = 150
    directions = np.zeros((steps, 4), np.int64)
    directions[::15] = np.where(np.arange(steps)[::15, None] % 30 == 0, -1, 1)
    controls = EgoControls()
    traffic.run(v, road, 1 / 15, directions, controls)
    for k in range(steps):
        traffic.step_reference(reference, road, 1 / 15, controls, directions[k][:, None])
    assert (v.target_lane != spawn(config, np.random.default_rng(7), 4).target_lane).any()
    assert_same(v, reference)


def test_bad_arrays_are_refused_by_name():
    config = CONFIGS["highway"]
    v = spawn(config, np.random.default_rng(0), 2)
    v.speed = v.speed.astype(np.float32)
    with pytest.raises(TypeError, match="speed"):
        traffic.step(v, config.road, 0.1)
    v = spawn(config, np.random.default_rng(0), 2)
    v.heading = v.heading[:, :-1]  # not contiguous
    with pytest.raises(TypeError, match="heading"):
        traffic.step(v, config.road, 0.1)
    v.heading = v.heading.copy()  # contiguous, one vehicle short
    with pytest.raises(ValueError, match="heading"):
        traffic.step(v, config.road, 0.1)
    v = spawn(config, np.random.default_rng(0), 2)
    with pytest.raises(ValueError, match="directions"):
        traffic.run(v, config.road, 0.1, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="-1, 0 or"):
        traffic.run(v, config.road, 0.1, np.full((1, 2), 2))


def test_the_ring_has_no_seam():
    # turning a whole roundabout scene by part of a lap (x and x + circumference are the
    # same place) changes nothing but x; the entry lane is tied to its place, so the
    # vehicles on it move onto the ring first
    config = CONFIGS["roundabout"]
    road = config.road
    ring = road.circumference
    v = random_scenes(config, 3)
    v.x[:] = road.place(v.x)
    entering = v.target_lane == road.ramp_lane
    v.y[entering] -= road.lane_width
    v.target_lane[entering] -= 1
    turned, before = v.copy(), v.target_lane.copy()
    turned.x[:] = road.place(v.x - 0.37 * ring)  # vehicles now meet across x = 0
    directions = np.tile([[-1], [0], [1]], (1, v.shape[0]))
    traffic.run(v, road, 1 / 15, directions, EgoControls())
    traffic.run(turned, road, 1 / 15, directions, EgoControls())
    turned.x[:] = road.place(turned.x + 0.37 * ring)
    v.x[:] = road.place(v.x)
    assert v.crashed.any() and (v.target_lane[~entering] != before[~entering]).any()
    np.testing.assert_allclose(road.ahead_distance(turned.x - v.x), 0.0, atol=1e-9)
    turned.x[:] = v.x
    assert_same(turned, v)


def test_ring_neighbours_match_a_brute_force_search():
    # round the ring: the nearest occupant of a lane ahead (behind) is the one the least
    # distance further (back) modulo the circumference, the vehicle itself a lap away
    config = CONFIGS["roundabout"]
    road = config.road
    ring = road.circumference
    v = random_scenes(config, 5)
    v.x += ring * np.random.default_rng(5).integers(-2, 3, v.shape)  # laps driven
    half_y = 0.5 * (v.length * np.abs(np.sin(v.heading)) + v.width * np.abs(np.cos(v.heading)))
    first, last = road.lane_of(v.y - half_y), road.lane_of(v.y + half_y)
    sc = traffic.scene_of(v, road)
    scenes, count = v.shape
    found_some = False  # some neighbour found round the ring, past where x comes round
    for lanes in (sc.lane, sc.lane - 1, sc.lane + 1):
        for found, sign in ((sc.ahead(lanes), 1.0), (sc.behind(lanes), -1.0)):
            for b in range(scenes):
                for i in range(count):
                    lane = lanes[b, i]
                    occupies = (first[b] <= lane) & (last[b] >= lane) | (sc.target[b] == lane)
                    distance = (sign * (v.x[b] - v.x[b, i])) % ring
                    distance[i] = ring
                    candidates = np.flatnonzero(occupies)
                    if len(candidates) == 0 or not 0 <= lane < road.total_lanes:
                        assert found.gap[b, i] == np.inf
                        continue
                    j = candidates[np.argmin(distance[candidates])]
                    place = road.place(v.x[b])
                    found_some |= j != i and sign * (place[j] - place[i]) < 0  # across x = 0
                    assert found.vehicle[b, i] == b * count + j
                    bumper = distance[j] - (v.length[b, i] + v.length[b, j]) / 2
                    assert found.gap[b, i] == pytest.approx(bumper)
    assert found_some


@pytest.mark.parametrize("scenario", sorted(CONFIGS))
def test_c_kinematics_equal_the_numpy_kinematics(scenario):
    config = CONFIGS[scenario]
    for seed in range(4):
        v = random_scenes(config, seed)
        v.heading[:] = np.random.default_rng(seed).normal(0.0, 0.5, v.shape)
        for observed in (1, 5, v.shape[1] + 3):
            ours = kinematics(v, config.road, observed)
            reference = kinematics_reference(v, config.road, observed)
            np.testing.assert_array_equal(ours[..., 0], reference[..., 0])
            np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)


@pytest.mark.parametrize("scenario", sorted(CONFIGS))
def test_c_leader_gaps_equal_the_numpy_leader_gaps(scenario):
    config = CONFIGS[scenario]
    for seed in range(4):
        v = random_scenes(config, seed)
        ours = traffic.leader_gaps(v, config.road)
        reference = traffic.leader_gaps_reference(v, config.road)
        np.testing.assert_array_equal(np.isinf(ours), np.isinf(reference))
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)


POLICY_CONFIGS = {  # short episodes and a lane-change cost, so every term and ending occurs
    **CONFIGS,
    "highway": DrivingConfig(lanes=3, vehicles=20, duration=8.0, lane_change_reward=-0.05),
    "merge_unnormalised": DrivingConfig(
        scenario="merge", lanes=2, vehicles=8, normalize_reward=False, offroad_terminal=False
    ),
}


@pytest.mark.parametrize("scenario", sorted(POLICY_CONFIGS))
def test_c_policy_step_equals_the_numpy_policy_step(scenario):
    # twin simulations from the same start, random meta-actions; finished scenes restart
    # from the same draws in both, so the comparison runs over many episodes
    config = POLICY_CONFIGS[scenario]
    scenes, steps = 8, 40
    ours, reference = DrivingSim(config, scenes), DrivingSim(config, scenes)
    ours.reset(np.random.default_rng(3))
    reference.reset(np.random.default_rng(3))
    rng = np.random.default_rng(4)
    ended = changed = 0
    for _ in range(steps):
        actions = rng.integers(ACTION_COUNT, size=scenes)
        got, want = ours.step(actions), reference.step_reference(actions)
        assert_same(ours.vehicles, reference.vehicles)
        for name in ("speed_index", "substep", "steps", "time", "speed_sum"):
            np.testing.assert_allclose(getattr(ours, name), getattr(reference, name), rtol=1e-12)
        for name in ("terminated", "truncated", "action_mask"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
        np.testing.assert_allclose(got.reward, want.reward, rtol=1e-12, atol=1e-12)
        assert list(got.rewards) == list(want.rewards)
        for name, term in got.rewards.items():
            np.testing.assert_allclose(term, want.rewards[name], rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(got.observation, want.observation)
        done = np.flatnonzero(got.terminated | got.truncated)
        ended += len(done)
        changed += int((got.rewards["lane_change"] != 0).sum())
        seed = int(rng.integers(2**32))
        ours.reset(np.random.default_rng(seed), done)
        reference.reset(np.random.default_rng(seed), done)
    assert ended > 0 and (changed > 0 or config.lane_change_reward == 0)


def test_policy_step_refuses_bad_actions():
    sim = DrivingSim(CONFIGS["highway"], scenes=2)
    sim.reset(np.random.default_rng(0))
    before = sim.vehicles.copy()
    with pytest.raises(ValueError, match=r"0\.\.4, got 5 for scene 1"):
        sim.step(np.array([3, 5]))
    assert_same(sim.vehicles, before)  # refused before any scene moved
    assert (sim.time == 0).all() and (sim.steps == 0).all()
    with pytest.raises(ValueError, match="2 ints"):
        sim.step(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="2 ints"):
        sim.step(np.array([1]))
