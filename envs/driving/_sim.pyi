"""Types of the C extension envs.driving._sim (see _sim.c, envs.driving.traffic.run and
leader_gaps, envs.driving.simulation.DrivingSim.step and
envs.driving.observations.kinematics)."""

import numpy as np

PARAM_COUNT: int
ACCEL_TRAFFIC: int
ACCEL_TRACK_SPEED: int
ACCEL_GIVEN: int
SETTING_COUNT: int

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
def leader_gaps(
    vehicles: tuple[np.ndarray, ...],
    scenes: int,
    count: int,
    lanes: int,
    total_lanes: int,
    lane_width: float,
    merge_start: float,
    ramp_end: float,
    circumference: float,
    out: np.ndarray,
    /,
) -> None: ...
def policy_step(
    vehicles: tuple[np.ndarray, ...],
    episode: tuple[np.ndarray, ...],
    scenes: int,
    count: int,
    params: np.ndarray,
    lanes: int,
    total_lanes: int,
    lane_width: float,
    merge_start: float,
    ramp_end: float,
    circumference: float,
    settings: np.ndarray,
    target_speeds: np.ndarray,
    dt: float,
    substeps: int,
    lane_change_cycle: np.ndarray,
    actions: np.ndarray,
    reward: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    terms: np.ndarray,
    mask: np.ndarray,
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
