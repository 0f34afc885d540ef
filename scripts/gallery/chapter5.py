"""Chapter 5: Monte Carlo methods on Blackjack, Figures 5.1-5.3, against the exact values that
dynamic programming gives on the game's model (envs.blackjack.blackjack_model)."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.tabular.monte_carlo import MCExploringStartsAgent, MCExploringStartsConfig
from agents.tabular.prediction import (
    importance_ratio,
    importance_sampling_estimates,
    mc_prediction_episode,
)
from envs.blackjack import HIT, N_STATES, STICK, BlackjackStatesEnv, state_index, state_of
from scripts.gallery.core import Figure, Job, subplots

SUMS = np.arange(12, 22)
DEALER = np.arange(1, 11)


def sticks_on_20(state: int) -> int:
    """The policy of Example 5.1: stick on 20 or 21, hit otherwise."""
    return STICK if state_of(state)[0] >= 20 else HIT


def stick_on_20_policy() -> np.ndarray:
    """[704, 2] the same policy as action probabilities, for the planners."""
    policy = np.zeros((N_STATES, 2))
    policy[np.arange(N_STATES), [sticks_on_20(s) for s in range(N_STATES)]] = 1.0
    return policy


def play(
    env: BlackjackStatesEnv, choose: Any, options: dict[str, Any] | None = None
) -> tuple[list[int], list[float], list[int]]:
    """One hand: the states S_0..S_T, rewards and actions, the actions from `choose(state)`."""
    state, _ = env.reset(options=options)
    states, rewards, actions = [int(state)], [], []
    terminated = False
    while not terminated:
        action = choose(int(state))
        state, reward, terminated, _, _ = env.step(action)
        states.append(int(state))
        rewards.append(float(reward))
        actions.append(action)
    return states, rewards, actions


# ----------------------------------------------------------------------------- Figure 5.1

SNAPSHOT = 10_000


def first_visit_values(chunk: int, episodes: int) -> dict[str, Any]:
    """First-visit MC (sample averages) of the stick-on-20 policy over `episodes` hands: the
    values and visit counts [704]; chunk 0 also keeps them after its first 10,000 hands."""
    env = BlackjackStatesEnv()
    env.reset(seed=chunk)
    values, counts = np.zeros(N_STATES), np.zeros(N_STATES)
    snapshot = None
    for episode in range(episodes):
        states, rewards, _ = play(env, sticks_on_20)
        mc_prediction_episode(values, counts, states, rewards, None, 1.0, "first")
        if chunk == 0 and episode + 1 == min(SNAPSHOT, episodes):
            snapshot = (values.copy(), episode + 1)
    return {"values": values, "counts": counts, "snapshot": snapshot}


def pooled(results: list[dict[str, Any]]) -> np.ndarray:
    """Sample averages of all chunks pooled: sum of count x mean over the total count."""
    counts = sum(r["counts"] for r in results)
    total = sum(r["counts"] * r["values"] for r in results)
    return np.divide(total, counts, out=np.zeros(N_STATES), where=counts > 0)


def grid(values: np.ndarray, ace: int) -> np.ndarray:
    """[10 sums 12-21, 10 dealer cards 1-10] of a [704] table."""
    return np.array([[values[state_index(s, d, ace)] for d in DEALER] for s in SUMS])


def heatmap(
    ax: Any,
    table: np.ndarray,
    title: str,
    vmin: float = -1.0,
    vmax: float = 1.0,
    cmap: str = "coolwarm",
) -> None:
    ax.imshow(table, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(10), ["A", *map(str, range(2, 11))])
    ax.set_yticks(range(10), [str(s) for s in SUMS])
    ax.set_xlabel("dealer showing")
    ax.set_ylabel("player sum")
    ax.set_title(title, fontsize=9)


def figure_5_1_jobs(quick: bool) -> list[Job]:
    total = 50_000 if quick else 500_000
    return [Job(first_visit_values, (chunk, total // 10)) for chunk in range(10)]


def draw_5_1(results: list[Any], quick: bool) -> Any:
    episodes = 50_000 if quick else 500_000
    early, early_episodes = results[0]["snapshot"]
    late = pooled(results)
    fig, axes = subplots(2, 2, size=(4.4, 3.6))
    shown = ((early, f"after {early_episodes:,} episodes"), (late, f"after {episodes:,} episodes"))
    for col, (values, label) in enumerate(shown):
        for row, ace in enumerate((1, 0)):
            heatmap(
                axes[row, col],
                grid(values, ace),
                f"{'usable' if ace else 'no usable'} ace, {label}",
            )
    fig.suptitle(
        "Figure 5.1: the stick-on-20 policy's values by first-visit Monte Carlo\n"
        "(colour: -1 blue to +1 red)"
    )
    return fig


# ----------------------------------------------------------------------------- Figure 5.2


def exploring_starts(episodes: int) -> dict[str, np.ndarray]:
    """Monte Carlo ES's greedy policy and values after `episodes` hands."""
    env = BlackjackStatesEnv()
    config = MCExploringStartsConfig(gamma=1.0)
    agent = MCExploringStartsAgent(config, env.observation_space, env.action_space, seed=0)
    env.reset(seed=0)
    for _ in range(episodes):
        agent.run_episode(env)
    return {"policy": agent.q.argmax(axis=1), "values": agent.q.max(axis=1), "q": agent.q}


def draw_5_2(results: list[Any], quick: bool) -> Any:
    (data,) = results
    fig, axes = subplots(2, 2, size=(4.4, 3.6))
    for row, ace in enumerate((1, 0)):
        name = "usable ace" if ace else "no usable ace"
        heatmap(axes[row, 0], grid(data["policy"], ace), f"π*, {name} (red: hit)", 0, 1, "RdYlBu_r")
        heatmap(axes[row, 1], grid(data["values"], ace), f"v*, {name} (-1 blue to +1 red)")
    episodes = 50_000 if quick else 500_000
    fig.suptitle(f"Figure 5.2: Monte Carlo ES after {episodes:,} episodes")
    return fig


# ----------------------------------------------------------------------------- Figure 5.3

FIG_5_3_STATE = state_index(13, 2, 1)  # player sum 13 with a usable ace, dealer showing 2
FIG_5_3_EPISODES = 10_000


def uniformly_random(rng: np.random.Generator) -> Any:
    """The behaviour policy of Example 5.4: stick or hit with probability 1/2 each."""
    return lambda state: int(rng.integers(2))


def off_policy_errors(
    first_run: int, runs: int, episodes: int, true_value: float
) -> dict[str, Any]:
    """Summed over `runs`: squared error of ordinary and weighted importance sampling [episodes]
    estimating the stick-on-20 value of FIG_5_3_STATE from a uniformly random behaviour."""
    errors = {"ordinary": np.zeros(episodes), "weighted": np.zeros(episodes), "runs": runs}
    for run in range(first_run, first_run + runs):
        env = BlackjackStatesEnv()
        env.reset(seed=run)
        behaviour = uniformly_random(np.random.default_rng(run))
        ratios, returns = np.zeros(episodes), np.zeros(episodes)
        for k in range(episodes):
            states, rewards, actions = play(env, behaviour, {"state": FIG_5_3_STATE})
            target = [float(sticks_on_20(s) == a) for s, a in zip(states, actions, strict=False)]
            ratios[k] = importance_ratio(target, [0.5] * len(actions))
            returns[k] = sum(rewards)
        ordinary, weighted = importance_sampling_estimates(ratios, returns)
        errors["ordinary"] += (ordinary - true_value) ** 2
        errors["weighted"] += (weighted - true_value) ** 2
    return errors


def exact_value_of_5_3_state() -> float:
    from agents.tabular.planning import policy_evaluation
    from envs.blackjack import blackjack_model

    return float(policy_evaluation(blackjack_model(), stick_on_20_policy(), 1.0)[FIG_5_3_STATE])


def figure_5_3_jobs(quick: bool) -> list[Job]:
    runs = 10 if quick else 100
    true_value = exact_value_of_5_3_state()
    return [
        Job(off_policy_errors, (start, 10, FIG_5_3_EPISODES, true_value))
        for start in range(0, runs, 10)
    ]


def draw_5_3(results: list[Any], quick: bool) -> Any:
    runs = sum(r["runs"] for r in results)
    fig, axes = subplots(1, 1, size=(6.4, 4.4))
    ax = axes[0, 0]
    episodes = np.arange(1, FIG_5_3_EPISODES + 1)
    for name in ("ordinary", "weighted"):
        ax.plot(episodes, sum(r[name] for r in results) / runs, label=f"{name} importance sampling")
    ax.set_xscale("log")
    ax.set_ylim(0, 5)
    ax.set_xlabel("episodes (log scale)")
    ax.set_ylabel(f"mean square error (average over {runs} runs)")
    ax.set_title("Figure 5.3: off-policy estimation of one blackjack state")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


FIGURES = [
    Figure(
        "5.1",
        "Monte Carlo prediction of the stick-on-20 policy",
        "Sutton & Barto (2018), Figure 5.1, Example 5.1",
        "State values by first-visit Monte Carlo after 10,000 and 500,000 hands, with and "
        "without a usable ace (Gymnasium's Blackjack-v1, sab=True).",
        figure_5_1_jobs,
        draw_5_1,
    ),
    Figure(
        "5.2",
        "Monte Carlo ES on blackjack",
        "Sutton & Barto (2018), Figure 5.2, Example 5.3",
        "The greedy policy and state values Monte Carlo ES finds after 500,000 hands.",
        lambda quick: [Job(exploring_starts, (50_000 if quick else 500_000,))],
        draw_5_2,
    ),
    Figure(
        "5.3",
        "Ordinary against weighted importance sampling",
        "Sutton & Barto (2018), Figure 5.3, Example 5.4",
        "Mean square error of the two estimates of the stick-on-20 value of (13, usable ace, "
        "dealer 2) from uniformly random play, against the exact value by dynamic "
        "programming (-0.2772), averaged over 100 runs.",
        figure_5_3_jobs,
        draw_5_3,
    ),
]
