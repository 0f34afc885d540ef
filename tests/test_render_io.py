"""Frame files: GIF frames and timing, PNG round trip, headless detection."""

import numpy as np
from PIL import Image

from rlcourse.render import display_available, save_gif, save_png


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
