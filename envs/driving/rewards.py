"""The driving reward: named terms, weighted by the config, combined in one place.

Terms (each ``[B]``, already multiplied by its weight):

- ``collision``: ``collision_reward`` when the ego has crashed.
- ``high_speed``: ``high_speed_reward`` times the ego's forward speed mapped linearly from
  ``reward_speed_range`` [m/s] onto ``[0, 1]`` (clipped).
- ``right_lane``: ``right_lane_reward`` times 0 in the leftmost lane to 1 in the rightmost.
- ``lane_change``: ``lane_change_reward`` when the action asked for a lane change.

The reward is their sum; with ``normalize_reward`` it is mapped linearly from
``[collision_reward, high_speed_reward + right_lane_reward]`` onto ``[0, 1]``. Off the road
the reward is 0.
"""

from __future__ import annotations

import functools
import operator

import numpy as np

from envs.driving.road import Road
from envs.driving.scenarios import DrivingConfig
from envs.driving.traffic import Vehicles

TERM_NAMES = ("collision", "high_speed", "right_lane", "lane_change")  # _sim.c's order too


def reward_terms(
    v: Vehicles, road: Road, config: DrivingConfig, lane_change: np.ndarray
) -> dict[str, np.ndarray]:
    low, high = config.reward_speed_range
    forward = v.speed[:, 0] * np.cos(v.heading[:, 0])
    return {
        "collision": config.collision_reward * v.crashed[:, 0],
        "high_speed": config.high_speed_reward
        * np.minimum(np.maximum((forward - low) / (high - low), 0.0), 1.0),
        "right_lane": config.right_lane_reward * road.right_lane_score(road.lane_of(v.y[:, 0])),
        "lane_change": config.lane_change_reward * lane_change,
    }


def total_reward(
    terms: dict[str, np.ndarray], config: DrivingConfig, on_road: np.ndarray
) -> np.ndarray:
    reward = functools.reduce(operator.add, terms.values())
    if config.normalize_reward:
        low = config.collision_reward
        high = config.high_speed_reward + config.right_lane_reward
        reward = (reward - low) / (high - low)
    return reward * on_road
