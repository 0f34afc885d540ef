"""`DrivingEnv` (``rlcourse/Highway-v0``, ``rlcourse/Merge-v0``, ``rlcourse/Roundabout-v0``):
one driving scene as a Gymnasium env, a thin adapter over
:class:`envs.driving.simulation.DrivingSim`."""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.checks import check_choice
from envs.driving.observations import observation_space
from envs.driving.scenarios import DrivingConfig
from envs.driving.simulation import ACTION_COUNT, Action, DrivingSim

CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(DrivingConfig))


class DrivingEnv(gym.Env):
    """The ego drives among IDM/MOBIL traffic on a highway, past an on-ramp or through a
    roundabout.

    ## Action Space
    ``action="discrete"``: ``Discrete(5)``, :class:`Action` ``LANE_LEFT, IDLE, LANE_RIGHT,
    FASTER, SLOWER``: a lane change moves the target lane by one, FASTER/SLOWER move the
    target speed along ``target_speeds`` [m/s]; low-level controllers track both. An action
    that cannot act (no lane there, top or bottom speed already) does what IDLE does;
    ``info["action_mask"]`` (bool ``[5]``) says which act. ``action="continuous"``:
    ``Box(-1, 1, (2,), float32)``, acceleration (±5 [m/s²]) and steering (±π/4 [rad]).

    ## Observation Space
    ``observation="kinematics"``: ``Box(-1, 1, (observed_vehicles, 7), float32)``, rows
    ``presence, x, y, vx, vy, cos_h, sin_h`` for the ego and its nearest vehicles;
    ``"occupancy_grid"``: ``Box(-1, 1, (4, 11, 11), float32)``; ``"rgb"``:
    ``Box(0, 255, (3, 64, 128), uint8)``. All are in road coordinates (on the roundabout,
    along and across the ring). See :mod:`envs.driving.observations`.

    ## Rewards
    Per policy step, the named terms ``collision``, ``high_speed``, ``right_lane`` and
    ``lane_change`` in ``info["rewards"]`` (already weighted); their sum, mapped onto
    ``[0, 1]`` when ``normalize_reward``, and 0 off the road. See :mod:`envs.driving.rewards`.

    ## Starting State
    Random traffic drawn from the env's ``np_random`` (:func:`envs.driving.scenarios.spawn`):
    the ego at 25 [m/s] in a random lane (highway) or on the main road before the ramp
    (merge); at the start of the entry lane, behind ``ramp_vehicles`` other entering vehicles
    and at most the speed limit (roundabout). Nobody starts faster than its IDM desired gap to
    the vehicle ahead allows, the ego included, so an ego spawned in queued traffic starts slow.

    ## Episode End
    Termination: the ego collides, leaves the road (``offroad_terminal``: off the end of a
    ramp too) or passes the end of its route (merge: ``road_end``; roundabout: the exit on
    the far side of the ring). Truncation: ``duration`` [s] of simulated time.

    ## Arguments
    The fields of :class:`envs.driving.scenarios.DrivingConfig`, as keywords: ``scenario``
    (``"highway"``, ``"merge"`` or ``"roundabout"``), ``lanes``, ``vehicles`` (other than
    the ego),
    ``density``, ``truck_fraction``, ``duration`` [s], ``simulation_frequency`` and
    ``policy_frequency`` [Hz], ``observation``, ``observed_vehicles``, ``action``,
    ``target_speeds`` [m/s], ``speed_limit`` [m/s], the reward weights and
    ``reward_speed_range``, ``offroad_terminal``, for merge ``ramp_vehicles``,
    ``merge_start``, ``ramp_end``, ``road_end`` and ``ego_x`` [m], and for roundabout
    ``ramp_vehicles`` and ``ring_radius`` [m]. ``render_mode``: ``None``, ``"human"`` or
    ``"rgb_array"`` (the roundabout is drawn whole, from above).

    ``info`` holds ``speed`` [m/s], ``lane``, ``crashed``, ``time`` [s], ``rewards``,
    ``action_mask`` (discrete actions) and the episode-so-far metrics ``collision`` (0/1),
    ``mean_speed`` [m/s] and ``distance`` [m].

    ## Version History
    - v0: Initial version.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 15}  # noqa: RUF012

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        unknown = sorted(set(settings) - set(CONFIG_KEYS))
        if unknown:
            raise ValueError(f"unknown driving settings {unknown}; valid: {list(CONFIG_KEYS)}")
        check_choice("render_mode", render_mode, self.metadata["render_modes"], optional=True)
        if "target_speeds" in settings:
            settings["target_speeds"] = tuple(float(s) for s in settings["target_speeds"])
        if "reward_speed_range" in settings:
            settings["reward_speed_range"] = tuple(settings["reward_speed_range"])
        self.config = DrivingConfig(**settings)
        self.render_mode = render_mode
        self.sim = DrivingSim(self.config, scenes=1)
        self.observation_space = observation_space(
            self.config.observation, self.config.observed_vehicles
        )
        self.action_space: spaces.Space[Any] = (
            spaces.Discrete(len(Action))
            if self.config.action == "discrete"
            else spaces.Box(-1.0, 1.0, (2,), np.float32)
        )
        self.metadata = {**self.metadata, "render_fps": self.config.policy_frequency,
                         "substep_fps": self.config.simulation_frequency}  # fmt: skip
        self._renderer: Any = None
        # With rgb_array rendering: draw every simulation step into substep_frames (videos at
        # simulation_frequency instead of one picture per decision).
        self.record_substeps = False
        self.substep_frames: list[np.ndarray] = []
        self._last_rewards: dict[str, float] = {}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options:
            raise ValueError(f"DrivingEnv.reset takes no options, got {sorted(options)}")
        self.sim.reset(self.np_random)
        self._last_rewards = {}
        if self.render_mode == "human":
            self.render()
        return self.sim.observation()[0], self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.config.action == "discrete":
            if np.ndim(action) != 0 or int(action) not in range(ACTION_COUNT):
                raise ValueError(f"action must be an int in 0..{ACTION_COUNT - 1}, got {action!r}")
            actions = np.array([int(action)])
        else:
            actions = np.asarray(action, dtype=np.float64).reshape(1, 2)
        if self.record_substeps and self.render_mode == "rgb_array":
            self.substep_frames, start = [], float(self.sim.time[0])
            dt = 1.0 / self.config.simulation_frequency

            def draw() -> None:
                self.substep_frames.append(self._frame(start + dt * (len(self.substep_frames) + 1)))

            result = self.sim.step_reference(actions, draw)
        else:
            result = self.sim.step(actions)
        self._last_rewards = {name: float(term[0]) for name, term in result.rewards.items()}
        if self.render_mode == "human":
            self.render()
        return (
            result.observation[0],
            float(result.reward[0]),
            bool(result.terminated[0]),
            bool(result.truncated[0]),
            self._info(result.action_mask),
        )

    def _info(self, action_mask: np.ndarray | None = None) -> dict[str, Any]:
        info = {
            key: (value[0].item() if value[0].ndim == 0 else value[0])
            for key, value in self.sim.info(action_mask).items()
        }
        info["rewards"] = dict(self._last_rewards)
        return info

    def render(self) -> Any:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to the env")
            return None
        if self.render_mode == "rgb_array":
            return self._frame(self.sim.time[0])
        self._drawer().show(self.sim.vehicles, 0, self.sim.time[0])
        return None

    def _drawer(self) -> Any:
        if self._renderer is None:
            from envs.driving.rendering import DrivingRenderer

            self._renderer = DrivingRenderer(self.config.road, fps=self.metadata["render_fps"])
        return self._renderer

    def _frame(self, time: float) -> np.ndarray:
        """The scene as an [H, W, 3] picture, labelled with ``time`` [s]."""
        return self._drawer().frame(self.sim.vehicles, 0, time)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
