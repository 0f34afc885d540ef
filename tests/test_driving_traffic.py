"""Traffic alone (the ego an IDM car like the others) runs 10,000 simulation steps without a
single collision, on the highway, past the on-ramp and round the roundabout, with MOBIL
changing lanes."""

from __future__ import annotations

import numpy as np

from envs.driving import REGISTERED, DrivingConfig, spawn, traffic

STEPS = 10_000
DT = 1 / 15  # [s]


def run_traffic(
    config: DrivingConfig, scenes: int, respawn_every: int | None
) -> tuple[int, int, int]:
    """(vehicles that crashed, lane changes started, vehicles left on the ramp when their
    scenes were drawn again) over STEPS steps of ``scenes`` scenes, drawn again every
    ``respawn_every`` steps (never when None)."""
    rng = np.random.default_rng(0)
    road = config.road
    vehicles = spawn(config, rng, scenes)
    crashed = changes = on_ramp = 0
    period = round(1.0 / DT)  # lane-change decisions once a second, left and right in turn
    for k in range(STEPS):
        if respawn_every and k and k % respawn_every == 0:
            crashed += int(vehicles.crashed.sum())
            on_ramp += int((road.lane_of(vehicles.y) == road.ramp_lane).sum())
            vehicles = spawn(config, rng, scenes)
        before = vehicles.target_lane.copy()
        direction = 0 if k % period else (-1 if (k // period) % 2 == 0 else 1)
        traffic.step(vehicles, road, DT, ego=None, lane_change_direction=direction)
        changes += int((vehicles.target_lane != before).sum())
    return crashed + int(vehicles.crashed.sum()), changes, on_ramp


def test_highway_traffic_10000_steps_without_collision():
    crashed, changes, _ = run_traffic(DrivingConfig(), scenes=2, respawn_every=None)
    assert crashed == 0
    assert changes > 100  # MOBIL is at work


def test_merge_traffic_10000_steps_without_collision():
    config = DrivingConfig(scenario="merge", lanes=2, vehicles=8, ramp_vehicles=4)
    crashed, changes, on_ramp = run_traffic(config, scenes=4, respawn_every=40 * 15)
    assert crashed == 0
    assert on_ramp == 0  # every ramp vehicle merged within 40 s
    assert changes >= 4 * 4 * (STEPS // (40 * 15))


def test_roundabout_traffic_10000_steps_without_collision():
    config = DrivingConfig(**{**REGISTERED["rlcourse/Roundabout-v0"], "ramp_vehicles": 2})
    scenes, respawn_every = 4, 40 * 15
    crashed, changes, on_ramp = run_traffic(config, scenes, respawn_every)
    assert crashed == 0
    # the IDM ego never changes lanes, so it waits on the entry; everyone else entered
    assert on_ramp == scenes * ((STEPS - 1) // respawn_every)
    assert changes >= scenes * 2 * (STEPS // respawn_every)
