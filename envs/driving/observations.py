"""What the ego sees, for every scene at once.

- ``kinematics``: ``[B, N, 7]`` float32 rows ``presence, x, y, vx, vy, cos(heading),
  sin(heading)``. Row 0 is the ego: its ``x`` is 0, its ``y`` is its lateral position on the
  road and its velocities are absolute; rows 1.. are the ``N - 1`` nearest other vehicles
  within ``X_RANGE`` ahead or behind, nearest first, with position and velocity relative to
  the ego. Positions are divided by ``X_RANGE`` and ``Y_RANGE``, velocities by ``V_RANGE``,
  then everything is clipped to ``[-1, 1]``; missing rows are all zeros (presence 0).
  ``rlcourse.nn.EntityAttentionEncoder`` takes it with ``mask = obs[..., 0] > 0.5``.
- ``occupancy_grid``: ``[B, 4, GRID_CELLS, GRID_CELLS]`` float32 channels ``presence, vx,
  vy, on_road`` on a road-aligned grid of ``GRID_STEP`` metre cells centred on the ego (rows
  across the road, left lane at the top; columns along it); velocities absolute over
  ``V_RANGE``.
- ``rgb``: ``[B, 3, RGB_HEIGHT, RGB_WIDTH]`` uint8 top-down image at ``RGB_SCALE`` px/m, the
  ego at a third of the width, road grey, vehicles coloured by kind (:data:`KIND_COLOURS`).

All three are in road coordinates; on a ring (the roundabout) ``x`` differences are taken
the nearest way round (:meth:`envs.driving.road.Road.ahead_distance`), so the grid and the
image show the ring unrolled around the ego.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from envs.driving import _sim
from envs.driving.road import Road
from envs.driving.traffic import CAR, EGO, TRUCK, Vehicles

KINEMATICS_FEATURES = ("presence", "x", "y", "vx", "vy", "cos_h", "sin_h")
X_RANGE = 100.0  # [m]
Y_RANGE = 20.0  # [m]
V_RANGE = 80.0  # [m/s]
GRID_STEP = 5.0  # [m]
GRID_CELLS = 11
GRID_CHANNELS = ("presence", "vx", "vy", "on_road")
RGB_HEIGHT, RGB_WIDTH = 64, 128  # [px]
RGB_SCALE = 2.0  # [px/m]
GRASS, ASPHALT = (96, 150, 80), (100, 100, 100)
KIND_COLOURS = {EGO: (50, 200, 0), CAR: (100, 200, 255), TRUCK: (200, 120, 255)}
CRASHED_COLOUR = (255, 100, 100)


def observation_space(kind: str, observed_vehicles: int) -> spaces.Box:
    if kind == "kinematics":
        shape = (observed_vehicles, len(KINEMATICS_FEATURES))
        return spaces.Box(-1.0, 1.0, shape, np.float32)
    if kind == "occupancy_grid":
        return spaces.Box(-1.0, 1.0, (len(GRID_CHANNELS), GRID_CELLS, GRID_CELLS), np.float32)
    if kind == "rgb":
        return spaces.Box(0, 255, (3, RGB_HEIGHT, RGB_WIDTH), np.uint8)
    raise ValueError(f"unknown observation {kind!r}; use kinematics, occupancy_grid or rgb")


def observe(kind: str, v: Vehicles, road: Road, observed_vehicles: int) -> np.ndarray:
    """The observation of every scene, ``[B, ...]``."""
    if kind == "kinematics":
        return kinematics(v, road, observed_vehicles)
    if kind == "occupancy_grid":
        return occupancy_grid(v, road)
    if kind == "rgb":
        return top_down_rgb(v, road)
    raise ValueError(f"unknown observation {kind!r}; use kinematics, occupancy_grid or rgb")


def kinematics(v: Vehicles, road: Road, observed_vehicles: int) -> np.ndarray:
    """The ``kinematics`` observation, ``[B, observed_vehicles, 7]`` (by the C extension)."""
    scenes, count = v.shape
    out = np.empty((scenes, observed_vehicles, len(KINEMATICS_FEATURES)), np.float32)
    _sim.kinematics(
        v.x, v.y, v.heading, v.speed, scenes, count, observed_vehicles, out,
        X_RANGE, Y_RANGE, V_RANGE, road.circumference or 0.0,
    )  # fmt: skip
    return out


def kinematics_reference(v: Vehicles, road: Road, observed_vehicles: int) -> np.ndarray:
    """:func:`kinematics` written with numpy arrays (the oracle of the C version)."""
    scenes, count = v.shape
    rows = min(observed_vehicles, count)
    dx = road.ahead_distance(v.x - v.x[:, :1])
    dy = v.y - v.y[:, :1]
    distance = np.where(np.abs(dx) < X_RANGE, np.hypot(dx, dy), np.inf)
    distance[:, 0] = -1.0  # the ego first
    picked = np.argsort(distance, axis=1, kind="stable")[:, :rows]
    picked += np.arange(0, scenes * count, count)[:, None]
    vx, vy = v.speed * np.cos(v.heading), v.speed * np.sin(v.heading)
    out = np.zeros((scenes, observed_vehicles, len(KINEMATICS_FEATURES)), np.float32)
    block = out[:, :rows]
    block[..., 0] = np.isfinite(distance.take(picked))
    block[..., 1] = dx.take(picked) * (1.0 / X_RANGE)
    block[..., 2] = dy.take(picked) * (1.0 / Y_RANGE)
    block[..., 3] = (vx.take(picked) - vx[:, :1]) * (1.0 / V_RANGE)
    block[..., 4] = (vy.take(picked) - vy[:, :1]) * (1.0 / V_RANGE)
    heading = v.heading.take(picked)
    block[..., 5] = np.cos(heading)
    block[..., 6] = np.sin(heading)
    block[:, 0, 2] = v.y[:, 0] * (1.0 / Y_RANGE)
    block[:, 0, 3] = vx[:, 0] * (1.0 / V_RANGE)
    block[:, 0, 4] = vy[:, 0] * (1.0 / V_RANGE)
    block *= block[..., :1]  # absent rows all zero
    np.minimum(np.maximum(block, -1.0, out=block), 1.0, out=block)
    return out


def _grid_centres() -> np.ndarray:
    half = GRID_STEP * GRID_CELLS / 2
    return -half + GRID_STEP * (np.arange(GRID_CELLS) + 0.5)


def occupancy_grid(v: Vehicles, road: Road) -> np.ndarray:
    scenes, _ = v.shape
    half = GRID_STEP * GRID_CELLS / 2
    grid = np.zeros((scenes, len(GRID_CHANNELS), GRID_CELLS, GRID_CELLS), np.float32)
    col = np.floor((road.ahead_distance(v.x - v.x[:, :1]) + half) / GRID_STEP).astype(np.int64)
    row = np.floor((v.y - v.y[:, :1] + half) / GRID_STEP).astype(np.int64)
    inside = (col >= 0) & (col < GRID_CELLS) & (row >= 0) & (row < GRID_CELLS)
    scene, vehicle = np.nonzero(inside)
    r, c = row[scene, vehicle], col[scene, vehicle]
    speed, heading = v.speed[scene, vehicle], v.heading[scene, vehicle]
    grid[scene, 0, r, c] = 1.0
    grid[scene, 1, r, c] = np.clip(speed * np.cos(heading) / V_RANGE, -1, 1)
    grid[scene, 2, r, c] = np.clip(speed * np.sin(heading) / V_RANGE, -1, 1)
    centres = _grid_centres()
    xs = v.x[:, :1, None] + centres[None, None, :]  # [B, 1, W]
    ys = v.y[:, :1, None] + centres[None, :, None]  # [B, H, 1]
    grid[:, 3] = road.on_road(xs, ys)
    return grid


def top_down_rgb(v: Vehicles, road: Road) -> np.ndarray:
    scenes, _ = v.shape
    px_x = (np.arange(RGB_WIDTH) + 0.5 - RGB_WIDTH / 3) / RGB_SCALE  # [m] from the ego
    px_y = (np.arange(RGB_HEIGHT) + 0.5 - RGB_HEIGHT / 2) / RGB_SCALE
    xs = v.x[:, :1, None] + px_x[None, None, :]  # [B, 1, W]
    ys = v.y[:, :1, None] + px_y[None, :, None]  # [B, H, 1]
    image = np.empty((scenes, RGB_HEIGHT, RGB_WIDTH, 3), np.uint8)
    image[:] = GRASS
    image[np.broadcast_to(road.on_road(xs, ys), image.shape[:3])] = ASPHALT
    hx = 0.5 * (v.length * np.abs(np.cos(v.heading)) + v.width * np.abs(np.sin(v.heading)))
    hy = 0.5 * (v.length * np.abs(np.sin(v.heading)) + v.width * np.abs(np.cos(v.heading)))
    dx = road.ahead_distance(v.x - v.x[:, :1])[:, :, None] - px_x[None, None, :]
    inside_x = np.abs(dx) < hx[:, :, None]  # [B, V, W]
    inside_y = np.abs(v.y[:, :, None] - ys[:, :, 0][:, None, :]) < hy[:, :, None]  # [B, V, H]
    colours = np.array([KIND_COLOURS[EGO], KIND_COLOURS[CAR], KIND_COLOURS[TRUCK]], np.uint8)
    colour = np.where(v.crashed[..., None], np.array(CRASHED_COLOUR, np.uint8), colours[v.kind])
    covered = inside_y[:, :, :, None] & inside_x[:, :, None, :]  # [B, V, H, W]
    front = covered.argmax(axis=1)  # the lowest index wins: the ego is drawn on top
    painted = covered.any(axis=1)
    scene = np.broadcast_to(np.arange(scenes)[:, None, None], front.shape)
    image[painted] = colour[scene, front][painted]
    return image.transpose(0, 3, 1, 2).copy()
