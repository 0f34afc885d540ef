"""Frame files: GIF frames and timing, PNG round trip, headless detection; the shared pygame
window and font cache."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import time

import numpy as np
import pygame
import pytest
from PIL import Image

from envs.gridworld import GridWorldEnv
from envs.gridworld.rendering import GridRenderer
from rlcourse.render import FontCache, PygameWindow, display_available, save_gif, save_png


def frames(n=3):
    out = []
    for i in range(n):
        f = np.zeros((20, 30, 3), np.uint8)
        f[:, i * 10 : (i + 1) * 10] = (255, 0, 0)
        out.append(f)
    return out


def test_gif_has_every_frame_and_holds_the_last(tmp_path):
    path = save_gif(frames(), tmp_path / "ep.gif", fps=5, hold_last=2.0)
    with Image.open(path) as gif:
        assert gif.n_frames == 3
        durations = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
            assert np.asarray(gif.convert("RGB"))[0, i * 10 + 5].tolist() == [255, 0, 0]
    assert durations == [200, 200, 2000]


def test_png_round_trip(tmp_path):
    frame = frames(1)[0]
    path = save_png(frame, tmp_path / "sub" / "f.png")
    assert np.array_equal(np.asarray(Image.open(path)), frame)


def test_headless_means_no_window(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    assert not display_available()


def test_window_opens_at_the_surface_size_and_keeps_the_frame_rate():
    window = PygameWindow()
    assert not window.is_open
    red = pygame.Surface((40, 30))
    red.fill((255, 0, 0))
    started = time.perf_counter()
    for _ in range(3):  # the clock lets a call through every 1/20 s: two waits of 50 ms
        window.show(red, "first", fps=20)
    assert time.perf_counter() - started >= 0.08
    assert window.is_open
    screen = pygame.display.get_surface()
    assert screen.get_size() == (40, 30)
    assert tuple(screen.get_at((39, 29)))[:3] == (255, 0, 0)
    assert pygame.display.get_caption()[0] == "first"
    window.show(red, "renamed", fps=1000)  # same size: the open window keeps its title
    assert pygame.display.get_caption()[0] == "first"
    window.show(pygame.Surface((25, 50)), "second", fps=1000)  # another size: opened anew
    assert pygame.display.get_surface().get_size() == (25, 50)
    assert pygame.display.get_caption()[0] == "second"
    window.close()
    assert not window.is_open and not pygame.display.get_init()
    window.close()  # closing twice is harmless


def test_font_cache_makes_each_size_once():
    fonts = FontCache()
    small, big = fonts(12), fonts(30)
    assert fonts(12) is small and big is not small
    assert small.get_height() < big.get_height()
    assert fonts(12).render("7", True, (0, 0, 0)).get_width() > 0


def test_grid_renderer_draws_into_the_shared_window():
    env = GridWorldEnv("cliff")
    renderer = GridRenderer(env.grid, cell_size=16)
    renderer.show(agent=0)
    assert pygame.display.get_surface().get_size() == (renderer.shape[1], renderer.shape[0])
    assert pygame.display.get_caption()[0] == env.grid.name
    renderer.close()
    assert not renderer._window.is_open


def test_mp4_has_every_frame_at_the_frame_rate(tmp_path):
    import imageio.v2 as imageio

    from rlcourse.render import save_video

    frames = [np.full((31, 45, 3), 20 * i, np.uint8) for i in range(8)]  # odd sizes are padded
    reader = imageio.get_reader(save_video(frames, tmp_path / "e.mp4", fps=5))
    assert reader.get_meta_data()["fps"] == 5 and sum(1 for _ in reader) == 8
    with pytest.raises(ValueError, match=r"write a \.gif or \.mp4 file"):
        save_video(frames, tmp_path / "e.avi")
