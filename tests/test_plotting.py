"""Learning curves: grouping by experiment, mean and band across seeds, a non-blank PNG."""

import logging
import time

import numpy as np
import pytest
import yaml
from PIL import Image
from torch.utils.tensorboard import SummaryWriter

from rlcourse.plotting import (
    aggregate,
    find_runs,
    load_curves,
    moving_average,
    plot_learning_curves,
)


def fake_run(root, name, seed, values, env="rlcourse/CliffWalking-v0", tag="episode/return",
             minutes=None, **agent):  # fmt: skip
    run_dir = root / env.split("/")[-1] / name / f"seed{seed}"
    run_dir.mkdir(parents=True)
    config = {"name": name, "env": {"id": env, "kwargs": {}},
              "agent": {"name": "q_learning", "alpha": 0.5, **agent},
              "train": {"seed": seed, "runs_dir": str(root), "steps": 1000}}  # fmt: skip
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    with SummaryWriter(str(run_dir)) as writer:
        started = time.time()  # about when the writer wrote its file's first event
        for i, v in enumerate(values):
            walltime = None if minutes is None else started + 60.0 * minutes[i]
            writer.add_scalar(tag, v, (i + 1) * 10, walltime=walltime)
    return run_dir


def test_moving_average_by_hand():
    assert moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2).tolist() == [1.0, 2.0, 4.0, 6.0]


def test_mean_and_band_across_seeds(tmp_path):
    fake_run(tmp_path, "a", 0, [0, 2, 4])
    fake_run(tmp_path, "a", 1, [2, 4, 6])
    curves = load_curves([tmp_path], smooth=1)
    assert len(curves) == 2 and {c.group for c in curves} == {"a on rlcourse/CliffWalking-v0"}
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


def test_runs_of_one_config_name_on_other_envs_are_other_experiments(tmp_path):
    fake_run(tmp_path, "q_learning", 0, [1, 2])
    fake_run(tmp_path, "q_learning", 0, [3, 4], env="rlcourse/WindyGridworld-v0")
    groups = {c.group for c in load_curves([tmp_path])}
    assert groups == {"q_learning on rlcourse/CliffWalking-v0",
                      "q_learning on rlcourse/WindyGridworld-v0"}  # fmt: skip


def test_runs_whose_configs_differ_are_split_with_a_warning(tmp_path, caplog):
    for seed in range(2):
        fake_run(tmp_path, "q_learning", seed, [1, 2])
    fake_run(tmp_path, "q_learning", 5, [3, 4], alpha=0.1)
    with caplog.at_level(logging.WARNING, logger="rlcourse"):
        curves = load_curves([tmp_path])
    label = "q_learning on rlcourse/CliffWalking-v0"
    assert sorted(c.group for c in curves) == [
        f"{label} (agent.alpha=0.1)", f"{label} (agent.alpha=0.5)", f"{label} (agent.alpha=0.5)"
    ]  # fmt: skip
    assert "differ in agent.alpha: drawn as 2 curves" in caplog.text


def test_a_run_without_the_tag_is_skipped_with_a_warning(tmp_path, caplog):
    fake_run(tmp_path, "a", 0, [1, 2])
    skipped = fake_run(tmp_path, "a", 1, [1, 2], tag="other")
    with caplog.at_level(logging.WARNING, logger="rlcourse"):
        curves = load_curves([tmp_path])
    assert len(curves) == 1 and f"skipped {skipped}: no scalar 'episode/return'" in caplog.text


def test_curves_against_wall_clock_minutes_since_each_run_started(tmp_path):
    fake_run(tmp_path, "a", 0, [0.2, 0.5], tag="arena/gnugo/score", minutes=[3.0, 7.5])
    fake_run(tmp_path, "a", 1, [0.4, 0.6], tag="arena/gnugo/score", minutes=[3.0, 7.5])
    curves = load_curves([tmp_path], tag="arena/gnugo/score", smooth=1, x_axis="minutes")
    for curve in curves:
        assert curve.steps == pytest.approx([3.0, 7.5], abs=0.01)
    grid, mean, _, _ = aggregate(curves, "none", points=2)
    assert grid == pytest.approx([3.0, 7.5], abs=0.01)
    assert mean == pytest.approx([0.3, 0.55], abs=0.01)  # the runs began apart by a few ms
    out = plot_learning_curves(
        [tmp_path], tmp_path / "c.png", "arena/gnugo/score", x_axis="minutes"
    )
    assert out.stat().st_size > 0
