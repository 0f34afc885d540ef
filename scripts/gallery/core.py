"""What a gallery figure is, and how the figures' runs are spread over a process pool.

A `Figure` lists its independent runs (`Job`s: a top-level function and its arguments, the
last of which is the run's index, from which the run seeds itself), and draws the PNG from
their results. `make_figures` runs the jobs of every asked-for figure in one pool, with one
progress bar, and then draws each figure: the same command gives the same figures.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rlcourse.plotting import save_figure


@dataclass(frozen=True)
class Job:
    """One independent run: ``fn(*args)``; `fn` is a module-level function (picklable)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]

    def __call__(self) -> Any:
        return self.fn(*self.args)


@dataclass(frozen=True)
class Figure:
    """A figure of the book: `jobs(quick)` lists its runs, `draw(results, quick)` returns the
    matplotlib figure from their results (in the order of the jobs)."""

    number: str
    title: str
    book: str  # where the figure is in Sutton & Barto (2018)
    caption: str  # what our figure shows, and with which runs
    jobs: Callable[[bool], list[Job]]
    draw: Callable[[list[Any], bool], Any]

    @property
    def filename(self) -> str:
        return f"figure_{self.number.replace('.', '_').replace(' ', '_').lower()}.png"


def rng(*index: int) -> np.random.Generator:
    """The generator of the run with this index (a figure's runs use distinct indices)."""
    return np.random.default_rng(list(index))


def _run(job: Job) -> Any:
    return job()


def make_figures(
    figures: Sequence[Figure],
    out: str | Path,
    quick: bool = False,
    workers: int | None = None,
    progress: bool = True,
) -> list[Path]:
    """Run every figure's jobs (in `workers` processes; 1 runs them here), draw and write
    each PNG under `out`; returns the paths written."""
    from tqdm import tqdm

    plan = [(f, job) for f in figures for job in f.jobs(quick)]
    results: list[Any] = [None] * len(plan)
    workers = workers if workers is not None else min(len(plan), os.cpu_count() or 1)
    bar = tqdm(total=len(plan), unit="run", disable=not progress, file=sys.stderr)
    if workers <= 1:
        for i, (figure, job) in enumerate(plan):
            bar.set_description(f"Figure {figure.number}")
            results[i] = job()
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            pending = {pool.submit(_run, job): i for i, (_, job) in enumerate(plan)}
            for done in as_completed(pending):
                i = pending[done]
                results[i] = done.result()
                bar.set_description(f"Figure {plan[i][0].number}")
                bar.update()
    bar.close()
    written = []
    start = 0
    for figure in figures:
        count = sum(1 for f, _ in plan if f is figure)
        fig = figure.draw(results[start : start + count], quick)
        start += count
        written.append(save_figure(fig, Path(out) / figure.filename))
    return written


def subplots(rows: int = 1, cols: int = 1, size: tuple[float, float] = (6.4, 4.4)) -> Any:
    """A matplotlib figure with a grid of axes (Agg, nothing shown)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(
        rows, cols, figsize=(size[0] * cols, size[1] * rows), dpi=100, squeeze=False
    )
