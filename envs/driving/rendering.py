"""Top-down pygame view of one driving scene: a straight road with the camera following the
ego, or a whole ring (roundabout) seen from above.

Lanes on grass with dashed white markings between lanes and solid edges. An on-ramp is drawn
as it looks: before the merge zone it approaches from below at ``RAMP_ANGLE`` (the simulation
keeps it as a lane beside the road: the picture bends it, and the vehicles on it, by
:meth:`DrivingRenderer.ramp_offset`), alongside the road in the merge zone, then narrows to its
end while the main road goes on. A ring's entry is drawn as a straight road meeting the ring
at ``RING_ENTRY_ANGLE`` where merging begins (:meth:`DrivingRenderer.entry_px`). Vehicles
are rotated boxes coloured by kind (ego green, cars blue, trucks purple, crashed red) with a
darker windscreen at the front; a strip at the top shows the ego's speed, lane and the time.

A ring is simulated in road coordinates (``x`` along it, ``y`` across): lane ``y`` is drawn
at radius ``circumference / 2 pi + y - y_middle`` (``y_middle`` the middle of the main
lanes), at the angle ``2 pi x / circumference``, anticlockwise, the right of the road
outside.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.driving.road import Road
from envs.driving.traffic import CAR, EGO, TRUCK, Vehicles
from rlcourse.render import FontCache, PygameWindow

RGB = tuple[int, int, int]
GRASS: RGB = (96, 150, 80)
ASPHALT: RGB = (100, 100, 100)
MARKING: RGB = (240, 240, 240)
TEXT: RGB = (250, 250, 250)
STRIP: RGB = (40, 40, 40)
COLOURS: dict[int, RGB] = {EGO: (50, 200, 0), CAR: (100, 200, 255), TRUCK: (200, 120, 255)}
CRASHED: RGB = (255, 100, 100)
OUTLINE: RGB = (30, 30, 30)
DASH, GAP = 3.0, 6.0  # lane marking dash and gap lengths [m]
STRIP_HEIGHT = 28  # [px]
RING_MARGIN = 20  # around a ring [px]
ARC_STEP = 0.02  # angle between the points of a drawn arc [rad]
RAMP_ANGLE = np.radians(10.0)  # of a drawn on-ramp approaching a straight road
RAMP_DROP = 1.6  # how far below its lane a drawn on-ramp starts [lane widths]
RING_ENTRY_ANGLE = np.radians(50.0)  # a ring's entry road, from the ring's tangent, outwards
RAMP_TAPER = 30.0  # length of a drawn ramp's narrowing end [m]


class DrivingRenderer:
    """Draws frames of width ``width`` px at ``scale`` px/m, the ego a third of the way in
    from the left and the road centred vertically; ``show`` holds the human-mode window."""

    def __init__(self, road: Road, width: int = 900, scale: float = 5.5, fps: float = 15.0) -> None:
        if width < 200 or scale <= 0:
            raise ValueError(f"need width >= 200 px and scale > 0, got {width}, {scale}")
        self.road = road
        self.scale = scale
        self.fps = fps
        drop = RAMP_DROP if road.ramp is not None else 0.0
        road_px = (road.total_lanes + 1 + drop) * road.lane_width * scale
        self.size = (width, int(road_px) + STRIP_HEIGHT + 20)
        if road.circumference is not None:  # the ring and its entry road in a square
            reach = self._radius((road.total_lanes - 0.5) * road.lane_width)
            if road.ramp is not None:  # the entry road's far end, straight out from the ring
                along = road.ramp.merge_start
                out = reach + along * np.sin(RING_ENTRY_ANGLE)
                reach = float(np.hypot(out, along * np.cos(RING_ENTRY_ANGLE)))
            self.scale = (width / 2 - RING_MARGIN) / reach
            self.size = (width, width + STRIP_HEIGHT)
        self._fonts = FontCache()
        self._window = PygameWindow()

    def frame(self, vehicles: Vehicles, scene: int = 0, time: float = 0.0) -> np.ndarray:
        """[H, W, 3] uint8 picture of ``scene``."""
        import pygame

        surface = self.surface(vehicles, scene, time)
        return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))

    def show(self, vehicles: Vehicles, scene: int = 0, time: float = 0.0) -> None:
        """Draw into the pygame window (opened on first use) at ``fps`` frames per second."""
        self._window.show(self.surface(vehicles, scene, time), "rlcourse driving", self.fps)

    def close(self) -> None:
        self._window.close()

    # ------------------------------------------------------------------------- drawing

    def surface(self, vehicles: Vehicles, scene: int = 0, time: float = 0.0) -> Any:
        import pygame

        surface = pygame.Surface(self.size)
        surface.fill(GRASS)
        camera_x = float(vehicles.x[scene, 0]) - self.size[0] / 3 / self.scale
        if self.road.circumference is None:
            self._draw_road(surface, camera_x)
        else:
            self._draw_ring(surface)
        order = np.argsort(vehicles.kind[scene] == EGO, kind="stable")  # the ego last, on top
        for i in order:
            self._draw_vehicle(surface, vehicles, scene, int(i), camera_x)
        self._draw_strip(surface, vehicles, scene, time)
        return surface

    def to_px(self, x: float, y: float, camera_x: float) -> tuple[float, float]:
        top = STRIP_HEIGHT + 10 + self.road.lane_width * self.scale / 2
        return (x - camera_x) * self.scale, top + (y + self.road.lane_width / 2) * self.scale

    def _draw_road(self, surface: Any, camera_x: float) -> None:
        import pygame

        road, s = self.road, self.scale
        left, right = camera_x, camera_x + self.size[0] / s
        width = road.lane_width
        main_end = right  # the road goes on past road.length (where episodes end): traffic does
        x0, y0 = self.to_px(left, -width / 2, camera_x)
        x1, y1 = self.to_px(main_end, (road.lanes - 0.5) * width, camera_x)
        pygame.draw.rect(surface, ASPHALT, pygame.Rect(x0, y0, x1 - x0, y1 - y0))
        for boundary in range(road.lanes + 1):
            y = (boundary - 0.5) * width
            if boundary == road.lanes and road.ramp is not None:  # dashed in the merge zone
                self._line(surface, left, min(road.ramp.merge_start, main_end), y, camera_x)
                self._line(surface, max(road.ramp.end, left), main_end, y, camera_x)
            elif boundary in (0, road.lanes):
                self._line(surface, left, main_end, y, camera_x)
            else:
                self._dashes(surface, left, main_end, left, right, y, camera_x)
        if road.ramp is not None:
            self._draw_ramp(surface, camera_x, left, right)

    def ramp_offset(self, x: float) -> float:
        """How far below its lane the drawn on-ramp of a straight road runs at ``x`` [m]:
        ``RAMP_DROP`` lane widths far before the merge zone, rising at ``RAMP_ANGLE`` to 0
        where it begins."""
        ramp = self.road.ramp
        if ramp is None or x >= ramp.merge_start:
            return 0.0
        return min((ramp.merge_start - x) * np.tan(RAMP_ANGLE), RAMP_DROP * self.road.lane_width)

    def entry_px(self, x: float, y: float) -> tuple[float, float]:
        """Pixel of the road point ``(x, y)`` on a ring's entry road before its merge zone: a
        straight road meeting the ring at ``merge_start`` at ``RING_ENTRY_ANGLE``, ``x``
        counting along it (``y`` across it, as on the ring)."""
        ramp = self.road.ramp
        assert ramp is not None and self.road.circumference is not None
        angle = 2 * np.pi * ramp.merge_start / self.road.circumference
        tangent = np.array([-np.sin(angle), -np.cos(angle)])  # anticlockwise, screen y down
        outward = np.array([np.cos(angle), -np.sin(angle)])
        back = -np.cos(RING_ENTRY_ANGLE) * tangent + np.sin(RING_ENTRY_ANGLE) * outward
        lane_y = self.road.ramp_lane * self.road.lane_width
        meet = np.array(self.ring_px(ramp.merge_start, lane_y))
        across = np.array([back[1], -back[0]])  # to the right of travel (travel is -back)
        point = meet + ((ramp.merge_start - x) * back + (y - lane_y) * across) * self.scale
        return float(point[0]), float(point[1])

    def _draw_ramp(self, surface: Any, camera_x: float, left: float, right: float) -> None:
        """The ramp lane: an asphalt band bent by `ramp_offset`, its narrowing end, its edges;
        the merge zone's boundary with the road dashed."""
        import pygame

        road, ramp = self.road, self.road.ramp
        assert ramp is not None
        width, top = road.lane_width, (road.lanes - 0.5) * road.lane_width
        xs = [x for x in np.linspace(left, min(right, ramp.end), 80) if x <= ramp.end]
        if not xs:
            return
        upper = [self.to_px(x, top + self.ramp_offset(x), camera_x) for x in xs]
        lower = [self.to_px(x, top + width + self.ramp_offset(x), camera_x) for x in xs]
        tip = [self.to_px(ramp.end + RAMP_TAPER, top, camera_x)] if xs[-1] >= ramp.end else []
        pygame.draw.polygon(surface, ASPHALT, upper + tip + lower[::-1])
        pygame.draw.lines(surface, MARKING, False, lower + tip, 2)
        before = [p for x, p in zip(xs, upper, strict=True) if x <= ramp.merge_start]
        if len(before) > 1:
            pygame.draw.lines(surface, MARKING, False, before, 2)
        end = min(ramp.end, right)
        self._dashes(surface, ramp.merge_start, end, left, right, top, camera_x)

    def _line(self, surface: Any, start: float, end: float, y: float, camera_x: float) -> None:
        import pygame

        if end <= start:
            return
        a, b = self.to_px(start, y, camera_x), self.to_px(end, y, camera_x)
        pygame.draw.line(surface, MARKING, a, b, 2)

    def _dashes(
        self, surface: Any, start: float, end: float, left: float, right: float, y: float,
        camera_x: float,
    ) -> None:  # fmt: skip
        period = DASH + GAP
        first = max(start, np.floor(left / period) * period)
        for x in np.arange(first, min(end, right), period):
            self._line(surface, max(x, start), min(x + DASH, end), y, camera_x)

    # --------------------------------------------------------------------------- ring

    def _radius(self, y: float) -> float:
        """Radius [m] at which the ring draws the road's ``y``."""
        road = self.road
        middle = (road.lanes - 1) * road.lane_width / 2
        return (road.circumference or 0.0) / (2 * np.pi) + y - middle

    def ring_px(self, x: float, y: float) -> tuple[float, float]:
        """Pixel of the road point ``(x, y)`` on a ring."""
        angle = 2 * np.pi * x / (self.road.circumference or 1.0)
        r = self._radius(y) * self.scale
        centre_x, centre_y = self.size[0] / 2, STRIP_HEIGHT + self.size[0] / 2
        return centre_x + r * np.cos(angle), centre_y - r * np.sin(angle)

    def _arc(self, start: float, end: float, y: float) -> list[tuple[float, float]]:
        """Pixels along the road's ``y`` from ``x = start`` to ``end``."""
        step = ARC_STEP * (self.road.circumference or 0.0) / (2 * np.pi)
        xs = np.append(np.arange(start, end, step), end)
        return [self.ring_px(x, y) for x in xs]

    def _draw_ring(self, surface: Any) -> None:
        import pygame

        road, width = self.road, self.road.lane_width
        ring = road.circumference or 0.0
        edge_y = (road.lanes - 0.5) * width  # the ring's outer edge
        inner = self._arc(0.0, ring, -width / 2)
        pygame.draw.polygon(surface, ASPHALT, self._arc(0.0, ring, edge_y))
        pygame.draw.polygon(surface, GRASS, inner)
        pygame.draw.lines(surface, MARKING, True, inner, 2)
        dashed = [(boundary - 0.5) * width for boundary in range(1, road.lanes)]
        if road.ramp is None:
            pygame.draw.lines(surface, MARKING, True, self._arc(0.0, ring, edge_y), 2)
        else:
            ramp = road.ramp
            outside = edge_y + width
            band = (self._arc(ramp.merge_start, ramp.end, outside)
                    + self._arc(ramp.merge_start, ramp.end, edge_y)[::-1])  # fmt: skip
            pygame.draw.polygon(surface, ASPHALT, band)
            left_edge = [self.entry_px(x, edge_y) for x in (0.0, ramp.merge_start)]
            right_edge = [self.entry_px(x, outside) for x in (0.0, ramp.merge_start)]
            pygame.draw.polygon(surface, ASPHALT, left_edge + right_edge[::-1])
            pygame.draw.lines(surface, MARKING, False, left_edge, 2)
            pygame.draw.lines(surface, MARKING, False, right_edge, 2)
            pygame.draw.lines(
                surface, MARKING, False, self._arc(ramp.merge_start, ramp.end, outside), 2
            )
            pygame.draw.lines(surface, MARKING, False, self._arc(0.0, ramp.merge_start, edge_y), 2)
            pygame.draw.lines(surface, MARKING, False, self._arc(ramp.end, ring, edge_y), 2)
            self._dashed_arc(surface, ramp.merge_start, ramp.end, edge_y)
        for y in dashed:
            self._dashed_arc(surface, 0.0, ring, y)

    def _dashed_arc(self, surface: Any, start: float, end: float, y: float) -> None:
        import pygame

        for x in np.arange(start, end - DASH, DASH + GAP):
            pygame.draw.lines(surface, MARKING, False, self._arc(x, x + DASH, y), 2)

    # ----------------------------------------------------------------------- vehicles

    def _draw_vehicle(self, surface: Any, v: Vehicles, scene: int, i: int, camera_x: float) -> None:
        import pygame

        x, y, heading = float(v.x[scene, i]), float(v.y[scene, i]), float(v.heading[scene, i])
        length, width = float(v.length[scene, i]), float(v.width[scene, i])
        # the road's forward and rightward directions at the vehicle, in pixels per metre
        ramp = self.road.ramp
        on_ramp = ramp is not None and int(self.road.lane_of(np.asarray(y))) == self.road.ramp_lane
        approaching = on_ramp and ramp is not None and x < ramp.merge_start
        if self.road.circumference is None:
            bend = self.ramp_offset(x) if on_ramp else 0.0
            cx, cy = self.to_px(x, y + bend, camera_x)
            slope = RAMP_ANGLE if 0.0 < bend < RAMP_DROP * self.road.lane_width else 0.0
            along = np.array([np.cos(slope), -np.sin(slope)])  # up the drawn ramp's slope
            right = np.array([np.sin(slope), np.cos(slope)])
        elif approaching:  # on the ring's straight entry road
            cx, cy = self.entry_px(x, y)
            ahead = np.subtract(self.entry_px(x + 1.0, y), (cx, cy)) / self.scale
            along, right = ahead, np.array([-ahead[1], ahead[0]])
        else:
            cx, cy = self.ring_px(x, y)
            angle = 2 * np.pi * x / self.road.circumference
            along = np.array([-np.sin(angle), -np.cos(angle)])  # anticlockwise, screen y down
            right = np.array([np.cos(angle), -np.sin(angle)])  # outwards
        if not -length * self.scale < cx < self.size[0] + length * self.scale:
            return
        colour = CRASHED if v.crashed[scene, i] else COLOURS[int(v.kind[scene, i])]
        forward = (np.cos(heading) * along + np.sin(heading) * right) * self.scale
        side = (-np.sin(heading) * along + np.cos(heading) * right) * self.scale
        centre = np.array([cx, cy])

        def box(back: float, front: float, half_width: float) -> list[tuple[float, float]]:
            corners = [(back, -half_width), (front, -half_width), (front, half_width),
                       (back, half_width)]  # fmt: skip
            return [tuple(centre + a * forward + b * side) for a, b in corners]

        body = box(-length / 2, length / 2, width / 2)
        pygame.draw.polygon(surface, colour, body)
        pygame.draw.polygon(surface, OUTLINE, body, 1)
        shade = tuple(int(c * 0.6) for c in colour)
        pygame.draw.polygon(
            surface, shade, box(length / 2 - 1.6, length / 2 - 0.8, width / 2 - 0.2)
        )

    def _draw_strip(self, surface: Any, v: Vehicles, scene: int, time: float) -> None:
        import pygame

        pygame.draw.rect(surface, STRIP, pygame.Rect(0, 0, self.size[0], STRIP_HEIGHT))
        speed = float(v.speed[scene, 0])
        lane = int(self.road.lane_of(v.y[scene, 0]))
        text = f"ego {speed:5.1f} m/s ({speed * 3.6:5.1f} km/h)   lane {lane}   t {time:5.1f} s"
        if v.crashed[scene, 0]:
            text += "   CRASHED"
        image = self._fonts(22).render(text, True, TEXT)
        surface.blit(image, image.get_rect(midleft=(10, STRIP_HEIGHT // 2)))
