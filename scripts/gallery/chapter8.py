"""Chapter 8: planning with a learned model, Figures 8.2, 8.4, 8.5 and Example 8.4."""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the rlcourse/* ids)
from agents.tabular.dyna import (
    DynaQAgent,
    DynaQConfig,
    PrioritizedSweepingAgent,
    PrioritizedSweepingConfig,
)
from agents.tabular.planning import value_iteration
from agents.tabular.td import Transition
from envs.gridworld import GridWorldEnv, load_map
from rlcourse.mdp import TabularMDP
from scripts.gallery.core import Figure, Job, subplots

GAMMA, EPSILON = 0.95, 0.1


def make_agent(kind: str, env: gym.Env, seed: int, **settings: Any) -> Any:
    common = {"gamma": GAMMA, "epsilon": EPSILON, **settings}
    if kind == "prioritized_sweeping":
        return PrioritizedSweepingAgent(
            PrioritizedSweepingConfig(**common), env.observation_space, env.action_space, seed
        )
    return DynaQAgent(DynaQConfig(**common), env.observation_space, env.action_space, seed)


# ----------------------------------------------------------------------------- Figure 8.2

PLANNING_STEPS = (0, 5, 50)
MAZE_EPISODES = 50


def dyna_maze_run(n: int, seed: int) -> np.ndarray:
    """Steps of each of 50 episodes of Dyna-Q with `n` planning steps (alpha 0.1)."""
    env = gym.make("rlcourse/DynaMaze-v0")
    agent = make_agent("dyna_q", env, seed, alpha=0.1, planning_steps=n)
    env.reset(seed=seed)
    return np.array([agent.run_episode(env).length for _ in range(MAZE_EPISODES)])


def draw_8_2(results: list[Any], quick: bool) -> Any:
    runs = len(results) // len(PLANNING_STEPS)
    fig, axes = subplots(1, 1, size=(6.4, 4.4))
    ax = axes[0, 0]
    episodes = np.arange(2, MAZE_EPISODES + 1)
    for i, n in enumerate(PLANNING_STEPS):
        mean = np.mean(results[i * runs : (i + 1) * runs], axis=0)
        ax.plot(
            episodes,
            mean[1:],
            label=f"{n} planning steps" + (" (direct RL only)" if n == 0 else ""),
        )
    ax.set_ylim(0, 800)
    ax.set_xlabel("episodes")
    ax.set_ylabel("steps per episode")
    ax.set_title(f"Figure 8.2: Dyna-Q on the Dyna maze ({runs} runs)")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


# ----------------------------------------------------------------------------- Figures 8.4, 8.5


def cumulative_reward(
    env_id: str, kind: str, settings: dict[str, Any], steps: int, seed: int
) -> np.ndarray:
    """Cumulative reward after each of `steps` steps in a changing maze."""
    env = gym.make(env_id)
    agent = make_agent(kind, env, seed, **settings)
    env.reset(seed=seed)
    rewards = np.zeros(steps)
    while agent.steps < steps:
        obs, info = env.reset()
        state = int(obs)
        while agent.steps < steps:
            action = agent.epsilon_greedy(state, info)
            obs, reward, terminated, truncated, info = env.step(action)
            rewards[agent.steps] = reward
            agent.steps += 1
            agent.learn_step(Transition(state, action, float(reward), int(obs), terminated, info))
            state = int(obs)
            if terminated or truncated:
                break
    return np.cumsum(rewards)


CHANGING = {
    # figure: (env id, steps, change at, Dyna-Q+'s kappa)
    "8.4": ("rlcourse/BlockingMaze-v0", 3000, 1000, 1e-4),
    "8.5": ("rlcourse/ShortcutMaze-v0", 6000, 3000, 1e-3),
}
CHANGING_SETTINGS = {"alpha": 1.0, "planning_steps": 10}


def changing_jobs(number: str, quick: bool) -> list[Job]:
    env_id, steps, _, kappa = CHANGING[number]
    runs = 5 if quick else 20
    return [
        Job(cumulative_reward, (env_id, "dyna_q", {**CHANGING_SETTINGS, "kappa": k}, steps, seed))
        for k in (kappa, 0.0)
        for seed in range(runs)
    ]


def draw_changing(number: str, results: list[Any]) -> Any:
    _, steps, change_at, kappa = CHANGING[number]
    runs = len(results) // 2
    fig, axes = subplots(1, 1, size=(6.4, 4.4))
    ax = axes[0, 0]
    for i, label in enumerate((f"Dyna-Q+ (kappa {kappa:g})", "Dyna-Q")):
        ax.plot(
            np.arange(1, steps + 1),
            np.mean(results[i * runs : (i + 1) * runs], axis=0),
            label=label,
        )
    ax.axvline(change_at, color="k", ls=":", lw=1, label="the maze changes")
    ax.set_xlabel("time steps")
    ax.set_ylabel("cumulative reward")
    name = "blocking" if number == "8.4" else "shortcut"
    ax.set_title(f"Figure {number}: the {name} maze ({runs} runs, n = 10, alpha 1)")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


# ----------------------------------------------------------------------------- Example 8.4

# (row factor, column factor): each cell of the Dyna maze becomes a block, 47 free cells
# becoming 94, 188, 376, 752 as on the book's axis
SCALES = ((1, 1), (1, 2), (2, 2), (2, 4), (4, 4))
QUICK_SCALES = 3
SWEEP_SETTINGS = {"alpha": 0.5, "planning_steps": 5}
OPTIMAL_SLACK = 1.2  # a greedy path within 20% of the shortest counts as optimal


def scaled_maze(rows: int, cols: int) -> GridWorldEnv:
    """The Dyna maze with every cell a rows x cols block (start and goal stay one cell)."""
    base = load_map("dyna_maze")
    grid = []
    for row in base.rows:
        for r in range(rows):
            blocks = []
            for cell in row:
                if cell in "SG":  # one start and one goal: the block's first cell
                    blocks.append((cell if r == 0 else ".") + "." * (cols - 1))
                else:
                    blocks.append(cell * cols)
            grid.append("".join(blocks))
    name = f"{base.name} x {rows}x{cols}"
    return GridWorldEnv(dataclasses.replace(base, rows=tuple(grid), name=name))


def greedy_length(agent: Any, env: GridWorldEnv, limit: int) -> int:
    """Steps the greedy policy takes from the start to the goal (limit + 1 if it does not)."""
    state, _ = env.reset()
    for step in range(1, limit + 1):
        state, _, terminated, _, _ = env.step(agent.act(state, deterministic=True))
        if terminated:
            return step
    return limit + 1


def updates_until_optimal(kind: str, scale: int, seed: int) -> int:
    """Q updates (real and planned) before the greedy path is within 20% of the shortest."""
    env = scaled_maze(*SCALES[scale])
    viewer = scaled_maze(*SCALES[scale])
    shortest = greedy_length(OptimalPolicy(env.mdp), viewer, env.n_states)
    agent = make_agent(kind, env, seed, **SWEEP_SETTINGS)
    env.reset(seed=seed)
    limit = int(OPTIMAL_SLACK * shortest)
    while greedy_length(agent, viewer, limit) > limit:
        agent.run_episode(env)
    return agent.updates


class OptimalPolicy:
    """The optimal greedy policy of a model, acting like an agent."""

    def __init__(self, mdp: TabularMDP):
        self.policy = value_iteration(mdp, GAMMA, 1e-10).policy

    def act(self, state: Any, deterministic: bool = True) -> int:
        return int(np.argmax(self.policy[int(state)]))


def sweep_jobs(quick: bool) -> list[Job]:
    scales = range(QUICK_SCALES if quick else len(SCALES))
    runs = 2 if quick else 5
    return [
        Job(updates_until_optimal, (kind, scale, seed))
        for kind in ("prioritized_sweeping", "dyna_q")
        for scale in scales
        for seed in range(runs)
    ]


def draw_example_8_4(results: list[Any], quick: bool) -> Any:
    scales = QUICK_SCALES if quick else len(SCALES)
    runs = len(results) // (2 * scales)
    sizes = [47 * r * c for r, c in SCALES[:scales]]
    fig, axes = subplots(1, 1, size=(6.4, 4.4))
    ax = axes[0, 0]
    for i, label in enumerate(("prioritized sweeping", "Dyna-Q")):
        block = np.array(results[i * scales * runs : (i + 1) * scales * runs]).reshape(scales, runs)
        ax.plot(sizes, block.mean(axis=1), marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel("gridworld size (# free cells)")
    ax.set_ylabel("updates until optimal solution")
    ax.set_title(f"Example 8.4: prioritized sweeping on mazes ({runs} runs, n = 5)")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


FIGURES = [
    Figure(
        "8.2",
        "Dyna-Q with 0, 5 and 50 planning steps",
        "Sutton & Barto (2018), Figure 8.2, Example 8.1",
        "Steps per episode on the Dyna maze (alpha 0.1, epsilon 0.1, gamma 0.95), episodes "
        "2-50, averaged over 30 runs.",
        lambda quick: [
            Job(dyna_maze_run, (n, seed))
            for n in PLANNING_STEPS
            for seed in range(10 if quick else 30)
        ],
        draw_8_2,
    ),
    Figure(
        "8.4",
        "Dyna-Q and Dyna-Q+ on the blocking maze",
        "Sutton & Barto (2018), Figure 8.4, Example 8.2",
        "Cumulative reward; the short way round the right end is blocked after 1,000 steps.",
        lambda quick: changing_jobs("8.4", quick),
        lambda results, quick: draw_changing("8.4", results),
    ),
    Figure(
        "8.5",
        "Dyna-Q and Dyna-Q+ on the shortcut maze",
        "Sutton & Barto (2018), Figure 8.5, Example 8.3",
        "Cumulative reward; a shorter way opens round the right end after 3,000 steps.",
        lambda quick: changing_jobs("8.5", quick),
        lambda results, quick: draw_changing("8.5", results),
    ),
    Figure(
        "Example 8.4",
        "Prioritized sweeping against Dyna-Q",
        "Sutton & Barto (2018), Example 8.4 (the figure in the example)",
        "Updates (real and planned) until the greedy path is within 20% of the shortest, on "
        "the Dyna maze scaled up from 47 to 752 free cells (alpha 0.5, n = 5).",
        sweep_jobs,
        draw_example_8_4,
    ),
]
