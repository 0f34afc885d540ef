"""Chapter 7: n-step TD on the 19-state random walk (Figure 7.2)."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.tabular.prediction import n_step_td_episode
from scripts.gallery.chapter6 import RUNS_PER_JOB, record_walks, rms_error
from scripts.gallery.core import Figure, Job, subplots

WALK19_TRUE = np.arange(-9, 10) / 10  # -0.9 .. 0.9
NS = 2 ** np.arange(10)  # 1 .. 512
ALPHAS = np.linspace(0.0, 1.0, 21)
EPISODES = 10


def n_step_errors(first_run: int, runs: int) -> dict[str, Any]:
    """Summed over `runs`: the RMS error averaged over the first 10 episodes [n, alpha]."""
    errors = np.zeros((len(NS), len(ALPHAS)))
    for run in range(first_run, first_run + runs):
        walks = record_walks("rlcourse/RandomWalk19-v0", run, EPISODES)
        for i, n in enumerate(NS):
            values = np.zeros((len(ALPHAS), 21))
            for walk in walks:
                n_step_td_episode(values, walk.states, walk.rewards, int(n), ALPHAS)
                errors[i] += rms_error(values, WALK19_TRUE) / EPISODES
    return {"errors": errors, "runs": runs}


def draw_7_2(results: list[Any], quick: bool) -> Any:
    runs = sum(r["runs"] for r in results)
    errors = sum(r["errors"] for r in results) / runs
    fig, axes = subplots(1, 1, size=(6.8, 4.6))
    ax = axes[0, 0]
    for n, curve in zip(NS, errors, strict=True):
        ax.plot(ALPHAS, curve, lw=1.2, label=f"n={n}")
    ax.set_ylim(0.25, 0.55)
    ax.set_xlabel("alpha")
    ax.set_ylabel(f"average RMS error over 19 states and first {EPISODES} episodes")
    ax.set_title(f"Figure 7.2: n-step TD on the 19-state random walk ({runs} runs)")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    return fig


FIGURES = [
    Figure(
        "7.2",
        "n-step TD methods on the 19-state random walk",
        "Sutton & Barto (2018), Figure 7.2, section 7.1",
        "RMS error over the 19 states, averaged over the first 10 episodes and 100 runs, for "
        "n = 1..512 and alpha from 0 to 1; values start at 0.",
        lambda quick: [
            Job(n_step_errors, (start, RUNS_PER_JOB))
            for start in range(0, 20 if quick else 100, RUNS_PER_JOB)
        ],
        draw_7_2,
    ),
]
