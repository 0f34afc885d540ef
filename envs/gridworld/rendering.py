"""Drawing gridworlds: RGB frames, a pygame window, text, and value/policy overlays.

pygame is imported inside the functions that draw, so importing this module is cheap and needs
no display. Frames are [H, W, 3] uint8 arrays with H = rows * cell_size (+ a strip of
``cell_size // 2`` pixels under the grid showing the wind, on windy maps) and
W = cols * cell_size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.gridworld.dynamics import DELTAS, Action, absorbing_mask
from envs.gridworld.maps import Cell, GridMap
from rlcourse.render import FontCache, PygameWindow

RGB = tuple[int, int, int]

FLOOR_COLOUR: RGB = (243, 241, 236)
START_COLOUR: RGB = (214, 228, 250)
WALL_COLOUR: RGB = (58, 62, 76)
CLIFF_COLOUR: RGB = (128, 74, 58)
CLIFF_HATCH: RGB = (92, 50, 40)
ICE_COLOUR: RGB = (200, 233, 248)
ICE_STREAK: RGB = (245, 252, 255)
HOLE_COLOUR: RGB = (24, 34, 62)
GOAL_COLOUR: RGB = (76, 175, 80)  # terminal with a positive reward
LOSS_COLOUR: RGB = (214, 69, 65)  # terminal with a negative reward
NEUTRAL_COLOUR: RGB = (240, 186, 56)  # terminal with reward 0
GRID_LINE: RGB = (168, 168, 168)
AGENT_COLOUR: RGB = (255, 128, 0)
AGENT_EDGE: RGB = (70, 40, 0)
WIND_STRIP: RGB = (226, 234, 242)
WIND_TEXT: RGB = (40, 70, 120)
TEXT_DARK: RGB = (30, 30, 30)
TEXT_LIGHT: RGB = (250, 250, 250)
ARROW_COLOUR: RGB = (20, 20, 20)

# Viridis control points: a perceptually even map from low (purple) to high (yellow) values.
_VIRIDIS = np.array(
    [
        (68, 1, 84),
        (72, 40, 120),
        (62, 74, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (110, 206, 88),
        (181, 222, 43),
        (253, 231, 37),
    ],
    dtype=np.float64,
)

DEFAULT_FRAME_PIXELS = 768  # the longer side of the grid in a default frame [px]
MIN_GRID_LINE_CELL = 12  # smaller cells [px] are drawn without grid lines
MIN_ARROW_CELL = 16  # smaller cells [px] get no policy arrows
MIN_NUMBER_CELL = 28  # smaller cells [px] get no value numbers


def default_cell_size(grid: GridMap) -> int:
    """Cell size [px]: the grid's longer side spans about 768 px, cells between 8 and 64 px."""
    return int(np.clip(DEFAULT_FRAME_PIXELS // max(grid.shape), 8, 64))


def wind_strip_height(grid: GridMap, cell_size: int) -> int:
    """Height [px] of the strip under the grid that shows the wind (0 without wind)."""
    return max(cell_size // 2, 12) if grid.has_wind else 0


def frame_shape(grid: GridMap, cell_size: int | None = None) -> tuple[int, int, int]:
    """Shape [H, W, 3] of the frames drawn for ``grid``."""
    cs = cell_size or default_cell_size(grid)
    return grid.n_rows * cs + wind_strip_height(grid, cs), grid.n_cols * cs, 3


def terminal_colour(reward: float) -> RGB:
    """Colour of a terminal cell by the sign of its reward."""
    if reward > 0:
        return GOAL_COLOUR
    if reward < 0:
        return LOSS_COLOUR
    return NEUTRAL_COLOUR


def value_colours(values: np.ndarray) -> np.ndarray:
    """[..., 3] uint8 viridis colours for ``values`` scaled from their min (dark) to max."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros((*values.shape, 3), dtype=np.uint8)
    lo, hi = values[finite].min(), values[finite].max()
    t = np.zeros_like(values) if hi == lo else (values - lo) / (hi - lo)
    t = np.clip(np.nan_to_num(t), 0.0, 1.0) * (len(_VIRIDIS) - 1)
    i = np.minimum(t.astype(np.int64), len(_VIRIDIS) - 2)
    frac = (t - i)[..., None]
    return np.rint(_VIRIDIS[i] * (1 - frac) + _VIRIDIS[i + 1] * frac).astype(np.uint8)


def _format_value(v: float, scale: float) -> str:
    if scale >= 100:
        return f"{v:.0f}"
    if scale >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _as_grid(array: np.ndarray | None, grid: GridMap, name: str) -> np.ndarray | None:
    if array is None:
        return None
    array = np.asarray(array)
    n_states = grid.n_rows * grid.n_cols
    if array.shape[:1] == (n_states,):
        return array.reshape(grid.n_rows, grid.n_cols, *array.shape[1:])
    if array.shape[:2] == grid.shape:
        return array
    raise ValueError(f"{name} has shape {array.shape}; expected [{n_states}, ...] or {grid.shape}")


def _greedy_actions(policy: np.ndarray, n_actions: int) -> np.ndarray:
    """[rows, cols, A] bool: the actions drawn as arrows (ties all drawn)."""
    if policy.ndim == 2:  # one action per cell
        out = np.zeros((*policy.shape, n_actions), dtype=bool)
        np.put_along_axis(out, policy[..., None].astype(np.int64), True, axis=-1)
        return out
    if policy.shape[-1] != n_actions:
        raise ValueError(f"policy has {policy.shape[-1]} actions, the map has {n_actions}")
    best = policy.max(axis=-1, keepdims=True)
    return (policy >= best - 1e-9) & (best > 0)


class GridRenderer:
    """Draws one map: keeps the static background and fonts, and the window in human mode."""

    def __init__(self, grid: GridMap, cell_size: int | None = None, fps: int = 8) -> None:
        self.grid = grid
        self.cell_size = cell_size or default_cell_size(grid)
        self.fps = fps
        self.shape = frame_shape(grid, self.cell_size)
        self._cells = grid.cell_types()
        self._starts = grid.start_mask()
        self._single_start = int(self._starts.sum()) == 1
        self._terminal_reward = grid.terminal_reward_grid()
        self._background: Any = None
        self._font = FontCache()
        self._window = PygameWindow()

    # --------------------------------------------------------------------------- public

    def frame(
        self,
        agent: int | None = None,
        values: np.ndarray | None = None,
        policy: np.ndarray | None = None,
    ) -> np.ndarray:
        """[H, W, 3] uint8: the map, with the agent (state index) and overlays if given."""
        import pygame

        surface = self._draw(agent, values, policy)
        return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))

    def show(self, agent: int | None = None) -> None:
        """Draw into the pygame window (opened on first use) at ``fps`` frames per second."""
        self._window.show(self._draw(agent, None, None), self.grid.name, self.fps)

    def close(self) -> None:
        self._window.close()

    # --------------------------------------------------------------------------- drawing

    def _text(
        self, surface: Any, text: str, centre: tuple[float, float], size: int, colour: RGB
    ) -> None:
        image = self._font(size).render(text, True, colour)
        surface.blit(image, image.get_rect(center=(round(centre[0]), round(centre[1]))))

    def _rect(self, r: int, c: int) -> tuple[int, int, int, int]:
        cs = self.cell_size
        return c * cs, r * cs, cs, cs

    def _draw(self, agent: int | None, values: np.ndarray | None, policy: np.ndarray | None) -> Any:
        if self._background is None:
            self._background = self._draw_background()
        surface = self._background.copy()
        value_grid = _as_grid(values, self.grid, "values")
        policy_grid = _as_grid(policy, self.grid, "policy")
        if value_grid is not None or policy_grid is not None:
            self._draw_overlay(surface, value_grid, policy_grid)
        if agent is not None:
            self._draw_agent(surface, int(agent))
        return surface

    def _draw_background(self) -> Any:
        import pygame

        cs = self.cell_size
        surface = pygame.Surface((self.shape[1], self.shape[0]))
        surface.fill(FLOOR_COLOUR)
        for r in range(self.grid.n_rows):
            for c in range(self.grid.n_cols):
                self._draw_cell(surface, r, c)
        line = max(1, cs // 32)
        height = self.grid.n_rows * cs
        for c in range(self.grid.n_cols + 1 if cs >= MIN_GRID_LINE_CELL else 0):
            x = min(c * cs, self.shape[1] - 1)
            pygame.draw.line(surface, GRID_LINE, (x, 0), (x, height - 1), line)
        for r in range(self.grid.n_rows + 1 if cs >= MIN_GRID_LINE_CELL else 0):
            y = min(r * cs, height - 1)
            pygame.draw.line(surface, GRID_LINE, (0, y), (self.shape[1] - 1, y), line)
        if self.grid.has_wind:
            self._draw_wind(surface, height)
        return surface

    def _draw_cell(self, surface: Any, r: int, c: int) -> None:
        import pygame

        cs = self.cell_size
        rect = pygame.Rect(self._rect(r, c))
        cell = self._cells[r, c]
        label_size = max(10, int(cs * 0.42))
        if cell == Cell.WALL:
            surface.fill(WALL_COLOUR, rect)
        elif cell == Cell.CLIFF:
            surface.fill(CLIFF_COLOUR, rect)
            step = max(4, cs // 5)
            for k in range(-cs, cs, step):  # diagonal hatching
                start = (rect.left + max(k, 0), rect.top + max(-k, 0))
                end = (rect.left + min(cs, cs + k) - 1, rect.top + min(cs, cs - k) - 1)
                pygame.draw.line(surface, CLIFF_HATCH, start, end, max(1, cs // 24))
        elif cell == Cell.ICE:
            surface.fill(ICE_COLOUR, rect)
            if cs >= 16:
                for fx, fy, fl in ((0.2, 0.3, 0.35), (0.45, 0.65, 0.3), (0.6, 0.25, 0.2)):
                    a = (rect.left + fx * cs, rect.top + fy * cs)
                    b = (a[0] + fl * cs, a[1] - fl * cs * 0.5)
                    pygame.draw.line(surface, ICE_STREAK, a, b, max(1, cs // 20))
        elif cell == Cell.HOLE:
            surface.fill(ICE_COLOUR, rect)
            pygame.draw.ellipse(surface, HOLE_COLOUR, rect.inflate(-cs // 6, -cs // 3))
        elif cell == Cell.TERMINAL:
            reward = float(self._terminal_reward[r, c])
            surface.fill(terminal_colour(reward), rect)
            if cs >= 20:
                text = f"{reward:+g}" if reward else self.grid.rows[r][c]
                self._text(surface, text, rect.center, label_size, TEXT_DARK)
        if self._starts[r, c]:
            surface.fill(START_COLOUR, rect)
            if cs >= 20 and self._single_start:  # many starts (e.g. all cells): tint only
                self._text(surface, "S", rect.center, label_size, (110, 130, 170))

    def _draw_wind(self, surface: Any, top: int) -> None:
        import pygame

        cs = self.cell_size
        height = self.shape[0] - top
        surface.fill(WIND_STRIP, pygame.Rect(0, top, self.shape[1], height))
        size = max(10, int(height * 0.8))
        for c, w in enumerate(self.grid.wind_per_column()):
            if w == 0 and not self.grid.stochastic_wind:
                text = "0"
            elif self.grid.stochastic_wind and w != 0:
                text = f"{w}±1"
            else:
                text = str(w)
            colour = WIND_TEXT if w else (150, 160, 175)
            centre_x = c * cs + cs / 2
            if w:  # a small triangle pointing where the wind pushes
                width = self._font(size).size(text)[0]
                x = centre_x - width / 2 - height * 0.3
                mid, half = top + height / 2, height * 0.25
                sign = -1 if w > 0 else 1
                tip = (x, mid + sign * half)
                base_y = mid - sign * half
                triangle = (tip, (x - half * 0.8, base_y), (x + half * 0.8, base_y))
                pygame.draw.polygon(surface, colour, triangle)
                centre_x += height * 0.15
            self._text(surface, text, (centre_x, top + height / 2), size, colour)

    def _draw_overlay(
        self, surface: Any, values: np.ndarray | None, policy: np.ndarray | None
    ) -> None:
        import pygame

        cs = self.cell_size
        occupiable = ~absorbing_mask(self._cells)
        text_colour = np.zeros(self.grid.shape, dtype=bool)
        if values is not None:
            values = values.astype(np.float64)
            shown = np.where(occupiable, values, np.nan)
            colours = value_colours(shown)
            scale = float(np.nanmax(np.abs(shown))) if occupiable.any() else 0.0
            show_numbers = cs >= MIN_NUMBER_CELL
            font_size = max(10, int(cs * (0.3 if policy is not None else 0.34)))
            for r, c in zip(*np.nonzero(occupiable), strict=True):
                colour = tuple(int(x) for x in colours[r, c])
                surface.fill(colour, pygame.Rect(self._rect(r, c)).inflate(-1, -1))
                luminance = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
                text_colour[r, c] = luminance < 140
                if show_numbers:
                    ink = TEXT_LIGHT if text_colour[r, c] else TEXT_DARK
                    centre = (c * cs + cs / 2, r * cs + cs / 2)
                    self._text(surface, _format_value(values[r, c], scale), centre, font_size, ink)
        if policy is not None and cs >= MIN_ARROW_CELL:
            greedy = _greedy_actions(policy, self.grid.moves)
            for r, c in zip(*np.nonzero(occupiable), strict=True):
                ink = TEXT_LIGHT if text_colour[r, c] else ARROW_COLOUR
                for a in np.flatnonzero(greedy[r, c]):
                    self._draw_arrow(surface, r, c, int(a), ink, shaft=values is None)

    def _draw_arrow(
        self, surface: Any, r: int, c: int, action: int, colour: RGB, shaft: bool
    ) -> None:
        import pygame

        cs = self.cell_size
        cx, cy = c * cs + cs / 2, r * cs + cs / 2
        if action == Action.STAY:
            pygame.draw.circle(surface, colour, (cx, cy), cs * 0.4, max(1, cs // 24))
            return
        dy, dx = (float(v) for v in DELTAS[action])
        norm = np.hypot(dx, dy)
        dx, dy = dx / norm, dy / norm
        reach = (0.44 if action < Action.UP_RIGHT else 0.52) - (0.06 if shaft else 0.0)
        tip = (cx + dx * cs * reach, cy + dy * cs * reach)
        base = (cx + dx * cs * (reach - 0.18), cy + dy * cs * (reach - 0.18))
        half = cs * 0.1
        left = (base[0] - dy * half, base[1] + dx * half)
        right = (base[0] + dy * half, base[1] - dx * half)
        if shaft:
            pygame.draw.line(surface, colour, (cx, cy), base, max(1, cs // 16))
        pygame.draw.polygon(surface, colour, (tip, left, right))

    def _draw_agent(self, surface: Any, state: int) -> None:
        import pygame

        cs = self.cell_size
        r, c = divmod(state, self.grid.n_cols)
        centre = (c * cs + cs / 2, r * cs + cs / 2)
        radius = max(2.0, cs * 0.3)
        pygame.draw.circle(surface, AGENT_COLOUR, centre, radius)
        pygame.draw.circle(surface, AGENT_EDGE, centre, radius, max(1, cs // 20))


def render_frame(
    grid: GridMap, agent: int | None = None, cell_size: int | None = None
) -> np.ndarray:
    """[H, W, 3] uint8 picture of ``grid`` with the agent at state index ``agent`` if given."""
    return GridRenderer(grid, cell_size).frame(agent)


def render_values(
    grid: GridMap,
    values: np.ndarray | None = None,
    policy: np.ndarray | None = None,
    agent: int | None = None,
    cell_size: int | None = None,
) -> np.ndarray:
    """[H, W, 3] uint8 picture of ``grid`` with a value heatmap and policy arrows.

    ``values``: [S] or [rows, cols], drawn as a viridis heatmap (dark low, yellow high) with the
    numbers written in cells of 28 px or more. ``policy``: [S] or [rows, cols] action indices,
    or [S, A] / [rows, cols, A] probabilities (arrows for every most-probable action, in cells
    of 16 px or more; STAY is a ring). Walls, cliffs, holes and terminal cells keep their own look.
    """
    return GridRenderer(grid, cell_size).frame(agent, values, policy)


def render_ansi(grid: GridMap, agent: int | None = None) -> str:
    """The map as text, ``@`` marking the agent; windy maps get a last line ``wind: ...``."""
    rows = [list(row) for row in grid.rows]
    if agent is not None:
        r, c = divmod(int(agent), grid.n_cols)
        rows[r][c] = "@"
    lines = ["".join(row) for row in rows]
    if grid.has_wind:
        suffix = " (±1)" if grid.stochastic_wind else ""
        lines.append("wind: " + " ".join(str(w) for w in grid.wind) + suffix)
    return "\n".join(lines) + "\n"
