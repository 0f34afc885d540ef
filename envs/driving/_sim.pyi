"""Types of the C extension envs.driving._sim (see _sim.c, envs.driving.traffic.run and
envs.driving.observations.kinematics)."""

import numpy as np

PARAM_COUNT: int
ACCEL_TRAFFIC: int
ACCEL_TRACK_SPEED: int
ACCEL_GIVEN: int

def run(
    vehicles: tuple[np.ndarray, ...],
    scenes: int,
    count: int,
    params: np.ndarray,
    lanes: int,
    total_lanes: int,
    lane_width: float,
    merge_start: float,
    ramp_end: float,
    circumference: float,
    dt: float,
    directions: np.ndarray,
    acceleration_mode: int,
    ego_acceleration: np.ndarray | None,
    ego_steering: np.ndarray | None,
    /,
) -> None: ...
def kinematics(
    x: np.ndarray,
    y: np.ndarray,
    heading: np.ndarray,
    speed: np.ndarray,
    scenes: int,
    count: int,
    observed: int,
    out: np.ndarray,
    x_range: float,
    y_range: float,
    v_range: float,
    circumference: float,
    /,
) -> None: ...
