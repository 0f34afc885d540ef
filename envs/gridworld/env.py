"""`GridWorldEnv`: a Gymnasium env over a text map, with its explicit model."""

from __future__ import annotations

import os
from bisect import bisect_right
from functools import cached_property
from itertools import accumulate, pairwise
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.checks import check_choice
from envs.gridworld.dynamics import Outcomes, build_outcomes, reward_terms
from envs.gridworld.maps import Cell, GridMap, load_map
from envs.gridworld.rendering import GridRenderer, render_ansi
from rlcourse.mdp import TabularMDP

OBS_TYPES = ("index", "onehot", "coords", "image")
IMAGE_CHANNELS = ("wall", "agent", "goal", "hazard", "ice")


class GridWorldEnv(gym.Env):
    """A gridworld built from a text map: walls, starts, terminals, cliffs, wind and ice.

    The map is a layout name (``"sutton_barto_4x4"``, ``"russell_norvig_4x3"``, ``"cliff"``,
    ``"windy"``, ``"windy_kings"``, ``"windy_kings_stay"``, ``"windy_stochastic"``,
    ``"slippery_ice"``, ``"maze100"``), a map file path or a :class:`GridMap`; the file format
    is described in :mod:`envs.gridworld.maps`.

    ## Action Space
    ``Discrete(4)``, ``Discrete(8)`` or ``Discrete(9)`` following the map's ``moves``; the
    values are :class:`Action`: 0 UP, 1 RIGHT, 2 DOWN, 3 LEFT, then 4 UP_RIGHT, 5 DOWN_RIGHT,
    6 DOWN_LEFT, 7 UP_LEFT, then 8 STAY. A move into a wall or off the grid leaves the agent
    where it is; on a slippery cell the move turns ±90° with the map's slip probability (half
    each way); after the move the wind of the column the agent moved from pushes it up [cells].

    ## Observation Space
    State index ``s = row * n_cols + col`` (walls included), as selected by ``obs_type``:

    - ``"index"``: ``Discrete(n_rows * n_cols)``, the index itself.
    - ``"onehot"``: ``Box(0, 1, (n_rows * n_cols,), float32)``, one-hot index.
    - ``"coords"``: ``Box(0, [n_rows - 1, n_cols - 1], (2,), int64)``, ``(row, col)`` [cells].
    - ``"image"``: ``Box(0, 255, (5, n_rows, n_cols), uint8)``, planes for walls, the agent,
      goals (terminals with reward >= 0), hazards (cliffs, holes, terminals with reward < 0)
      and ice; 255 where set.

    ## Rewards
    Each move gives the map's ``step_reward``; entering a cliff gives ``cliff_reward`` instead
    (and teleports to a start cell); entering a terminal letter adds its reward, entering a hole
    adds ``hole_reward``. ``info["rewards"]`` names the terms (``step``, and ``cliff``,
    ``terminal``, ``hole`` where the map has them); they sum to the reward [reward units].

    ## Starting State
    A start cell ``S`` (uniform among several), or ``options={"state": s}`` in ``reset`` for any
    non-terminal state ``s`` (an index or a ``(row, col)`` pair), e.g. for exploring starts.

    ## Episode End
    Termination: entering a terminal letter or a hole. Truncation: only through the
    ``max_episode_steps`` of the registered id (``TimeLimit`` wrapper). Terminal states are
    absorbing: further steps stay there with reward 0.

    ## Arguments
    - ``map``: layout name, map file path or :class:`GridMap` [default ``"cliff"``].
    - ``obs_type``: ``"index"``, ``"onehot"``, ``"coords"`` or ``"image"``.
    - ``render_mode``: ``None``, ``"human"``, ``"rgb_array"`` or ``"ansi"``.
    - ``cell_size``: cell size of rendered frames [px]; default fits the grid in about 768 px.

    ``info`` from ``step`` holds ``prob`` (the probability of the sampled outcome) and
    ``rewards``. The explicit model is ``P[s][a] = [(prob, next_state, reward, terminated)]``
    (toy-text style) and ``mdp`` (:class:`TabularMDP`); ``step`` samples from the same model.

    ## Version History
    - v0: Initial version.
    """

    metadata = {"render_modes": ["human", "rgb_array", "ansi"], "render_fps": 8}  # noqa: RUF012

    def __init__(
        self,
        map: str | os.PathLike[str] | GridMap = "cliff",
        obs_type: str = "index",
        render_mode: str | None = None,
        cell_size: int | None = None,
    ) -> None:
        check_choice("obs_type", obs_type, OBS_TYPES)
        check_choice("render_mode", render_mode, self.metadata["render_modes"], optional=True)
        self.grid: GridMap = load_map(map)
        self.n_rows, self.n_cols = self.grid.shape
        self.n_states = self.n_rows * self.n_cols
        self.n_actions = self.grid.moves
        self.obs_type = obs_type
        self.render_mode = render_mode
        self.cell_size = cell_size
        self.cells = self.grid.cell_types()

        self.outcomes: Outcomes = build_outcomes(self.grid)
        o = self.outcomes
        initial = self.grid.start_mask().ravel().astype(np.float64)
        initial /= initial.sum()
        self.mdp = TabularMDP.from_arrays(
            o.sa, o.next_state, o.prob, o.reward, o.terminated,
            self.n_states, self.n_actions, initial,
        )  # fmt: skip
        self.reward_names, terms = reward_terms(self.grid, o)
        self._table = self._sampling_table(o, self.reward_names, terms)
        self._starts = np.flatnonzero(initial).tolist()

        self.action_space = spaces.Discrete(self.n_actions)
        self.observation_space = self._make_observation_space()
        self._index_obs = obs_type == "index"
        if obs_type == "image":
            planes = np.zeros((len(IMAGE_CHANNELS), self.n_rows, self.n_cols), dtype=np.uint8)
            terminal_reward = self.grid.terminal_reward_grid()
            is_terminal = self.cells == Cell.TERMINAL
            planes[0] = self.cells == Cell.WALL
            planes[2] = is_terminal & (terminal_reward >= 0)
            planes[3] = np.isin(self.cells, (Cell.CLIFF, Cell.HOLE)) | (
                is_terminal & (terminal_reward < 0)
            )
            planes[4] = self.cells == Cell.ICE
            self._image_planes = planes * np.uint8(255)

        self.s = self._starts[0]
        self.lastaction: int | None = None
        self._renderer: GridRenderer | None = None

    # ------------------------------------------------------------------------------ model

    @staticmethod
    def _sampling_table(
        o: Outcomes, names: tuple[str, ...], terms: np.ndarray
    ) -> list[tuple[Any, Any]]:
        """Per row ``s*A + a``: ``(None, outcome)`` for a certain outcome, else
        ``(cumulative thresholds, outcomes)``; an outcome is
        ``(next_state, reward, terminated, prob, reward_terms_dict)``."""
        outcomes = [
            (s, r, t, p, dict(zip(names, term_values, strict=True)))
            for s, r, t, p, term_values in zip(
                o.next_state.tolist(), o.reward.tolist(), o.terminated.tolist(),
                o.prob.tolist(), terms.tolist(), strict=True,
            )
        ]  # fmt: skip
        probs = o.prob.tolist()
        table: list[tuple[Any, Any]] = []
        ptr = o.row_ptr.tolist()
        for lo, hi in pairwise(ptr):
            if hi - lo == 1:
                table.append((None, outcomes[lo]))
            else:
                thresholds = list(accumulate(probs[lo : hi - 1]))
                table.append((thresholds, outcomes[lo:hi]))
        return table

    @cached_property
    def P(self) -> dict[int, dict[int, list[tuple[float, int, float, bool]]]]:
        """Toy-text model ``P[s][a] = [(prob, next_state, reward, terminated), ...]``."""
        o = self.outcomes
        rows = list(
            zip(o.prob.tolist(), o.next_state.tolist(), o.reward.tolist(),
                o.terminated.tolist(), strict=True)
        )  # fmt: skip
        ptr = o.row_ptr.tolist()
        A = self.n_actions
        return {
            s: {a: rows[ptr[s * A + a] : ptr[s * A + a + 1]] for a in range(A)}
            for s in range(self.n_states)
        }

    @property
    def initial_state_distrib(self) -> np.ndarray:
        """[S] start-state distribution (the toy-text attribute name)."""
        return self.mdp.initial

    def to_coords(self, state: int) -> tuple[int, int]:
        """(row, col) of a state index."""
        row, col = divmod(int(state), self.n_cols)
        return row, col

    def to_state(self, row: int, col: int) -> int:
        """State index of (row, col)."""
        if not (0 <= row < self.n_rows and 0 <= col < self.n_cols):
            raise ValueError(f"({row}, {col}) is off the {self.n_rows}x{self.n_cols} grid")
        return int(row) * self.n_cols + int(col)

    # -------------------------------------------------------------------------- gym API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        state = None
        if options:
            unknown = set(options) - {"state"}
            if unknown:
                raise ValueError(f"unknown reset options {sorted(unknown)}; known: ['state']")
            state = options.get("state")
        if state is None:
            starts = self._starts
            s = starts[0] if len(starts) == 1 else starts[int(self.np_random.integers(len(starts)))]
            prob = 1.0 / len(starts)
        else:
            s = self._check_start(state)
            prob = 1.0
        self.s = s
        self.lastaction = None
        if self.render_mode == "human":
            self.render()
        return self._observe(s), {"prob": prob}

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        a = int(action)
        if not 0 <= a < self.n_actions:
            raise ValueError(f"action {action!r} is not in Discrete({self.n_actions})")
        thresholds, outcome = self._table[self.s * self.n_actions + a]
        if thresholds is not None:  # only stochastic rows draw a random number
            outcome = outcome[bisect_right(thresholds, self.np_random.random())]
        s, reward, terminated, prob, rewards = outcome
        self.s = s
        self.lastaction = a
        if self.render_mode == "human":
            self.render()
        obs = s if self._index_obs else self._observe(s)
        return obs, reward, terminated, False, {"prob": prob, "rewards": rewards.copy()}

    def render(self) -> Any:
        if self.render_mode is None:
            gym.logger.warn(
                "render() called without a render_mode; pass render_mode= to gym.make "
                '("rgb_array", "ansi" or "human")'
            )
            return None
        if self.render_mode == "ansi":
            return render_ansi(self.grid, self.s)
        renderer = self._get_renderer()
        if self.render_mode == "rgb_array":
            return renderer.frame(self.s)
        renderer.show(self.s)
        return None

    def render_values(
        self,
        values: np.ndarray | None = None,
        policy: np.ndarray | None = None,
        show_agent: bool = False,
    ) -> np.ndarray:
        """[H, W, 3] uint8 frame with a value heatmap ([S] or [rows, cols]) and policy arrows
        ([S] actions or [S, A] probabilities); see :func:`rendering.render_values`."""
        return self._get_renderer().frame(self.s if show_agent else None, values, policy)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # ---------------------------------------------------------------------------- helpers

    def _get_renderer(self) -> GridRenderer:
        if self._renderer is None:
            self._renderer = GridRenderer(self.grid, self.cell_size, self.metadata["render_fps"])
        return self._renderer

    def _check_start(self, state: Any) -> int:
        if isinstance(state, tuple | list | np.ndarray) and len(state) == 2:
            s = self.to_state(int(state[0]), int(state[1]))
        else:
            s = int(state)
            if not 0 <= s < self.n_states:
                raise ValueError(f"state {state!r} is not in [0, {self.n_states})")
        if self.mdp.terminal[s]:
            r, c = self.to_coords(s)
            kind = Cell(self.cells[r, c]).name.lower()
            raise ValueError(f"cannot start in state {s} at ({r}, {c}): a {kind} cell")
        return s

    def _make_observation_space(self) -> spaces.Space[Any]:
        if self.obs_type == "index":
            return spaces.Discrete(self.n_states)
        if self.obs_type == "onehot":
            return spaces.Box(0.0, 1.0, (self.n_states,), dtype=np.float32)
        if self.obs_type == "coords":
            high = np.array([self.n_rows - 1, self.n_cols - 1], dtype=np.int64)
            return spaces.Box(np.zeros(2, dtype=np.int64), high, (2,), dtype=np.int64)
        return spaces.Box(0, 255, (len(IMAGE_CHANNELS), self.n_rows, self.n_cols), dtype=np.uint8)

    def _observe(self, s: int) -> Any:
        if self._index_obs:
            return s
        if self.obs_type == "onehot":
            obs = np.zeros(self.n_states, dtype=np.float32)
            obs[s] = 1.0
            return obs
        row, col = divmod(s, self.n_cols)
        if self.obs_type == "coords":
            return np.array([row, col], dtype=np.int64)
        image = self._image_planes.copy()
        image[1, row, col] = 255
        return image
