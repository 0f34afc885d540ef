"""Drawing Go positions: a wooden board with shaded stones, coordinates and search overlays.

Frames are [H, W, 3] uint8 arrays: a square board of ``size_px`` x ``size_px`` pixels above an
info strip (``info_strip_height(size_px)`` pixels) that shows whose turn it is, the captures,
the result once the game is over, and the pass probability and value estimate when given.
pygame is imported inside the functions that draw, so importing this module needs no display.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from envs.go import coords
from envs.go.rules import BLACK, GoState
from rlcourse.render import FontCache, PygameWindow

RGB = tuple[int, int, int]

WOOD: RGB = (220, 179, 104)
GRID_INK: RGB = (52, 38, 22)
STRIP: RGB = (46, 44, 42)
STRIP_TEXT: RGB = (236, 232, 224)
STRIP_DIM: RGB = (170, 165, 156)
LAST_MOVE: RGB = (214, 48, 39)
HEAT_LOW: RGB = (64, 140, 230)  # policy heatmap, least likely shown move
HEAT_HIGH: RGB = (228, 56, 38)  # most likely move
BAR_BLACK: RGB = (18, 18, 20)
BAR_WHITE: RGB = (244, 243, 238)

DEFAULT_SIZE_PX = 480
MIN_TEXT_CELL = 18  # cells smaller than this [px] get no numbers on points
MIN_HEAT_SHARE = 0.03  # policy circles for moves at least this fraction of the most likely one


def info_strip_height(size_px: int) -> int:
    """Height [px] of the strip under the board."""
    return max(36, round(size_px * 0.12))


def star_points(n: int) -> list[tuple[int, int]]:
    """(row, col) of the hoshi: 3-3 points and centre on 7x7 to 12x12, 4-4 points, sides and
    centre from 13x13 (9 points on 13 and 19, 5 on 9), just the centre below 7x7."""
    if n < 7:
        return [(n // 2, n // 2)] if n % 2 else []
    edge = 3 if n >= 13 else 2
    far = n - 1 - edge
    points = [(edge, edge), (edge, far), (far, edge), (far, far)]
    if n % 2:
        mid = n // 2
        points.append((mid, mid))
        if n >= 13:
            points += [(edge, mid), (far, mid), (mid, edge), (mid, far)]
    return points


class BoardLayout:
    """Where things are on a ``size_px`` board of ``n`` x ``n`` points."""

    def __init__(self, n: int, size_px: int, show_coordinates: bool) -> None:
        self.n = n
        self.size_px = size_px
        self.show_coordinates = show_coordinates
        margin_cells = 1.25 if show_coordinates else 0.75  # room for the letters and numbers
        self.cell = size_px / (n - 1 + 2 * margin_cells)
        self.origin = margin_cells * self.cell  # pixel of the first line
        self.strip = info_strip_height(size_px)
        self.shape = (size_px + self.strip, size_px, 3)

    def point(self, r: int, c: int) -> tuple[float, float]:
        """Pixel (x, y) of the intersection at row ``r`` (0 = top) and column ``c``."""
        return self.origin + c * self.cell, self.origin + r * self.cell

    def move_at(self, x: float, y: float) -> int | None:
        """The move at pixel (x, y): the nearest intersection within half a cell, else None."""
        c = round((x - self.origin) / self.cell)
        r = round((y - self.origin) / self.cell)
        if not (0 <= r < self.n and 0 <= c < self.n):
            return None
        px, py = self.point(r, c)
        if max(abs(x - px), abs(y - py)) > self.cell / 2:
            return None
        return r * self.n + c


def _wood_texture(width: int, height: int) -> np.ndarray:
    """[H, W, 3] uint8 board wood: a warm base with soft, slightly wavy grain (deterministic)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    s = 480.0 / max(width, height)  # the same grain whatever the size
    wave = np.sin((x * s) * 0.012 + 2.0 * np.sin((y * s) * 0.004))
    grain = (
        0.55 * np.sin((y * s) * 0.11 + 3.0 * wave)
        + 0.3 * np.sin((y * s) * 0.031 + 1.7 * np.sin((x * s) * 0.006))
        + 0.15 * np.sin((y * s) * 0.37 + (x * s) * 0.01)
    )
    shade = 1.0 + 0.045 * grain - 0.04 * ((x + y) / (width + height))
    return np.clip(np.array(WOOD, dtype=np.float64) * shade[..., None], 0, 255).astype(np.uint8)


def _stone_pixels(radius: float, colour: int) -> np.ndarray:
    """[D, D, 4] uint8 RGBA of one stone lit from the upper left, with anti-aliased edges."""
    size = math.ceil(2 * radius) + 2
    centre = size / 2
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    d = np.hypot(x - centre, y - centre)
    alpha = np.clip(radius - d + 0.5, 0.0, 1.0)
    # distance from the highlight, up and left of the centre, in stone radii
    h = np.hypot(x - (centre - 0.38 * radius), y - (centre - 0.42 * radius)) / radius
    if colour == BLACK:
        level = 22 + 78 * np.exp(-((h / 0.45) ** 2)) + 14 * np.clip(1 - h / 1.6, 0, 1)
        rgb = np.stack([level, level, level * 1.03], axis=-1)
    else:
        level = 252 - 58 * np.clip(h / 1.45, 0, 1) ** 2
        rgb = np.stack([level, level * 0.995, level * 0.975], axis=-1)
    rgba = np.concatenate([np.clip(rgb, 0, 255), 255 * alpha[..., None]], axis=-1)
    return rgba.astype(np.uint8)


def _rgba_surface(pixels: np.ndarray) -> Any:
    import pygame

    height, width = pixels.shape[:2]
    surface = pygame.Surface((width, height), pygame.SRCALPHA, 32)
    pygame.surfarray.pixels3d(surface)[:] = pixels[..., :3].transpose(1, 0, 2)
    pygame.surfarray.pixels_alpha(surface)[:] = pixels[..., 3].T
    return surface


def _heat_colour(t: float) -> RGB:
    return tuple(round(lo + (hi - lo) * t) for lo, hi in zip(HEAT_LOW, HEAT_HIGH, strict=True))  # type: ignore[return-value]


class GoRenderer:
    """Draws positions of one board size; in human mode it holds the pygame window.

    ``move_at(x, y)`` maps a pixel of a frame (or the window) to the move there, for clicks.
    A state of another board size re-lays the board out for that size.
    """

    def __init__(
        self,
        board_size: int = 9,
        size_px: int = DEFAULT_SIZE_PX,
        show_coordinates: bool = True,
        fps: float = 4.0,
    ) -> None:
        if size_px < 120:
            raise ValueError(f"size_px must be at least 120, got {size_px}")
        self.size_px = size_px
        self.show_coordinates = show_coordinates
        self.fps = fps
        self.layout = BoardLayout(board_size, size_px, show_coordinates)
        self._background: Any = None
        self._stones: dict[int, Any] = {}
        self._fonts = FontCache()
        self._window = PygameWindow()

    @property
    def shape(self) -> tuple[int, int, int]:
        """[H, W, 3] of the frames."""
        return self.layout.shape

    def move_at(self, x: float, y: float) -> int | None:
        """The board move under pixel (x, y), or None off the board's points."""
        return self.layout.move_at(x, y)

    # --------------------------------------------------------------------- public drawing

    def frame(
        self,
        state: GoState,
        policy: np.ndarray | None = None,
        visits: np.ndarray | None = None,
        value: float | None = None,
    ) -> np.ndarray:
        """[H, W, 3] uint8 picture of ``state`` with the overlays given (see render_board)."""
        import pygame

        surface = self.surface(state, policy, visits, value)
        return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))

    def surface(
        self,
        state: GoState,
        policy: np.ndarray | None = None,
        visits: np.ndarray | None = None,
        value: float | None = None,
    ) -> Any:
        """The picture as a pygame Surface (what ``frame`` converts to an array)."""
        if state.board_size != self.layout.n:
            self.layout = BoardLayout(state.board_size, self.size_px, self.show_coordinates)
            self._background = None
            self._stones = {}
        n = self.layout.n
        policy = _check_overlay(policy, n, "policy", allow_pass=True)
        visits = _check_overlay(visits, n, "visits", allow_pass=True)
        if self._background is None:
            self._background = self._draw_background()
        surface = self._background.copy()
        board = state.board()
        self._draw_stones(surface, board, state.last_move)
        if policy is not None or visits is not None:
            self._draw_overlays(surface, board, policy, visits)
        self._draw_strip(surface, state, policy, value)
        return surface

    def show(
        self,
        state: GoState,
        policy: np.ndarray | None = None,
        visits: np.ndarray | None = None,
        value: float | None = None,
    ) -> None:
        """Draw into the pygame window (opened on first use) at ``fps`` frames per second."""
        surface = self.surface(state, policy, visits, value)
        self._window.show(surface, f"Go {self.layout.n}x{self.layout.n}", self.fps)

    def close(self) -> None:
        self._window.close()

    # --------------------------------------------------------------------- pieces

    def font(self, size: int) -> Any:
        """pygame's default font at ``size`` px (8 px at least)."""
        return self._fonts(max(8, int(size)))

    def text(
        self,
        surface: Any,
        text: str,
        at: tuple[float, float],
        size: int,
        colour: RGB,
        anchor: str = "center",
    ) -> Any:
        """Blit ``text`` with its ``anchor`` (a pygame Rect attribute) at ``at``; returns the
        rect."""
        image = self.font(size).render(text, True, colour)
        rect = image.get_rect(**{anchor: (round(at[0]), round(at[1]))})
        surface.blit(image, rect)
        return rect

    def _draw_background(self) -> Any:
        import pygame

        lay = self.layout
        surface = pygame.Surface((lay.shape[1], lay.shape[0]))
        wood = _wood_texture(lay.size_px, lay.size_px)
        surface.blit(pygame.surfarray.make_surface(wood.transpose(1, 0, 2)), (0, 0))
        first, last = lay.origin, lay.origin + (lay.n - 1) * lay.cell
        width = max(1, round(lay.cell / 30))
        for k in range(lay.n):
            at = lay.origin + k * lay.cell
            edge = width + (1 if k in (0, lay.n - 1) else 0)
            pygame.draw.line(surface, GRID_INK, (first, at), (last, at), edge)
            pygame.draw.line(surface, GRID_INK, (at, first), (at, last), edge)
        for r, c in star_points(lay.n):
            pygame.draw.circle(surface, GRID_INK, lay.point(r, c), max(3.0, lay.cell * 0.09))
        if lay.show_coordinates:
            size = int(np.clip(lay.cell * 0.5, 12, 26))
            near, far = lay.origin - 0.82 * lay.cell, last + 0.82 * lay.cell
            for k in range(lay.n):
                at = lay.origin + k * lay.cell
                letter = coords.to_gtp(k, lay.n)[0]
                number = str(lay.n - k)
                for y in (near, far):
                    self.text(surface, letter, (at, y), size, GRID_INK)
                for x in (near, far):
                    self.text(surface, number, (x, at), size, GRID_INK)
        return surface

    def _stone(self, colour: int) -> Any:
        if colour not in self._stones:
            self._stones[colour] = _rgba_surface(_stone_pixels(self.layout.cell * 0.48, colour))
        return self._stones[colour]

    def _draw_stones(self, surface: Any, board: np.ndarray, last_move: int | None) -> None:
        import pygame

        lay = self.layout
        radius = lay.cell * 0.48
        shadow = pygame.Surface(surface.get_size(), pygame.SRCALPHA, 32)
        offset = radius * 0.1
        for r, c in zip(*np.nonzero(board), strict=True):
            x, y = lay.point(r, c)
            pygame.draw.circle(shadow, (40, 24, 6, 70), (x + offset, y + offset * 1.4), radius)
        surface.blit(shadow, (0, 0))
        for r, c in zip(*np.nonzero(board), strict=True):
            image = self._stone(int(board[r, c]))
            x, y = lay.point(r, c)
            surface.blit(image, image.get_rect(center=(round(x), round(y))))
        if last_move is not None and last_move < lay.n * lay.n:
            r, c = divmod(last_move, lay.n)
            if board[r, c]:
                ring = (236, 236, 230) if board[r, c] == BLACK else (24, 24, 24)
                centre = lay.point(r, c)
                pygame.draw.circle(surface, ring, centre, radius * 0.42, max(2, round(radius / 9)))
                pygame.draw.circle(surface, LAST_MOVE, centre, radius * 0.16)

    def _draw_overlays(
        self, surface: Any, board: np.ndarray, policy: np.ndarray | None, visits: np.ndarray | None
    ) -> None:
        """Policy circles on empty points, then one number per point: the visit count when
        visits are given, else the policy percentage."""
        import pygame

        lay = self.layout
        n2 = lay.n * lay.n
        share = (
            np.zeros(n2) if policy is None else policy[:n2] / max(float(policy[:n2].max()), 1e-12)
        )
        big = np.zeros(n2, dtype=bool)  # points whose circle is large enough to hold text
        if policy is not None:
            layer = pygame.Surface(surface.get_size(), pygame.SRCALPHA, 32)
            for move in np.flatnonzero((share >= MIN_HEAT_SHARE) & (board.ravel() == 0)):
                t = float(share[move])
                radius = lay.cell * (0.14 + 0.32 * math.sqrt(t))
                big[move] = radius >= lay.cell * 0.3
                centre = lay.point(*divmod(int(move), lay.n))
                pygame.draw.circle(layer, (*_heat_colour(t), round(170 + 70 * t)), centre, radius)
            surface.blit(layer, (0, 0))
        if lay.cell < MIN_TEXT_CELL:
            return
        if visits is not None:
            counts = visits[:n2]
            labels = {int(m): _count_text(int(counts[m])) for m in np.flatnonzero(counts >= 1)}
        elif policy is not None:
            labels = {int(m): f"{100 * policy[m]:.0f}" for m in np.flatnonzero(policy[:n2] >= 0.01)}
        else:
            return
        stones = board.ravel()
        for point, text in labels.items():
            if stones[point] == BLACK or big[point]:
                ink: RGB = (250, 250, 250)
            else:
                ink = (20, 20, 20)
            centre = lay.point(*divmod(point, lay.n))
            self.text(
                surface, text, centre, round(lay.cell * (0.42 if len(text) < 3 else 0.34)), ink
            )

    def _draw_strip(
        self, surface: Any, state: GoState, policy: np.ndarray | None, value: float | None
    ) -> None:
        import pygame

        lay = self.layout
        top, height, width = lay.size_px, lay.strip, lay.size_px
        surface.fill(STRIP, pygame.Rect(0, top, width, height))
        pad = round(height * 0.18)
        big, small = round(height * 0.42), round(height * 0.34)
        line1, line2 = top + height * 0.3, top + height * 0.72
        self.text(surface, _status(state), (pad, line1), big, STRIP_TEXT, "midleft")
        black_caps, white_caps = state.captures
        caps = f"captures  B {black_caps}  W {white_caps}"
        self.text(surface, caps, (width - pad, line1), small, STRIP_DIM, "midright")
        x = pad
        rect = self.text(surface, _details(state), (x, line2), small, STRIP_DIM, "midleft")
        x = rect.right + pad * 2
        if policy is not None and policy.size == lay.n * lay.n + 1:
            rect = self.text(
                surface, f"pass {100 * policy[-1]:.0f}%", (x, line2), small, STRIP_DIM, "midleft"
            )
            x = rect.right + pad * 2
        if value is not None:
            self._draw_value(surface, state, float(value), x, line2, width - pad, small)

    def _draw_value(
        self,
        surface: Any,
        state: GoState,
        value: float,
        left: float,
        y: float,
        right: float,
        size: int,
    ) -> None:
        import pygame

        label = f"value {value:+.2f}"
        rect = self.text(surface, label, (left, y), size, STRIP_TEXT, "midleft")
        bar_left = rect.right + size * 0.5
        if right - bar_left < 20:
            return
        black_value = value if state.to_play == BLACK else -value
        share = (1.0 + float(np.clip(black_value, -1.0, 1.0))) / 2  # black's part of the bar
        bar = pygame.Rect(
            round(bar_left), round(y - size * 0.3), round(right - bar_left), round(size * 0.6)
        )
        split = bar.left + round(bar.width * share)
        surface.fill(BAR_WHITE, bar)
        surface.fill(BAR_BLACK, pygame.Rect(bar.left, bar.top, split - bar.left, bar.height))
        pygame.draw.rect(surface, STRIP_DIM, bar, 1)
        pygame.draw.line(
            surface, LAST_MOVE, (bar.centerx, bar.top - 2), (bar.centerx, bar.bottom + 1)
        )


def _count_text(count: int) -> str:
    return (
        str(count)
        if count < 1000
        else f"{count / 1000:.1f}k"
        if count < 10_000
        else f"{count // 1000}k"
    )


def result_text(state: GoState) -> str:
    """The outcome in words: "White wins by resignation", "Black wins by 3.5" or "Draw" (by
    area score when nobody resigned)."""
    if state.resigned is not None:
        return f"{'White' if state.resigned == BLACK else 'Black'} wins by resignation"
    score = state.score()
    if score == 0:
        return "Draw"
    return f"{'Black' if score > 0 else 'White'} wins by {abs(score):g}"


def _status(state: GoState) -> str:
    if state.is_terminal:
        return result_text(state)
    turn = "Black" if state.to_play == BLACK else "White"
    return f"{turn} to play  ·  move {len(state.moves) + 1}"


def _details(state: GoState) -> str:
    if state.is_terminal and state.resigned is None:
        black, white = state.area()
        return f"area  B {black}  W {white}  komi {state.komi:g}"
    return f"komi {state.komi:g}"


def _check_overlay(
    array: np.ndarray | None, n: int, name: str, allow_pass: bool
) -> np.ndarray | None:
    if array is None:
        return None
    array = np.asarray(array, dtype=np.float64)
    sizes = (n * n, n * n + 1) if allow_pass else (n * n,)
    if array.shape == (n, n):
        array = array.ravel()
    if array.ndim != 1 or array.size not in sizes:
        raise ValueError(
            f"{name} has shape {array.shape}; expected [{n * n}] or [{n * n + 1}] (points + pass) "
            f"or [{n}, {n}]"
        )
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"{name} must be finite and non-negative")
    return array


def render_board(
    state: GoState,
    size_px: int = DEFAULT_SIZE_PX,
    policy: np.ndarray | None = None,
    visits: np.ndarray | None = None,
    value: float | None = None,
    show_coordinates: bool = True,
) -> np.ndarray:
    """[size_px + info_strip_height(size_px), size_px, 3] uint8 picture of ``state``.

    ``policy``: move probabilities over the points (and pass), drawn as circles growing and
    reddening with the probability, percentages on points of 1% or more; the pass share is in
    the strip. ``visits``: search visit counts written on the points. ``value``: the expected
    outcome in [-1, 1] for the player to move, written and drawn as a bar whose black part is
    black's share.
    """
    renderer = GoRenderer(state.board_size, size_px, show_coordinates)
    return renderer.frame(state, policy, visits, value)
