"""Chapter 4: dynamic programming, Figures 4.1-4.3 and Exercise 4.7, by the suite's planners."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the rlcourse/* ids)
from agents.tabular.planning import (
    policy_evaluation,
    policy_iteration,
    q_values,
    uniform_policy,
    value_iteration,
)
from envs.car_rental import MAX_CARS, MAX_MOVE, build_model
from envs.gambler import GOAL, GamblerEnv, largest_stake
from rlcourse.mdp import TabularMDP
from scripts.gallery.core import Figure, Job, subplots

FIG_4_1_SWEEPS = (0, 1, 2, 3, 10)


def random_policy_sweeps(_: int) -> dict[str, Any]:
    """The 4x4 gridworld's random-policy values after 0, 1, 2, 3, 10 sweeps and at the limit."""
    mdp = TabularMDP.from_env(gym.make("rlcourse/SuttonBarto4x4-v0"))
    policy = uniform_policy(mdp)
    sweeps: list[np.ndarray] = [np.zeros(mdp.n_states)]
    policy_evaluation(
        mdp, policy, 1.0, 1e-10, method="iterative", trace=lambda v: sweeps.append(v.copy())
    )
    shown = [sweeps[k] for k in FIG_4_1_SWEEPS] + [policy_evaluation(mdp, policy, 1.0)]
    return {"values": shown, "q": [q_values(mdp, v, 1.0) for v in shown]}


ARROWS = "↑→↓←"  # envs.gridworld.Action: up, right, down, left


def draw_4_1(results: list[Any], quick: bool) -> Any:
    (data,) = results
    fig, axes = subplots(2, 6, size=(2.3, 2.4))
    for col, (k, v, q) in enumerate(
        zip([*FIG_4_1_SWEEPS, "∞"], data["values"], data["q"], strict=True)
    ):
        grid, ax_v, ax_p = v.reshape(4, 4), axes[0, col], axes[1, col]
        ax_v.imshow(grid, cmap="Greys_r", vmin=-25, vmax=5)
        for (r, c), value in np.ndenumerate(grid):
            ax_v.text(c, r, f"{value:.1f}", ha="center", va="center", fontsize=7, color="tab:red")
            cell = r * 4 + c
            if cell in (0, 15):
                continue
            best = np.flatnonzero(q[cell] >= q[cell].max() - 1e-9)
            ax_p.text(c, r, "".join(ARROWS[a] for a in best), ha="center", va="center", fontsize=8)
        ax_p.imshow(np.zeros((4, 4)), cmap="Greys", vmin=0, vmax=1)
        ax_v.set_title(f"v_k, k = {k}", fontsize=9)
        ax_p.set_title(f"greedy w.r.t. v_{k}", fontsize=9)
        for ax in (ax_v, ax_p):
            ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("Figure 4.1: iterative policy evaluation of the random policy, 4x4 gridworld")
    return fig


def car_rental_iteration(variant: str) -> dict[str, Any]:
    """Policy iteration from the never-move policy: every policy and the final values."""
    mdp = build_model(variant)
    start = np.zeros((mdp.n_states, mdp.n_actions))
    start[:, MAX_MOVE] = 1.0
    policies: list[np.ndarray] = []
    solution = policy_iteration(mdp, 0.9, policy=start, trace=lambda v, pi: policies.append(pi))
    side = MAX_CARS + 1
    moves = [(p.argmax(axis=1) - MAX_MOVE).reshape(side, side) for p in policies]
    return {"moves": moves, "values": solution.values.reshape(side, side)}


def draw_car_rental(results: list[Any], title: str) -> Any:
    (data,) = results
    moves = data["moves"]
    fig, axes = subplots(2, 3, size=(4.2, 3.8))
    levels = np.arange(-MAX_MOVE, MAX_MOVE + 2) - 0.5
    for i, ax in enumerate(axes.ravel()):
        if i < len(moves):
            image = ax.imshow(moves[i], origin="lower", cmap="RdBu_r", vmin=-5, vmax=5)
            ax.contour(moves[i], levels=levels, colors="k", linewidths=0.5)
            for (r, c), m in np.ndenumerate(moves[i]):
                if r % 4 == 0 and c % 4 == 0:
                    ax.text(c, r, str(m), ha="center", va="center", fontsize=6)
            ax.set_title(f"π{i}")
        else:
            image = ax.imshow(data["values"], origin="lower", cmap="viridis")
            fig.colorbar(image, ax=ax, shrink=0.8)
            ax.set_title(
                f"v_π{len(moves) - 1}: {data['values'].min():.0f} to {data['values'].max():.0f}"
            )
        ax.set_xlabel("# cars at second location")
        ax.set_ylabel("# cars at first location")
    fig.suptitle(title)
    return fig


def gambler_sweeps(_: int) -> dict[str, Any]:
    """Value-iteration sweeps and the final policy (the smallest optimal stake)."""
    mdp = TabularMDP.from_env(GamblerEnv(0.4))
    sweeps: list[np.ndarray] = []
    solution = value_iteration(mdp, 1.0, 1e-12, trace=lambda v: sweeps.append(v.copy()))
    return {"sweeps": sweeps, "stakes": smallest_optimal_stakes(mdp, solution.values)}


def smallest_optimal_stakes(mdp: TabularMDP, values: np.ndarray) -> np.ndarray:
    """[101] at each capital the smallest stake within 1e-9 of the best (0 at $0 and $100)."""
    q = q_values(mdp, values, 1.0)
    capital = np.arange(GOAL + 1)
    allowed = (
        np.arange(1, mdp.n_actions + 1)[None, :]
        <= np.array([largest_stake(c) for c in capital])[:, None]
    )
    q = np.where(allowed, q, -np.inf)
    best = np.argmax(q >= q.max(axis=1, keepdims=True) - 1e-9, axis=1) + 1
    return np.where(allowed.any(axis=1), best, 0)


def draw_4_3(results: list[Any], quick: bool) -> Any:
    (data,) = results
    sweeps = data["sweeps"]
    fig, axes = subplots(2, 1, size=(7.0, 3.6))
    capital = np.arange(1, GOAL)
    for k in (1, 2, 3, 32):
        if k <= len(sweeps):
            axes[0, 0].plot(capital, sweeps[k - 1][1:GOAL], lw=1, label=f"sweep {k}")
    axes[0, 0].plot(
        capital, sweeps[-1][1:GOAL], lw=1.5, color="k", label=f"final (sweep {len(sweeps)})"
    )
    axes[0, 0].set_ylabel("value estimates")
    axes[0, 0].legend(fontsize=8)
    axes[1, 0].step(capital, data["stakes"][1:GOAL], where="mid", lw=1)
    axes[1, 0].set_ylabel("final policy (stake)")
    for ax in axes[:, 0]:
        ax.set_xlabel("capital")
        ax.grid(alpha=0.3)
    axes[0, 0].set_title("Figure 4.3: the gambler's problem, p_h = 0.4")
    return fig


FIGURES = [
    Figure(
        "4.1",
        "Iterative policy evaluation on the 4x4 gridworld",
        "Sutton & Barto (2018), Figure 4.1, section 4.1",
        "Values of the equiprobable random policy after k synchronous sweeps (k = 0, 1, 2, 3, "
        "10, and the exact solution), and the greedy policies they suggest.",
        lambda quick: [Job(random_policy_sweeps, (0,))],
        draw_4_1,
    ),
    Figure(
        "4.2",
        "Jack's car rental by policy iteration",
        "Sutton & Barto (2018), Figure 4.2, Example 4.2",
        "The policies policy iteration finds from 'never move' (π0 ... π4) and the optimal "
        "values; gamma = 0.9, exact policy evaluation.",
        lambda quick: [Job(car_rental_iteration, ("example_4_2",))],
        lambda results, quick: draw_car_rental(results, "Figure 4.2: Jack's car rental"),
    ),
    Figure(
        "Exercise 4.7",
        "Jack's car rental with a free shuttle and a second parking lot",
        "Sutton & Barto (2018), Exercise 4.7",
        "As Figure 4.2, with one car moved from location 1 to 2 free each night and $4 for a "
        "second parking lot wherever more than 10 cars stay overnight.",
        lambda quick: [Job(car_rental_iteration, ("exercise_4_7",))],
        lambda results, quick: draw_car_rental(
            results, "Exercise 4.7: Jack's car rental, modified"
        ),
    ),
    Figure(
        "4.3",
        "The gambler's problem by value iteration",
        "Sutton & Barto (2018), Figure 4.3, Example 4.3",
        "Value estimates after sweeps 1, 2, 3 and 32 of (synchronous) value iteration, the "
        "final values, and the smallest optimal stake at every capital.",
        lambda quick: [Job(gambler_sweeps, (0,))],
        draw_4_3,
    ),
]
