"""Multi-lane roads, straight or closed into a ring, optionally with an on-ramp that merges
from the right.

Coordinates: ``x`` along the road [m], ``y`` across it [m], increasing to the right (lane 0
is the leftmost). Lane ``l`` has its centre at ``y = l * lane_width``. A road with a ramp has
one more lane, index ``lanes``, that exists only for ``x <= ramp.end``; its vehicles may move
into lane ``lanes - 1`` only inside the merge zone ``[ramp.merge_start, ramp.end]``, and no
vehicle may move onto the ramp. Every function takes arrays of any (matching) shape.

A ring (``circumference`` set) closes the road on itself: the points ``x`` and
``x + circumference`` are the same place, so vehicles keep an ever-growing ``x`` (the distance
they have driven) while neighbours, gaps and the ramp are found at ``x`` modulo the
circumference (:meth:`Road.place`, :meth:`Road.ahead_distance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LANE_WIDTH = 4.0  # [m]
SPEED_LIMIT = 30.0  # [m/s]


@dataclass(frozen=True)
class Ramp:
    """An on-ramp to the right of the main lanes, ending at ``end`` [m]."""

    merge_start: float  # where lane changes onto the main road begin to be allowed [m]
    end: float  # where the ramp lane ends [m]

    def __post_init__(self) -> None:
        if not 0.0 < self.merge_start < self.end:
            raise ValueError(
                f"ramp needs 0 < merge_start < end, got merge_start={self.merge_start}, "
                f"end={self.end}"
            )


@dataclass(frozen=True)
class Road:
    """``lanes`` main lanes of ``lane_width`` [m], a speed limit [m/s] and an optional ramp."""

    lanes: int
    lane_width: float = LANE_WIDTH
    speed_limit: float = SPEED_LIMIT
    ramp: Ramp | None = None
    length: float = np.inf  # where the road ends [m] (episodes end when the ego passes it)
    circumference: float | None = None  # a ring road's length [m]; None for a straight road

    def __post_init__(self) -> None:
        if self.circumference is not None and not self.circumference > 0:
            raise ValueError(f"a ring needs circumference > 0, got {self.circumference}")
        ring, ramp = self.circumference, self.ramp
        if ring is not None and ramp is not None and not ramp.end < ring:
            raise ValueError(
                f"a ring's ramp must end before the ring closes, got end={ramp.end}, "
                f"circumference={ring}"
            )
        if self.lanes < 1:
            raise ValueError(f"a road needs at least 1 lane, got lanes={self.lanes}")
        if self.lane_width <= 0 or self.speed_limit <= 0:
            raise ValueError(
                f"lane_width and speed_limit must be > 0, got {self.lane_width}, {self.speed_limit}"
            )

    @property
    def ring(self) -> bool:
        return self.circumference is not None

    def place(self, x: np.ndarray) -> np.ndarray:
        """Where along the road ``x`` is: ``x`` itself, or on a ring ``x`` modulo the
        circumference [m]."""
        return np.asarray(x) % self.circumference if self.circumference is not None else x

    def ahead_distance(self, dx: np.ndarray) -> np.ndarray:
        """A difference of ``x`` as a distance along the road [m]: itself, or on a ring the
        nearest way round (in ``[-circumference / 2, circumference / 2)``)."""
        if self.circumference is None:
            return dx
        half = self.circumference / 2
        return (np.asarray(dx) + half) % self.circumference - half

    @property
    def total_lanes(self) -> int:
        """Main lanes plus the ramp lane, if any."""
        return self.lanes + (self.ramp is not None)

    @property
    def ramp_lane(self) -> int:
        """Index of the ramp lane (``lanes``; only meaningful when there is a ramp)."""
        return self.lanes

    def lane_center(self, lane: np.ndarray | int) -> np.ndarray:
        """``y`` of the centre of each lane [m]."""
        return np.asarray(lane) * self.lane_width

    def lane_of(self, y: np.ndarray) -> np.ndarray:
        """The lane (int64) whose centre is nearest to each ``y``, clipped to existing lanes."""
        # truncation of y / w + 1/2 rounds to nearest for y >= -w/2; below, 0 is right anyway
        lane = (np.asarray(y) * (1.0 / self.lane_width) + 0.5).astype(np.int64)
        return np.minimum(np.maximum(lane, 0), self.total_lanes - 1)

    def may_change(self, lane: np.ndarray, to: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Whether a vehicle in ``lane`` at ``x`` may start a change into lane ``to``."""
        lane, to = np.asarray(lane), np.asarray(to)
        allowed = (np.abs(to - lane) == 1) & (to >= 0) & (to < self.lanes)
        if self.ramp is not None:
            from_ramp = lane == self.ramp_lane
            x = self.place(x)
            in_zone = (x >= self.ramp.merge_start) & (x <= self.ramp.end)
            allowed &= ~from_ramp | in_zone
        return allowed

    def on_road(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether the point ``(x, y)`` lies on a lane that exists there."""
        y = np.asarray(y)
        half = self.lane_width / 2
        on = (y >= -half) & (y <= (self.lanes - 1) * self.lane_width + half)
        if self.ramp is not None:
            ramp_y = self.ramp_lane * self.lane_width
            ramp = (y > ramp_y - half) & (y <= ramp_y + half) & (self.place(x) <= self.ramp.end)
            on = on | ramp
        return on

    def right_lane_score(self, lane: np.ndarray) -> np.ndarray:
        """0 in the leftmost main lane, 1 in the rightmost (the ramp counts as rightmost)."""
        return np.minimum(np.maximum(np.asarray(lane) / max(self.lanes - 1, 1), 0.0), 1.0)
