"""Learning curves: grouping by config, mean and band across seeds, a non-blank PNG."""

import numpy as np
import pytest
from PIL import Image
from torch.utils.tensorboard import SummaryWriter

from rlcourse.plotting import (
    aggregate,
    find_runs,
    load_curves,
    moving_average,
    plot_learning_curves,
)


def fake_run(root, name, seed, values):
    run_dir = root / name / f"seed{seed}"
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(f"name: {name}\n")
    with SummaryWriter(str(run_dir)) as writer:
        for i, v in enumerate(values):
            writer.add_scalar("episode/return", v, (i + 1) * 10)
    return run_dir


def test_moving_average_by_hand():
    assert moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2).tolist() == [1.0, 2.0, 4.0, 6.0]


def test_mean_and_band_across_seeds(tmp_path):
    fake_run(tmp_path, "a", 0, [0, 2, 4])
    fake_run(tmp_path, "a", 1, [2, 4, 6])
    curves = load_curves([tmp_path / "a"], smooth=1)
    assert len(curves) == 2 and {c.group for c in curves} == {"a"}
    grid, mean, low, high = aggregate(curves, "std", points=3)
    assert grid.tolist() == [10, 20, 30] and mean.tolist() == [1, 3, 5]
    assert (high - mean) == pytest.approx([np.sqrt(2)] * 3)
    _, _, low, high = aggregate(curves, "minmax", points=3)
    assert low.tolist() == [0, 2, 4] and high.tolist() == [2, 4, 6]


def test_png_shows_curves(tmp_path):
    for seed in range(3):
        fake_run(tmp_path, "sarsa", seed, np.linspace(-100, -20, 30) + seed)
        fake_run(tmp_path, "q_learning", seed, np.linspace(-100, -50, 30) - seed)
    out = plot_learning_curves([tmp_path], tmp_path / "curves.png")
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape[0] > 300 and image.shape[1] > 500
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20  # lines, bands, text: not blank


def test_missing_runs_and_tags_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such run directory"):
        find_runs([tmp_path / "nope"])
    fake_run(tmp_path, "a", 0, [1, 2])
    with pytest.raises(KeyError, match="no scalar 'eval/return'"):
        load_curves([tmp_path], tag="eval/return")
