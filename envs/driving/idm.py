"""The Intelligent Driver Model (Treiber, Hennecke and Helbing, 2000), on arrays.

``a = a_max (1 - (v / v0)^delta - (s* / s)^2)`` with the desired gap
``s* = s0 + max(0, v T + v (v - v_front) / (2 sqrt(a_max b)))``, where ``s`` is the bumper-to-
bumper gap to the vehicle in front [m]; with nobody in front (``s = inf``) the interaction term
vanishes. The result is clipped to ``[-MAX_BRAKING, MAX_ACCELERATION]`` [m/s²].
"""

from __future__ import annotations

import numpy as np

COMFORT_ACCELERATION = 3.0  # a_max [m/s²]
COMFORT_DECELERATION = 5.0  # b [m/s²]
MAX_ACCELERATION = 6.0  # [m/s²]
MAX_BRAKING = 9.0  # emergency braking [m/s²]
JAM_GAP = 5.0  # s0, bumper to bumper [m]
TIME_HEADWAY = 1.5  # T [s]
DELTA = 4.0  # acceleration exponent
MIN_GAP = 0.01  # gaps below this count as this, so that overlap means hard braking [m]
CLOSING_FACTOR = 1.0 / (2.0 * np.sqrt(COMFORT_ACCELERATION * COMFORT_DECELERATION))  # [s²/m]


def idm_acceleration(
    speed: np.ndarray | float,
    target_speed: np.ndarray | float,
    gap: np.ndarray | float,
    front_speed: np.ndarray | float,
    delta: np.ndarray | float = DELTA,
    time_headway: np.ndarray | float = TIME_HEADWAY,
) -> np.ndarray:
    """IDM acceleration [m/s²] for vehicles at ``speed`` [m/s] wanting ``target_speed``, with a
    leader ``gap`` [m] ahead (``inf`` for none) driving at ``front_speed`` [m/s]."""
    free = 1.0 - np.power(speed / np.maximum(target_speed, 0.1), delta)
    closing = speed * (speed - front_speed) * CLOSING_FACTOR
    desired = JAM_GAP + np.maximum(0.0, speed * time_headway + closing)
    interaction = np.square(desired / np.maximum(gap, MIN_GAP))
    accel = COMFORT_ACCELERATION * (free - interaction)
    return np.minimum(np.maximum(accel, -MAX_BRAKING), MAX_ACCELERATION)
