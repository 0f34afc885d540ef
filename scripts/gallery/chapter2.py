"""Chapter 2: the 10-armed testbed, Figures 2.2-2.6, averaged over 2,000 tasks as in the book.

The tasks are split in chunks of 500 run as separate jobs (one generator per chunk, from its
index); every method of a figure meets the same tasks (common random numbers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from agents.tabular.bandits import (
    EpsilonGreedyBanditAgent,
    GradientBanditAgent,
    UCBBanditAgent,
    average_over_tasks,
)
from envs.bandit import KArmedTestbed
from scripts.gallery.core import Figure, Job, rng, subplots

AGENTS = {
    "epsilon_greedy": EpsilonGreedyBanditAgent,
    "ucb": UCBBanditAgent,
    "gradient": GradientBanditAgent,
}
TASKS, QUICK_TASKS = 2000, 200  # the book's 2,000; --quick's
CHUNK = 500
STEPS = 1000


def testbed_run(agent: str, settings: dict[str, Any], mean: float, chunk: int, tasks: int) -> Any:
    """Mean reward and optimal fraction per step [2, STEPS] over `tasks` tasks of one chunk."""
    cls = AGENTS[agent]
    learner = cls(
        cls.Config(**settings), spaces.Discrete(1), spaces.Discrete(10), seed=chunk, tasks=tasks
    )
    testbed = KArmedTestbed(rng(2, chunk), tasks, 10, mean)
    curves = average_over_tasks(learner, testbed, STEPS)
    return np.stack([curves.reward, curves.optimal])


def chunks(quick: bool) -> list[tuple[int, int]]:
    """(chunk index, tasks in it) covering all the figure's tasks."""
    total = QUICK_TASKS if quick else TASKS
    return [(i, min(CHUNK, total - start)) for i, start in enumerate(range(0, total, CHUNK))]


def method_jobs(
    methods: list[tuple[str, str, dict[str, Any]]], mean: float, quick: bool
) -> list[Job]:
    return [
        Job(testbed_run, (agent, settings, mean, chunk, tasks))
        for _, agent, settings in methods
        for chunk, tasks in chunks(quick)
    ]


def per_method(results: list[Any], methods: list[Any], quick: bool) -> list[np.ndarray]:
    """The task-weighted mean [2, STEPS] of each method's chunks."""
    sizes = np.array([tasks for _, tasks in chunks(quick)], float)
    n = len(sizes)
    return [
        np.tensordot(sizes / sizes.sum(), np.stack(results[i * n : (i + 1) * n]), axes=1)
        for i in range(len(methods))
    ]


def draw_curves(
    methods: list[Any], results: list[Any], quick: bool, panels: tuple[int, ...], title: str
) -> Any:
    fig, axes = subplots(len(panels), 1, size=(7.0, 3.6))
    tasks = QUICK_TASKS if quick else TASKS
    steps = np.arange(1, STEPS + 1)
    for (label, _, _), curve in zip(methods, per_method(results, methods, quick), strict=True):
        for ax, panel in zip(axes[:, 0], panels, strict=True):
            ax.plot(steps, 100 * curve[1] if panel else curve[0], lw=1, label=label)
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        ax.set_ylabel("% optimal action" if panel else "average reward")
        ax.set_xlabel("steps")
        ax.legend(loc="lower right", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0, 0].set_title(f"{title} ({tasks} tasks)")
    return fig


def curve_figure(
    number: str,
    title: str,
    book: str,
    caption: str,
    methods: list[Any],
    mean: float,
    panels: tuple[int, ...],
) -> Figure:
    return Figure(
        number,
        title,
        book,
        caption,
        lambda quick: method_jobs(methods, mean, quick),
        lambda results, quick: draw_curves(methods, results, quick, panels, f"Figure {number}"),
    )


FIG_2_2 = [
    ("greedy (epsilon 0)", "epsilon_greedy", {"epsilon": 0.0}),
    ("epsilon 0.01", "epsilon_greedy", {"epsilon": 0.01}),
    ("epsilon 0.1", "epsilon_greedy", {"epsilon": 0.1}),
]
FIG_2_3 = [
    (
        "optimistic, greedy: Q1 = 5, epsilon 0",
        "epsilon_greedy",
        {"epsilon": 0.0, "alpha": 0.1, "initial_q": 5.0},
    ),
    (
        "realistic, epsilon-greedy: Q1 = 0, epsilon 0.1",
        "epsilon_greedy",
        {"epsilon": 0.1, "alpha": 0.1},
    ),
]
FIG_2_4 = [
    ("UCB c = 2", "ucb", {"c": 2.0}),
    ("epsilon-greedy epsilon 0.1", "epsilon_greedy", {"epsilon": 0.1}),
]
FIG_2_5 = [
    ("alpha 0.1, with baseline", "gradient", {"alpha": 0.1, "baseline": True}),
    ("alpha 0.4, with baseline", "gradient", {"alpha": 0.4, "baseline": True}),
    ("alpha 0.1, without baseline", "gradient", {"alpha": 0.1, "baseline": False}),
    ("alpha 0.4, without baseline", "gradient", {"alpha": 0.4, "baseline": False}),
]

# Figure 2.6: each method's parameter over powers of two, as on the book's x axis.
PARAMETER_STUDY = [
    ("epsilon-greedy", "epsilon_greedy", "epsilon", range(-7, -1), {}),
    ("gradient bandit", "gradient", "alpha", range(-5, 3), {"baseline": True}),
    ("UCB", "ucb", "c", range(-4, 3), {}),
    (
        "greedy with optimistic initialization, alpha = 0.1",
        "epsilon_greedy",
        "initial_q",
        range(-2, 3),
        {"epsilon": 0.0, "alpha": 0.1},
    ),
]


def study_methods() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (f"{label} {param}=2^{k}", agent, {**fixed, param: 2.0**k})
        for label, agent, param, powers, fixed in PARAMETER_STUDY
        for k in powers
    ]


def draw_study(results: list[Any], quick: bool) -> Any:
    methods = study_methods()
    means = [float(curve[0].mean()) for curve in per_method(results, methods, quick)]
    fig, axes = subplots(1, 1, size=(7.5, 4.8))
    ax = axes[0, 0]
    i = 0
    for label, _, param, powers, _ in PARAMETER_STUDY:
        xs = [2.0**k for k in powers]
        ax.plot(xs, means[i : i + len(xs)], marker="o", ms=3, label=f"{label} ({param})")
        i += len(xs)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("epsilon, alpha, c, Q0")
    ax.set_ylabel("average reward over the first 1000 steps")
    ax.set_title(f"Figure 2.6 ({QUICK_TASKS if quick else TASKS} tasks per point)")
    ax.legend(fontsize=8, loc="lower center")
    ax.grid(alpha=0.3)
    return fig


FIGURES = [
    curve_figure(
        "2.2",
        "Epsilon-greedy action-value methods",
        "Sutton & Barto (2018), Figure 2.2, section 2.3",
        "Average reward and % optimal action of sample-average epsilon-greedy methods "
        "(epsilon 0, 0.01, 0.1) on the 10-armed testbed.",
        FIG_2_2,
        0.0,
        (0, 1),
    ),
    curve_figure(
        "2.3",
        "Optimistic initial values",
        "Sutton & Barto (2018), Figure 2.3, section 2.6",
        "% optimal action of greedy with Q1 = 5 against epsilon-greedy with Q1 = 0, both with "
        "alpha = 0.1.",
        FIG_2_3,
        0.0,
        (1,),
    ),
    curve_figure(
        "2.4",
        "Upper-confidence-bound action selection",
        "Sutton & Barto (2018), Figure 2.4, section 2.7",
        "Average reward of UCB (c = 2) against epsilon-greedy (epsilon 0.1).",
        FIG_2_4,
        0.0,
        (0,),
    ),
    curve_figure(
        "2.5",
        "Gradient bandit, with and without a baseline",
        "Sutton & Barto (2018), Figure 2.5, section 2.8",
        "% optimal action of the gradient bandit (alpha 0.1, 0.4) with and without the "
        "average-reward baseline, on tasks whose true values have mean +4.",
        FIG_2_5,
        4.0,
        (1,),
    ),
    Figure(
        "2.6",
        "A parameter study of the bandit methods",
        "Sutton & Barto (2018), Figure 2.6, section 2.10",
        "Average reward over the first 1,000 steps of each method against its parameter.",
        lambda quick: method_jobs(study_methods(), 0.0, quick),
        draw_study,
    ),
]
