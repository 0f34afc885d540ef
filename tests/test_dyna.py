"""Dyna-Q, Dyna-Q+ and prioritized sweeping, and the changing mazes, against Sutton & Barto
(2018), chapter 8: update rules by hand, Figure 8.2 and Example 8.4 with short runs and wide
margins; Figures 8.4 and 8.5 in full under -m slow."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the rlcourse/* maze ids)
from agents.tabular.dyna import (
    DynaQAgent,
    DynaQConfig,
    LearnedModel,
    PrioritizedSweepingAgent,
    PrioritizedSweepingConfig,
    exploration_bonus,
)
from agents.tabular.td import QLearningAgent, QLearningConfig, Transition
from envs.gridworld import ChangingMazeEnv, GridWorldEnv, parse_map
from scripts.gallery.chapter8 import cumulative_reward, dyna_maze_run, updates_until_optimal

CORRIDOR = parse_map("step_reward: 0\nterminals: G=1\ngrid:\nS....G\n", source="corridor")
RIGHT = 1


def walk_right(agent, env) -> None:
    """One episode along the corridor, always moving right, learning from every step."""
    state, info = env.reset()
    terminated = False
    while not terminated:
        obs, reward, terminated, _, info = env.step(RIGHT)
        agent.steps += 1
        agent.learn_step(Transition(int(state), RIGHT, float(reward), int(obs), terminated, info))
        state = obs


# ----------------------------------------------------------------------------- the mazes


def test_changing_maze_passes_the_gymnasium_check():
    check_env(
        ChangingMazeEnv("blocking_maze_before", "blocking_maze_after", 5), skip_render_check=True
    )


def test_the_blocking_maze_changes_after_1000_steps_and_keeps_the_agent_in_place():
    env = gym.make("rlcourse/BlockingMaze-v0")
    env.reset(seed=0)
    inner = env.unwrapped
    gap_before, gap_after = 3 * 9 + 8, 3 * 9 + 0  # the barrier's open end, row 3
    assert inner.mdp.P[gap_before - 9, 2, gap_before] == 1.0  # stepping down into the gap
    for step in range(1000):
        _, _, terminated, truncated, info = env.step(step % 4)
        assert info["maze"] == 0
        if terminated or truncated:
            env.reset()
    where = inner.current.s
    _, _, _, _, info = env.step(0)
    assert info["maze"] == 1 and inner.steps_taken == 1001
    assert inner.mdp.P[gap_before - 9, 2, gap_before] == 0.0
    assert inner.mdp.P[gap_after - 9, 2, gap_after] == 1.0
    assert inner.current.s in {where, where - 9, where + 9, where - 1, where + 1}


def test_changing_mazes_must_match():
    with pytest.raises(ValueError, match="differ in size"):
        ChangingMazeEnv("dyna_maze", "cliff", 10)


# ----------------------------------------------------------------------------- the rules


def test_the_model_remembers_transitions_and_predecessors():
    model = LearnedModel(6, 4)
    model.record(Transition(2, 1, 0.5, 3, False, {}), step=7)
    model.record(Transition(4, 3, 0.0, 3, False, {}), step=8)
    model.record(Transition(2, 1, 0.5, 3, False, {}), step=9)
    assert model.next_state[2, 1] == 3 and model.reward[2, 1] == 0.5 and model.last_tried[2, 1] == 9
    assert int(model.tried) == 2 and list(model.order[:2]) == [2 * 4 + 1, 4 * 4 + 3]
    assert sorted(map(tuple, model.predecessors(3))) == [(2, 1), (4, 3)]


def test_exploration_bonus():
    assert exploration_bonus(1e-3, 100) == pytest.approx(0.01)
    assert exploration_bonus(0.0, 100) == 0.0


def test_planning_carries_the_goal_back_along_the_corridor():
    """After one episode, Q-learning has valued only the last step; Dyna-Q with many planning
    steps and prioritized sweeping carry the reward back to the start."""
    env = GridWorldEnv(CORRIDOR)
    kw = {"alpha": 1.0, "gamma": 0.9, "epsilon": 0.0}
    q = QLearningAgent(QLearningConfig(**kw), env.observation_space, env.action_space)
    dyna = DynaQAgent(
        DynaQConfig(planning_steps=200, **kw), env.observation_space, env.action_space
    )
    sweep = PrioritizedSweepingAgent(
        PrioritizedSweepingConfig(planning_steps=10, **kw), env.observation_space, env.action_space
    )
    for agent in (q, dyna, sweep):
        env.reset(seed=0)
        walk_right(agent, env)
    assert q.q[4, RIGHT] == 1.0 and q.q[0, RIGHT] == 0.0
    assert dyna.q[0, RIGHT] == pytest.approx(0.9**4)
    # backwards from the goal: 5 updates, one per predecessor, each exact with alpha = 1
    assert sweep.q[:5, RIGHT] == pytest.approx(0.9 ** np.arange(4, -1, -1))
    assert sweep.updates == 5


def test_prioritized_sweeping_survives_a_save_and_reload(tmp_path):
    env = GridWorldEnv(CORRIDOR)
    kw = {"alpha": 0.5, "gamma": 0.9, "epsilon": 0.0, "planning_steps": 1}
    agent = PrioritizedSweepingAgent(
        PrioritizedSweepingConfig(**kw), env.observation_space, env.action_space
    )
    env.reset(seed=0)
    walk_right(agent, env)
    agent.save(tmp_path / "agent.npz")
    again = PrioritizedSweepingAgent(
        PrioritizedSweepingConfig(**kw), env.observation_space, env.action_space
    )
    again.load(tmp_path / "agent.npz")
    assert np.array_equal(again.q, agent.q) and np.array_equal(again.priority, agent.priority)
    assert sorted(again._heap) == sorted(
        h for h in agent._heap if agent.priority[h[1], h[2]] == -h[0]
    )


# ----------------------------------------------------------------------------- the figures


def test_figure_8_2_planning_steps_speed_up_learning():
    runs = {n: np.mean([dyna_maze_run(n, seed) for seed in range(3)], axis=0) for n in (0, 5, 50)}
    # book, episode 2: hundreds of steps without planning, about 40 with 50 planning steps
    # (single runs without planning range from about 100 to 2,000 steps, so compare sums)
    assert runs[50][1] < 90
    assert 30 < runs[5][1] < 300
    assert runs[0][1:20].mean() > 2 * runs[5][1:20].mean()
    assert runs[5][1:20].mean() > runs[50][1:20].mean()
    # all find the 14-step path, give or take epsilon-greedy detours, within 50 episodes
    assert runs[5][-10:].mean() < 22 and runs[50][-10:].mean() < 22


def test_example_8_4_prioritized_sweeping_needs_fewer_updates():
    # 94 free cells: about 3,000 updates against about 20,000 (six seeds measured)
    sweep = np.mean([updates_until_optimal("prioritized_sweeping", 1, s) for s in range(2)])
    dyna = np.mean([updates_until_optimal("dyna_q", 1, s) for s in range(2)])
    assert sweep < 0.5 * dyna


@pytest.mark.slow
def test_figure_8_4_dyna_q_plus_recovers_from_the_block_faster():
    settings = {"alpha": 1.0, "planning_steps": 10}
    plus = np.mean(
        [
            cumulative_reward(
                "rlcourse/BlockingMaze-v0", "dyna_q", {**settings, "kappa": 1e-4}, 3000, s
            )
            for s in range(10)
        ],
        axis=0,
    )
    plain = np.mean(
        [
            cumulative_reward(
                "rlcourse/BlockingMaze-v0", "dyna_q", {**settings, "kappa": 0.0}, 3000, s
            )
            for s in range(10)
        ],
        axis=0,
    )
    # both stall after the block at 1,000 steps, then earn again; Dyna-Q+ more
    assert plus[1300] - plus[1000] < 5 and plain[1300] - plain[1000] < 5
    assert plus[-1] - plus[1999] > plain[-1] - plain[1999]


@pytest.mark.slow
def test_figure_8_5_dyna_q_plus_finds_the_shortcut_and_dyna_q_does_not():
    settings = {"alpha": 1.0, "planning_steps": 10}
    env_id = "rlcourse/ShortcutMaze-v0"
    plus = [
        cumulative_reward(env_id, "dyna_q", {**settings, "kappa": 1e-3}, 6000, s) for s in range(10)
    ]
    plain = [
        cumulative_reward(env_id, "dyna_q", {**settings, "kappa": 0.0}, 6000, s) for s in range(10)
    ]
    # rewards per step over the last 1,500 steps: the shortcut is 10 steps, the long way 16
    rate = lambda c: (c[-1] - c[-1501]) / 1500  # noqa: E731
    assert np.mean([rate(c) for c in plus]) > 1 / 13
    assert np.mean([rate(c) for c in plain]) < 1 / 14
    before = lambda c: (c[2999] - c[1499]) / 1500  # noqa: E731
    assert np.mean([rate(c) - before(c) for c in plus]) > 0.015
