"""Chapter 6: TD prediction on the random walk (Example 6.2, Figure 6.2's batch updating) and
TD control (Figures 6.3-6.5), with the suite's prediction and TD agents."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers the rlcourse/* ids)
from agents.tabular.prediction import (
    Episode,
    batch_values,
    mc_prediction_episode,
    n_step_td_episode,
)
from agents.tabular.td import (
    DoubleQLearningAgent,
    DoubleQLearningConfig,
    QLearningAgent,
    QLearningConfig,
    SarsaAgent,
    SarsaConfig,
)
from scripts.gallery.core import Figure, Job, subplots

RUNS_PER_JOB = 10


def record_walks(env_id: str, seed: int, episodes: int) -> list[Episode]:
    """`episodes` walks of a random-walk env (its one action), seeded by `seed`."""
    env = gym.make(env_id)
    env.reset(seed=seed)
    walks = []
    for _ in range(episodes):
        obs, _ = env.reset()
        states, rewards = [int(obs)], []
        terminated = False
        while not terminated:
            obs, reward, terminated, _, _ = env.step(0)
            states.append(int(obs))
            rewards.append(float(reward))
        walks.append(Episode(np.array(states), np.array(rewards)))
    return walks


def rms_error(values: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Root-mean-square error [...] over the non-terminal states 1..len(true)."""
    return np.sqrt(((values[..., 1 : len(true) + 1] - true) ** 2).mean(axis=-1))


# ----------------------------------------------------------------------------- Example 6.2

WALK_TRUE = np.arange(1, 6) / 6  # A..E
TD_ALPHAS = np.array([0.05, 0.1, 0.15])
MC_ALPHAS = np.array([0.01, 0.02, 0.03, 0.04])
WALK_EPISODES = 100


def start_values(tables: int) -> np.ndarray:
    values = np.full((tables, 7), 0.5)
    values[:, [0, 6]] = 0.0
    return values


def walk_errors(first_run: int, runs: int) -> dict[str, np.ndarray]:
    """Summed over `runs` runs: RMS error after 0..100 episodes of TD(0) [3, 101] and
    constant-alpha MC [4, 101] at the book's step sizes; and run 0's TD(0) (alpha 0.1)
    values after 0, 1, 10, 100 episodes."""
    td_error, mc_error = np.zeros((3, WALK_EPISODES + 1)), np.zeros((4, WALK_EPISODES + 1))
    snapshots = []
    for run in range(first_run, first_run + runs):
        td, mc = start_values(3), start_values(4)
        for k, walk in enumerate(record_walks("rlcourse/RandomWalk-v0", run, WALK_EPISODES)):
            td_error[:, k] += rms_error(td, WALK_TRUE)
            mc_error[:, k] += rms_error(mc, WALK_TRUE)
            if run == 0 and k in (0, 1, 10):
                snapshots.append(td[1].copy())
            n_step_td_episode(td, walk.states, walk.rewards, 1, TD_ALPHAS)
            mc_prediction_episode(mc, np.zeros(7), walk.states, walk.rewards, MC_ALPHAS)
        td_error[:, -1] += rms_error(td, WALK_TRUE)
        mc_error[:, -1] += rms_error(mc, WALK_TRUE)
        if run == 0:
            snapshots.append(td[1].copy())
    return {"td": td_error, "mc": mc_error, "runs": runs, "snapshots": snapshots}


def walk_jobs(quick: bool) -> list[Job]:
    runs = 20 if quick else 100
    return [Job(walk_errors, (start, RUNS_PER_JOB)) for start in range(0, runs, RUNS_PER_JOB)]


def draw_example_6_2(results: list[Any], quick: bool) -> Any:
    runs = sum(r["runs"] for r in results)
    td = sum(r["td"] for r in results) / runs
    mc = sum(r["mc"] for r in results) / runs
    snapshots = next(r["snapshots"] for r in results if r["snapshots"])
    fig, axes = subplots(1, 2, size=(5.6, 4.2))
    left, right = axes[0]
    letters = np.arange(1, 6)
    for k, values in zip((0, 1, 10, 100), snapshots, strict=True):
        left.plot(letters, values[1:6], marker="o", ms=3, label=f"{k} episodes")
    left.plot(letters, WALK_TRUE, "k--", label="true values")
    left.set_xticks(letters, list("ABCDE"))
    left.set_xlabel("state")
    left.set_ylabel("estimated value")
    left.set_title("TD(0), alpha = 0.1, one run")
    left.legend(fontsize=8)
    for alpha, curve in zip(TD_ALPHAS, td, strict=True):
        right.plot(curve, lw=1.2, label=f"TD alpha={alpha:g}")
    for alpha, curve in zip(MC_ALPHAS, mc, strict=True):
        right.plot(curve, lw=1.2, ls="--", label=f"MC alpha={alpha:g}")
    right.set_xlabel("walks / episodes")
    right.set_ylabel("RMS error, averaged over states")
    right.set_title(f"Empirical RMS error, averaged over {runs} runs")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.suptitle("Example 6.2: the random walk")
    return fig


# ----------------------------------------------------------------------------- Figure 6.2

BATCH_EPISODES = 100


def batch_errors(first_run: int, runs: int) -> dict[str, Any]:
    """Summed over `runs`: RMS error of batch TD(0) and batch MC after 1..100 episodes."""
    errors = {"td": np.zeros(BATCH_EPISODES), "mc": np.zeros(BATCH_EPISODES), "runs": runs}
    start = start_values(1)[0]
    for run in range(first_run, first_run + runs):
        walks = record_walks("rlcourse/RandomWalk-v0", run, BATCH_EPISODES)
        for k in range(1, BATCH_EPISODES + 1):
            for method in ("td", "mc"):
                errors[method][k - 1] += rms_error(
                    batch_values(start, walks[:k], method), WALK_TRUE
                )
    return errors


def draw_batch(results: list[Any], quick: bool) -> Any:
    runs = sum(r["runs"] for r in results)
    fig, axes = subplots(1, 1, size=(6.4, 4.2))
    ax = axes[0, 0]
    episodes = np.arange(1, BATCH_EPISODES + 1)
    ax.plot(episodes, sum(r["td"] for r in results) / runs, label="batch TD(0)")
    ax.plot(episodes, sum(r["mc"] for r in results) / runs, label="batch MC")
    ax.set_xlabel("walks / episodes")
    ax.set_ylabel("RMS error, averaged over states")
    ax.set_title(f"Figure 6.2: batch training on the random walk ({runs} runs)")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


# ----------------------------------------------------------------------------- Figures 6.3-6.5


def windy_sarsa(seed: int) -> np.ndarray:
    """Cumulative time steps at the end of each of 170 SARSA episodes on the windy gridworld."""
    env = gym.make("rlcourse/WindyGridworld-v0")
    config = SarsaConfig(alpha=0.5, gamma=1.0, epsilon=0.1)
    agent = SarsaAgent(config, env.observation_space, env.action_space, seed=seed)
    env.reset(seed=seed)
    return np.cumsum([agent.run_episode(env).length for _ in range(170)])


def draw_6_3(results: list[Any], quick: bool) -> Any:
    fig, axes = subplots(1, 1, size=(6.4, 4.2))
    ax = axes[0, 0]
    for seed, steps in enumerate(results):
        ax.plot(np.r_[0, steps], np.arange(len(steps) + 1), lw=1.2, label=f"run {seed}")
    ax.set_xlabel("time steps")
    ax.set_ylabel("episodes")
    ax.set_title("Figure 6.3: SARSA on the windy gridworld (epsilon 0.1, alpha 0.5)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


CONTROL = {
    "sarsa": (SarsaAgent, SarsaConfig),
    "q_learning": (QLearningAgent, QLearningConfig),
    "double_q_learning": (DoubleQLearningAgent, DoubleQLearningConfig),
}


def episode_returns_of(
    method: str, env_id: str, seed: int, episodes: int, alpha: float
) -> np.ndarray:
    """The return and length of each of `episodes` episodes [2, episodes] of one run."""
    env = gym.make(env_id)
    cls, config = CONTROL[method]
    agent = cls(
        config(alpha=alpha, gamma=1.0, epsilon=0.1),
        env.observation_space,
        env.action_space,
        seed=seed,
    )
    env.reset(seed=seed)
    stats = [agent.run_episode(env) for _ in range(episodes)]
    return np.array([[s.episode_return for s in stats], [s.length for s in stats]])


def cliff_jobs(quick: bool) -> list[Job]:
    runs = 10 if quick else 50
    return [
        Job(episode_returns_of, (method, "rlcourse/CliffWalking-v0", seed, 500, 0.5))
        for method in ("sarsa", "q_learning")
        for seed in range(runs)
    ]


def draw_6_4(results: list[Any], quick: bool) -> Any:
    runs = len(results) // 2
    fig, axes = subplots(1, 1, size=(6.4, 4.2))
    ax = axes[0, 0]
    for i, label in enumerate(("SARSA", "Q-learning")):
        mean = np.mean([r[0] for r in results[i * runs : (i + 1) * runs]], axis=0)
        smooth = np.convolve(mean, np.ones(10) / 10, mode="valid")
        ax.plot(np.arange(10, 501), smooth, label=label)
    ax.set_ylim(-100, 0)
    ax.set_xlabel("episodes")
    ax.set_ylabel("sum of rewards during episode")
    ax.set_title(f"Figure 6.4: cliff walking, {runs} runs, 10-episode moving average")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def bias_jobs(quick: bool) -> list[Job]:
    runs = 100 if quick else 1000
    return [
        Job(episode_returns_of, (method, "rlcourse/MaximizationBias-v0", seed, 300, 0.1))
        for method in ("q_learning", "double_q_learning")
        for seed in range(runs)
    ]


def draw_6_5(results: list[Any], quick: bool) -> Any:
    runs = len(results) // 2
    fig, axes = subplots(1, 1, size=(6.4, 4.2))
    ax = axes[0, 0]
    for i, label in enumerate(("Q-learning", "Double Q-learning")):
        left = np.mean([r[1] == 2 for r in results[i * runs : (i + 1) * runs]], axis=0)
        ax.plot(np.arange(1, 301), 100 * left, label=label)
    ax.axhline(5, color="k", ls="--", lw=1, label="optimal (5%)")
    ax.set_xlabel("episodes")
    ax.set_ylabel("% left actions from A")
    ax.set_title(f"Figure 6.5: maximization bias, {runs} runs")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


FIGURES = [
    Figure(
        "6.2",
        "TD(0) against constant-alpha MC on the random walk",
        "Sutton & Barto (2018), Example 6.2 (the figure in the example)",
        "Left: TD(0)'s values after 0, 1, 10 and 100 episodes of one run (alpha 0.1), against "
        "the true values 1/6..5/6. Right: RMS error of TD(0) and constant-alpha MC at the "
        "book's step sizes, values starting at 0.5, averaged over 100 runs.",
        walk_jobs,
        draw_example_6_2,
    ),
    Figure(
        "6.2 batch",
        "Batch TD(0) against batch MC on the random walk",
        "Sutton & Barto (2018), Figure 6.2, section 6.3",
        "RMS error of batch updating (alpha 0.001, every episode so far presented until the "
        "increments sum to under 0.001), averaged over 100 runs.",
        lambda quick: [
            Job(batch_errors, (start, RUNS_PER_JOB))
            for start in range(0, 20 if quick else 100, RUNS_PER_JOB)
        ],
        draw_batch,
    ),
    Figure(
        "6.3",
        "SARSA on the windy gridworld",
        "Sutton & Barto (2018), Example 6.5 (windy gridworld)",
        "Episodes completed against time steps in three runs of SARSA (epsilon 0.1, alpha 0.5).",
        lambda quick: [Job(windy_sarsa, (seed,)) for seed in range(3)],
        draw_6_3,
    ),
    Figure(
        "6.4",
        "SARSA against Q-learning on the cliff",
        "Sutton & Barto (2018), Example 6.6 (cliff walking)",
        "Sum of rewards per episode (epsilon 0.1, alpha 0.5), averaged over 50 runs and a "
        "10-episode window.",
        cliff_jobs,
        draw_6_4,
    ),
    Figure(
        "6.5",
        "Maximization bias: Q-learning against Double Q-learning",
        "Sutton & Barto (2018), Figure 6.5, Example 6.7",
        "% of episodes that take LEFT from A (epsilon 0.1, alpha 0.1, 10 actions in B), "
        "averaged over 1,000 runs (the book: 10,000).",
        bias_jobs,
        draw_6_5,
    ),
]
