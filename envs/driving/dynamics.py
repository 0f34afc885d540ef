"""Kinematic bicycle model and the low-level controllers that drive it, on arrays.

The bicycle model (reference point at the centre of gravity, half-way along the vehicle):
slip angle ``beta = atan(tan(steering) / 2)``, then over ``dt``::

    x += v cos(heading + beta) dt        y += v sin(heading + beta) dt
    heading += v sin(beta) / (length / 2) dt        v += acceleration dt

so a constant steering angle drives a circle of radius ``(length / 2) / sin(beta)`` [m].
"""

from __future__ import annotations

import numpy as np

MAX_SPEED = 40.0  # [m/s]
MAX_STEERING = np.pi / 3  # [rad]
TAU_ACCELERATION = 0.6  # speed controller time constant [s]
TAU_HEADING = 0.2  # heading controller time constant [s]
TAU_LATERAL = 0.6  # lateral position controller time constant [s]
MAX_HEADING_OFFSET = 0.3  # largest heading the lateral controller asks for: keeps the noses
# of long vehicles that move over slowly out of the lane beyond [rad]


def bicycle_step(
    x: np.ndarray,
    y: np.ndarray,
    heading: np.ndarray,
    speed: np.ndarray,
    acceleration: np.ndarray,
    steering: np.ndarray,
    length: np.ndarray,
    dt: float,
) -> None:
    """Advance every vehicle by ``dt`` [s] in place (forward Euler); speed stays within
    ``[0, MAX_SPEED]`` [m/s]."""
    beta = np.arctan(0.5 * np.tan(steering))
    direction = heading + beta
    step = speed * dt
    x += step * np.cos(direction)
    y += step * np.sin(direction)
    heading += step * np.sin(beta) / (0.5 * length)
    speed += acceleration * dt
    np.minimum(np.maximum(speed, 0.0, out=speed), MAX_SPEED, out=speed)


def speed_control(speed: np.ndarray, target_speed: np.ndarray) -> np.ndarray:
    """Proportional acceleration [m/s²] towards ``target_speed`` [m/s]."""
    return (target_speed - speed) / TAU_ACCELERATION


def lane_keeping_steering(
    y: np.ndarray, heading: np.ndarray, speed: np.ndarray, target_y: np.ndarray, length: np.ndarray
) -> np.ndarray:
    """Steering angle [rad] that brings a vehicle to the straight lane centred at ``target_y``.

    Cascade: lateral error -> lateral speed -> heading reference -> yaw rate -> steering.
    """
    moving = np.maximum(speed, 1.0)  # below 1 m/s the controller acts as if at 1 m/s
    lateral_speed = (target_y - y) / TAU_LATERAL
    heading_ref = clip(np.arcsin(clip(lateral_speed / moving, 1.0)), MAX_HEADING_OFFSET)
    yaw_rate = wrap_to_pi(heading_ref - heading) / TAU_HEADING
    beta = np.arcsin(clip(0.5 * length * yaw_rate / moving, 1.0))
    return clip(np.arctan(2.0 * np.tan(beta)), MAX_STEERING)


def clip(value: np.ndarray, bound: float) -> np.ndarray:
    """``value`` clipped to ``[-bound, bound]`` (plain ufuncs: cheaper than ``np.clip``)."""
    return np.minimum(np.maximum(value, -bound), bound)


def wrap_to_pi(angle: np.ndarray) -> np.ndarray:
    """Angles [rad] mapped into ``[-pi, pi)``."""
    return (angle + np.pi) % (2 * np.pi) - np.pi
