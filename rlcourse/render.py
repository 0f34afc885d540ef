"""Frames to files and windows: episode capture, GIF/PNG writing, a pygame viewer.

Envs draw their own frames (``render_mode="rgb_array"``); this module records them while a
policy plays, writes them as PNG or animated GIF, and shows them in a pygame window when a
display exists. Renderers share :class:`PygameWindow` (their ``human`` mode window) and
:class:`FontCache`. pygame is imported only inside the functions that need it.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rlcourse.files import atomic_write_bytes


def record_episode(
    env: Any,
    act: Callable[[Any, Mapping[str, Any]], Any],
    seed: int | None = None,
    max_steps: int = 1_000,
) -> tuple[list[np.ndarray], float]:
    """Frames (H x W x 3 uint8) of one episode of `act` on an rgb_array env, and its return.

    An env that can draw the simulation steps between its decisions (``record_substeps`` and
    ``substep_frames`` on the unwrapped env, as the driving envs have) gives all of them, to
    be played at its ``metadata["substep_fps"]``."""
    base = env.unwrapped
    substeps = hasattr(base, "record_substeps")
    if substeps:
        base.record_substeps = True
    obs, info = env.reset(seed=seed)
    frames = [np.asarray(env.render())]
    total = 0.0
    for _ in range(max_steps):
        obs, reward, terminated, truncated, info = env.step(act(obs, info))
        total += float(reward)
        drawn = base.substep_frames if substeps else [env.render()]
        frames += [np.asarray(frame) for frame in drawn]
        if terminated or truncated:
            break
    return frames, total


def save_png(frame: np.ndarray, path: str | Path) -> Path:
    """Write one frame as a PNG (atomically, folders made as needed)."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.fromarray(_as_uint8(frame)).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
    return path


def save_gif(
    frames: Sequence[np.ndarray], path: str | Path, fps: float = 4.0, hold_last: float = 1.0
) -> Path:
    """An animated GIF that loops forever; the last frame stays for `hold_last` seconds."""
    from PIL import Image

    if not frames:
        raise ValueError("no frames to write")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(_as_uint8(f)) for f in frames]
    frame_ms = round(1000 / fps)
    durations = [frame_ms] * (len(images) - 1) + [max(frame_ms, int(hold_last * 1000))]
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="GIF", save_all=True, append_images=images[1:], duration=durations,
        loop=0, optimize=False,
    )  # fmt: skip
    atomic_write_bytes(path, buffer.getvalue())
    return path


def save_mp4(frames: Sequence[np.ndarray], path: str | Path, fps: float = 4.0) -> Path:
    """An H.264 MP4 (imageio's ffmpeg plugin, the ffmpeg binary from the imageio-ffmpeg
    wheel), written to a temporary file and renamed. Frames are padded to even sizes, which
    H.264's 4:2:0 colour needs."""
    import imageio.v2 as imageio

    if not frames:
        raise ValueError("no frames to write")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        writer = imageio.get_writer(tmp, fps=fps, ffmpeg_log_level="error", codec="libx264",
                                    pixelformat="yuv420p", macro_block_size=1)  # fmt: skip
        with writer:  # (imageio's stubs type `with get_writer(...) as w` as a writer-less base)
            for frame in frames:
                image = _as_uint8(frame)
                pad = ((0, image.shape[0] % 2), (0, image.shape[1] % 2), (0, 0))
                writer.append_data(np.pad(image, pad, mode="edge"))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


VIDEO_WRITERS = {".gif": save_gif, ".mp4": save_mp4}


def save_video(frames: Sequence[np.ndarray], path: str | Path, fps: float = 4.0) -> Path:
    """Frames as a GIF or an MP4, by the file's suffix; ValueError naming the suffixes known."""
    writer = VIDEO_WRITERS.get(Path(path).suffix.lower())
    if writer is None:
        raise ValueError(f"{path}: write a {' or '.join(VIDEO_WRITERS)} file")
    return writer(frames, path, fps=fps)


def display_available() -> bool:
    """True when a pygame window can be shown (not headless, not the dummy video driver)."""
    if os.environ.get("SDL_VIDEODRIVER") in ("dummy", "offscreen"):
        return False
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def show_frames(frames: Sequence[np.ndarray], fps: float = 4.0, title: str = "rlcourse") -> bool:
    """Play frames in a pygame window (closes on its last frame or when the user closes it).

    Returns False without opening anything when no display is available.
    """
    if not frames or not display_available():
        return False
    import pygame

    pygame.display.init()  # not pygame.init(): no sound device is opened (nor complained of)
    try:
        height, width = frames[0].shape[:2]
        screen = pygame.display.set_mode((width, height))
        pygame.display.set_caption(title)
        clock = pygame.time.Clock()
        for frame in list(frames) + [frames[-1]] * int(fps):
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    return True
            surface = pygame.surfarray.make_surface(np.transpose(_as_uint8(frame), (1, 0, 2)))
            screen.blit(surface, (0, 0))
            pygame.display.flip()
            clock.tick(fps)
    finally:
        pygame.quit()
    return True


class PygameWindow:
    """The window a renderer draws into: opened on the first surface shown, at that surface's
    size (and opened again when a surface of another size comes), closed by ``close``."""

    def __init__(self) -> None:
        self._screen: Any = None
        self._clock: Any = None

    @property
    def is_open(self) -> bool:
        return self._screen is not None

    def show(self, surface: Any, caption: str, fps: float) -> None:
        """Blit ``surface`` into the window, pump pending events, then wait so that calls come
        at most ``fps`` times a second. ``caption`` titles the window when it opens."""
        import pygame

        if self._screen is None or self._screen.get_size() != surface.get_size():
            pygame.display.init()
            pygame.display.set_caption(caption)
            self._screen = pygame.display.set_mode(surface.get_size())
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        self._screen.blit(surface, (0, 0))
        pygame.display.update()
        self._clock.tick(fps)

    def close(self) -> None:
        if self._screen is not None:
            import pygame

            pygame.display.quit()
            self._screen = None
            self._clock = None


class FontCache:
    """pygame's default font by size [px]: ``fonts(size)`` makes each size once per cache
    (starting pygame.font if needed). One cache per renderer: fonts die with pygame.font."""

    def __init__(self) -> None:
        self._fonts: dict[int, Any] = {}

    def __call__(self, size: int) -> Any:
        import pygame

        if size not in self._fonts:
            if not pygame.font.get_init():
                pygame.font.init()
            self._fonts[size] = pygame.font.Font(None, size)
        return self._fonts[size]


def _as_uint8(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        frame = np.clip(frame, 0, 255).astype(np.uint8)
    return frame
