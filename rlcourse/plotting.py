"""Learning curves from run directories: TensorBoard scalars -> mean and band across seeds.

Runs are grouped by experiment: the resolved config in their ``config.yaml`` (env id, agent and
every override) but the seed and where the run was filed. A group is labelled ``<config name>
on <env id>``; where runs of one label differ in their configs, the label is split by the keys
that differ, and a warning says so (runs of Cliff and Windy Q-learning are never averaged into
one curve). Each group is drawn as the mean over its runs with a shaded band (standard
deviation, 95% interval or min-max). Curves are smoothed with a moving average over episodes
and interpolated onto a common step grid, so runs whose episodes end at different steps can be
averaged. A run without the requested scalar is skipped with a warning.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rlcourse.files import atomic_write_bytes
from rlcourse.log import warn

Band = Literal["std", "ci95", "minmax", "none"]
XAxis = Literal["steps", "episodes", "minutes"]
X_LABELS = {"steps": "environment steps", "episodes": "episodes",
            "minutes": "wall-clock minutes since the run started"}  # fmt: skip
LEGEND_WIDTH = 60  # characters of a legend line: long group labels wrap inside the figure
#: Config keys that differ between runs of one experiment: they never split a group.
PER_RUN_KEYS = ("train.seed", "train.runs_dir", "train.name")


@dataclass(frozen=True)
class Curve:
    run_dir: Path
    group: str
    steps: np.ndarray
    values: np.ndarray


def find_runs(paths: Sequence[str | Path]) -> list[Path]:
    """Run directories (folders with a config.yaml) at or below each given path."""
    found: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such run directory")
        if (p / "config.yaml").is_file():
            found.append(p)
        else:
            found.extend(sorted(c.parent for c in p.rglob("config.yaml")))
    if not found:
        raise FileNotFoundError(
            f"no run directories (with a config.yaml) under {list(map(str, paths))}"
        )
    return found


def read_scalars(run_dir: str | Path, tag: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of one scalar tag from a run's TensorBoard event files."""
    steps, values, _ = read_timed_scalars(run_dir, tag)
    return steps, values


def read_timed_scalars(run_dir: str | Path, tag: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps, values, minutes) of one scalar tag; minutes of wall-clock time since the run's
    first event (its event file's creation), so resumed runs count their pauses too."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    if tag not in acc.Tags().get("scalars", []):
        available = ", ".join(sorted(acc.Tags().get("scalars", []))) or "none"
        raise KeyError(f"{run_dir}: no scalar {tag!r} (available: {available})")
    events = acc.Scalars(tag)
    minutes = (np.array([e.wall_time for e in events]) - acc.FirstEventTimestamp()) / 60.0
    return (
        np.array([e.step for e in events], float),
        np.array([e.value for e in events], float),
        minutes,
    )


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over up to `window` points (shorter at the start, same length)."""
    if window <= 1 or len(values) == 0:
        return values
    cumsum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    return (cumsum[idx] - cumsum[start]) / (idx - start)


def flat_config(run_dir: Path) -> dict[str, str]:
    """The run's resolved config as ``{"agent.alpha": "0.5", ...}``, each value as JSON text
    (empty when the file cannot be read)."""
    import yaml

    from rlcourse.config import read_yaml

    try:
        data = read_yaml((run_dir / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    flat: dict[str, str] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            flat[prefix[:-1]] = json.dumps(node, sort_keys=True, default=str)

    walk(data if isinstance(data, dict) else {}, "")
    return flat


def experiment_groups(run_dirs: Sequence[Path]) -> dict[Path, str]:
    """Each run's group label: ``<config name> on <env id>``, with the differing settings
    appended where runs of one label differ in their configs (a warning names them)."""
    configs = {run: flat_config(run) for run in run_dirs}
    labels: dict[str, list[Path]] = {}
    for run, config in configs.items():
        name = json.loads(config.get("name", json.dumps(run.parent.name)))
        env = json.loads(config.get("env.id", "null"))
        labels.setdefault(f"{name} on {env}" if env else str(name), []).append(run)
    groups: dict[Path, str] = {}
    for label, runs in labels.items():
        settings = [{k: v for k, v in configs[r].items() if k not in PER_RUN_KEYS} for r in runs]
        keys = sorted({k for setting in settings for k in setting})
        differ = [k for k in keys if len({setting.get(k) for setting in settings}) > 1]
        for run, setting in zip(runs, settings, strict=True):
            extra = ", ".join(f"{k}={setting.get(k, 'unset')}" for k in differ)
            groups[run] = f"{label} ({extra})" if differ else label
        if differ:
            split = len({groups[r] for r in runs})
            warn(f"runs of {label} differ in {', '.join(differ)}: drawn as {split} curves")
    return groups


def load_curves(
    paths: Sequence[str | Path],
    tag: str = "episode/return",
    smooth: int = 10,
    x_axis: XAxis = "steps",
) -> list[Curve]:
    """One smoothed curve per run, labelled by :func:`experiment_groups`; x is the env step,
    the point's index (1, 2, ...) with `x_axis="episodes"` (for episode scalars logged every
    episode), or wall-clock minutes since the run started with `x_axis="minutes"` (time to
    strength). Runs without `tag` are skipped with a warning; KeyError if none has it."""
    runs = find_runs(paths)
    groups = experiment_groups(runs)
    curves, missing = [], []
    for run_dir in runs:
        try:
            steps, values, minutes = read_timed_scalars(run_dir, tag)
        except KeyError as exc:
            missing.append(exc.args[0])
            continue
        x = {"steps": steps, "minutes": minutes}.get(x_axis, np.arange(1, len(values) + 1.0))
        curves.append(Curve(run_dir, groups[run_dir], x, moving_average(values, smooth)))
    if not curves:
        raise KeyError(missing[0] if len(missing) == 1 else f"no run has {tag!r}: {missing[0]}")
    for why in missing:
        warn(f"skipped {why}")
    return curves


def aggregate(
    curves: Sequence[Curve], band: Band = "std", points: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(grid, mean, low, high) of curves interpolated on the steps all of them cover."""
    start = max(c.steps.min() for c in curves)
    stop = min(c.steps.max() for c in curves)
    if stop <= start:
        stop = start + 1
    grid = np.linspace(start, stop, points)
    ys = np.stack([np.interp(grid, c.steps, c.values) for c in curves])
    mean = ys.mean(axis=0)
    if band == "none" or len(curves) == 1:
        return grid, mean, mean, mean
    if band == "minmax":
        return grid, mean, ys.min(axis=0), ys.max(axis=0)
    spread = ys.std(axis=0, ddof=1)
    if band == "ci95":
        from scipy import stats

        spread = spread * stats.t.ppf(0.975, len(curves) - 1) / np.sqrt(len(curves))
    return grid, mean, mean - spread, mean + spread


def plot_learning_curves(
    paths: Sequence[str | Path],
    out: str | Path,
    tag: str = "episode/return",
    smooth: int = 10,
    band: Band = "std",
    title: str | None = None,
    x_axis: XAxis = "steps",
    ylim: tuple[float, float] | None = None,
) -> Path:
    """Draw one mean curve with its band per experiment; write a PNG and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = load_curves(paths, tag, smooth, x_axis)
    groups: dict[str, list[Curve]] = {}
    for c in curves:
        groups.setdefault(c.group, []).append(c)
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    band_name = {"std": "± 1 std", "ci95": "95% CI", "minmax": "min-max", "none": ""}[band]
    for name, members in sorted(groups.items()):
        grid, mean, low, high = aggregate(members, band)
        label = textwrap.fill(f"{name} (n={len(members)})", LEGEND_WIDTH)
        (line,) = ax.plot(grid, mean, lw=2, label=label)
        if len(members) > 1 and band != "none":
            ax.fill_between(grid, low, high, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xlabel(X_LABELS[x_axis])
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel(f"{tag}" + (f" (moving average of {smooth})" if smooth > 1 else ""))
    ax.set_title(title or f"{tag}: mean over runs" + (f", band {band_name}" if band_name else ""))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return save_figure(fig, out)


def save_figure(fig: Any, out: str | Path) -> Path:
    """Lay out `fig`, write it to `out` (folders made as needed), close it; returns the path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=out.suffix.lstrip(".") or "png")
    plt.close(fig)
    atomic_write_bytes(out, buffer.getvalue())
    return out
