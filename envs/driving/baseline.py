"""The IDM ego: a baseline driver that keeps its lane and follows IDM towards the top target
speed, as the other vehicles do (without their lane changes).

With continuous actions it is exact: the IDM acceleration and the lane-keeping steering,
scaled to ``[-1, 1]``. With discrete meta-actions it asks for the target speed nearest to
where IDM would bring it by the next decision (``FASTER``, ``SLOWER`` or ``IDLE``); the
lowest target speed then limits how slowly it can follow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.driving import idm, traffic
from envs.driving.dynamics import lane_keeping_steering
from envs.driving.simulation import MAX_ACCELERATION, MAX_STEERING, Action, DrivingSim


def idm_ego_actions(sim: DrivingSim) -> np.ndarray:
    """The IDM ego's action in every scene: ``[B]`` ints or ``[B, 2]`` floats."""
    v, road, config = sim.vehicles, sim.road, sim.config
    scene = traffic.scene_of(v, road)
    leaders = [scene.ahead(scene.lane), scene.ahead(scene.target)]
    desired = float(max(config.target_speeds))
    accel = np.minimum.reduce([
        idm.idm_acceleration(
            v.speed[:, 0], desired, lead.gap[:, 0], traffic.gather(v.speed, lead.vehicle[:, 0])
        )
        for lead in leaders
    ])  # fmt: skip
    if config.action == "continuous":
        steering = lane_keeping_steering(
            v.y[:, 0], v.heading[:, 0], v.speed[:, 0],
            road.lane_center(v.target_lane[:, 0]), v.length[:, 0],
        )  # fmt: skip
        return np.stack([accel / MAX_ACCELERATION, steering / MAX_STEERING], axis=1).clip(-1, 1)
    wanted = v.speed[:, 0] + accel / config.policy_frequency
    best = np.abs(sim.target_speeds[None, :] - wanted[:, None]).argmin(axis=1)
    return np.where(
        best > sim.speed_index,
        Action.FASTER,
        np.where(best < sim.speed_index, Action.SLOWER, Action.IDLE),
    )


def idm_ego_policy(env: Any) -> Any:
    """The IDM ego's action for a :class:`envs.driving.env.DrivingEnv` (or a wrapper of it)."""
    action = idm_ego_actions(env.unwrapped.sim)[0]
    return int(action) if np.ndim(action) == 0 else action.astype(np.float32)
