"""Highway driving: vectorised IDM/MOBIL traffic, a bicycle-model ego, Gymnasium envs and a
batch API. Importing this registers ``rlcourse/Highway-v0``, ``rlcourse/HighwayFast-v0``,
``rlcourse/Merge-v0`` and ``rlcourse/Roundabout-v0`` (:class:`envs.driving.env.DrivingEnv`).

Highway-v0 uses highway-env's ``highway-v0`` defaults (4 lanes, 50 vehicles, 15 Hz
simulation, 1 Hz policy, 40 s); HighwayFast-v0 its ``highway-fast-v0`` ones (3 lanes, 20
vehicles, 5 Hz, 30 s); Merge-v0 two lanes and an on-ramp; Roundabout-v0 a two-lane ring of
6 vehicles that the ego enters from an entry lane and leaves on the far side.
"""

from __future__ import annotations

from typing import Any

import gymnasium

from envs.driving.baseline import idm_ego_actions, idm_ego_policy
from envs.driving.batch import DrivingBatch
from envs.driving.env import DrivingEnv
from envs.driving.road import Ramp, Road
from envs.driving.scenarios import DrivingConfig, spawn
from envs.driving.simulation import Action, DrivingSim
from envs.driving.traffic import CAR, EGO, TRUCK, Vehicles

REGISTERED: dict[str, dict[str, Any]] = {
    "rlcourse/Highway-v0": {},
    "rlcourse/HighwayFast-v0": {
        "lanes": 3, "vehicles": 20, "simulation_frequency": 5, "duration": 30.0,
    },
    "rlcourse/Merge-v0": {"scenario": "merge", "lanes": 2, "vehicles": 5, "ramp_vehicles": 2},
    "rlcourse/Roundabout-v0": {
        "scenario": "roundabout", "lanes": 2, "vehicles": 6, "ramp_vehicles": 1,
        "duration": 30.0, "speed_limit": 15.0, "target_speeds": (5.0, 10.0, 15.0),
        "reward_speed_range": (8.0, 15.0),
    },
}  # fmt: skip

for _env_id, _kwargs in REGISTERED.items():
    if _env_id not in gymnasium.registry:
        gymnasium.register(id=_env_id, entry_point="envs.driving.env:DrivingEnv", kwargs=_kwargs)

__all__ = [
    "CAR",
    "EGO",
    "REGISTERED",
    "TRUCK",
    "Action",
    "DrivingBatch",
    "DrivingConfig",
    "DrivingEnv",
    "DrivingSim",
    "Ramp",
    "Road",
    "Vehicles",
    "idm_ego_actions",
    "idm_ego_policy",
    "spawn",
]
