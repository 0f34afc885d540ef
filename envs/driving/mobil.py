"""MOBIL lane-change decisions (Kesting, Treiber and Helbing, 2007), on arrays.

A vehicle changes into a neighbouring lane when

- safety: neither the new follower nor the vehicle itself would have to brake harder than
  ``MAX_BRAKING_IMPOSED`` [m/s²] after the change, and
- incentive: its own gain plus ``politeness`` times its followers' gains exceeds
  ``MIN_ACCELERATION_GAIN`` [m/s²]; a vehicle that must leave its lane (an ending ramp)
  skips the incentive test.

Accelerations come from :func:`envs.driving.idm.idm_acceleration`; a missing follower
contributes zero gain and is always safe.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

MAX_BRAKING_IMPOSED = 2.0  # [m/s²]
MIN_ACCELERATION_GAIN = 0.2  # [m/s²]
POLITENESS = 0.0  # default weight of the followers' gains


class LaneChangeAccelerations(NamedTuple):
    """IDM accelerations [m/s²] before (``now``) and after (``after``) a candidate change."""

    self_now: np.ndarray  # the vehicle behind its current leader
    self_after: np.ndarray  # the vehicle behind its leader in the new lane
    new_follower_now: np.ndarray  # the new lane's follower behind the new lane's leader
    new_follower_after: np.ndarray  # the new lane's follower behind the vehicle
    old_follower_now: np.ndarray  # the current follower behind the vehicle
    old_follower_after: np.ndarray  # the current follower behind the current leader


def is_safe(acc: LaneChangeAccelerations) -> np.ndarray:
    """Nobody, the vehicle included, would brake harder than ``MAX_BRAKING_IMPOSED``."""
    return (acc.new_follower_after >= -MAX_BRAKING_IMPOSED) & (
        acc.self_after >= -MAX_BRAKING_IMPOSED
    )


def incentive(
    acc: LaneChangeAccelerations, politeness: np.ndarray | float = POLITENESS
) -> np.ndarray:
    """Own acceleration gain plus ``politeness`` times the two followers' gains [m/s²]."""
    others = (acc.new_follower_after - acc.new_follower_now) + (
        acc.old_follower_after - acc.old_follower_now
    )
    return acc.self_after - acc.self_now + politeness * others


def wants_change(
    acc: LaneChangeAccelerations,
    politeness: np.ndarray | float = POLITENESS,
    must_leave: np.ndarray | bool = False,
) -> np.ndarray:
    """The MOBIL decision: safe, and either worth it or forced (``must_leave``)."""
    return is_safe(acc) & (must_leave | (incentive(acc, politeness) >= MIN_ACCELERATION_GAIN))
