"""Exact policy evaluation (one sparse solve), improper policies named, and policy iteration
agreeing with an independent value iteration on Gymnasium's toy-text envs."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the rlcourse/* ids)
from agents.tabular.planning import (
    policy_evaluation,
    policy_iteration,
    q_values,
    uniform_policy,
    value_iteration,
)
from envs.gridworld import TabularMDP

GO, WAIT = 0, 1


def chain_mdp():
    """States 0 and 1 live, 2 terminal. GO from 0 reaches 1 (reward -1); GO from 1 ends the
    episode with reward 10 half the time and falls back to 0 (reward -1) otherwise. WAIT stays
    put for free: a policy that waits in state 0 never ends the episode."""
    P = {
        0: {GO: [(1.0, 1, -1.0, False)], WAIT: [(1.0, 0, 0.0, False)]},
        1: {GO: [(0.5, 2, 10.0, True), (0.5, 0, -1.0, False)], WAIT: [(1.0, 1, 0.0, False)]},
        2: {GO: [(1.0, 2, 0.0, True)], WAIT: [(1.0, 2, 0.0, True)]},
    }
    return TabularMDP.from_transitions(P, 3, 2)


def always(action, n_states=3, n_actions=2):
    policy = np.zeros((n_states, n_actions))
    policy[:, action] = 1.0
    return policy


def test_exact_evaluation_matches_the_hand_solved_chain():
    mdp = chain_mdp()
    # gamma = 1: v1 = 0.5 * 10 + 0.5 * (-1 + v0) and v0 = -1 + v1, so v0 = 7, v1 = 8.
    assert policy_evaluation(mdp, always(GO), 1.0) == pytest.approx([7.0, 8.0, 0.0], abs=1e-12)
    # gamma = 0.9: v0 = 3.05 / 0.595 = 610/119 and v1 = 4.5 + 0.45 v0 = 810/119.
    expected = [610 / 119, 810 / 119, 0.0]
    assert policy_evaluation(mdp, always(GO), 0.9) == pytest.approx(expected, abs=1e-12)
    iterative = policy_evaluation(mdp, always(GO), 0.9, theta=1e-13, method="iterative")
    assert iterative == pytest.approx(expected, abs=1e-10)


def test_an_improper_policy_is_named_with_gamma_1():
    mdp = chain_mdp()
    wait_first = always(GO)
    wait_first[0] = [0.0, 1.0]  # waits forever in state 0 (state 1 may still end)
    with pytest.raises(
        ValueError, match=r"never reaches a terminal state from 1 state\(s\), e.g. state 0"
    ):
        policy_evaluation(mdp, wait_first, 1.0)
    # Discounted, the same policy has finite values: state 0 earns nothing forever.
    assert policy_evaluation(mdp, wait_first, 0.9)[0] == 0.0
    # Waiting half the time still ends the episode: proper, and solved exactly.
    mixed = always(GO)
    mixed[0] = [0.5, 0.5]
    v = policy_evaluation(mdp, mixed, 1.0)
    # v0 = 0.5 (-1 + v1) + 0.5 v0 (waiting is free) and v1 = 4.5 + 0.5 v0: v0 = 7, v1 = 8.
    assert v == pytest.approx([7.0, 8.0, 0.0], abs=1e-12)


def test_policy_iteration_on_cliff_walking_undiscounted_from_the_random_policy():
    # The uniform random policy is proper but slow to evaluate by sweeps (falls off the cliff
    # send it back to the start): the old iterative evaluation gave up after 100,000 sweeps.
    mdp = TabularMDP.from_env(gym.make("CliffWalking-v1"))
    solution = policy_iteration(mdp, gamma=1.0)
    start = 36  # bottom-left; the shortest safe path takes 13 steps of reward -1
    assert solution.values[start] == pytest.approx(-13.0, abs=1e-9)
    assert np.all(policy_evaluation(mdp, solution.policy, 1.0) == solution.values)


def test_greedy_policies_stay_proper_when_a_free_self_loop_ties_with_the_goal():
    # Deterministic FrozenLake, gamma = 1: every safe state is worth 1, so bumping into a wall
    # (a free self-loop) ties with the way to the goal. Taking the first tied action gave value
    # iteration a policy that never reaches the goal from the start.
    mdp = TabularMDP.from_env(gym.make("FrozenLake-v1", is_slippery=False))
    for solution in (value_iteration(mdp, 1.0), policy_iteration(mdp, 1.0)):
        v = policy_evaluation(mdp, solution.policy, 1.0)  # raises if improper
        assert v[0] == pytest.approx(1.0)
        assert v == pytest.approx(solution.values)


def test_policy_iteration_keeps_an_action_that_is_still_greedy():
    mdp = TabularMDP.from_env(gym.make("CliffWalking-v1"))
    optimal = value_iteration(mdp, 1.0, theta=1e-12)
    q = q_values(mdp, optimal.values, 1.0)
    tied = np.flatnonzero(np.isclose(q, q.max(axis=1, keepdims=True)).sum(axis=1) > 1)
    state = int(tied[0])  # (0, 0): right and down are equally short
    policy = optimal.policy.copy()
    other = [
        a for a in np.flatnonzero(np.isclose(q[state], q[state].max())) if policy[state, a] == 0
    ]
    policy[state] = 0.0
    policy[state, other[0]] = 1.0
    solution = policy_iteration(mdp, 1.0, policy=policy)
    assert solution.iterations == 1
    np.testing.assert_array_equal(solution.policy, policy)


# ----------------------------------------------------------------------------- toy text


def reference_value_iteration(P, n_states, n_actions, gamma, tol=1e-11):
    """Optimal values and Q from the raw ``P[s][a]`` lists, independently of TabularMDP, and
    the states entered by a terminating transition (worth 0 to the planners)."""
    rows, prob, nxt, rew, done = [], [], [], [], []
    for s in range(n_states):
        for a in range(n_actions):
            for p, s2, r, d in P[s][a]:
                rows.append(s * n_actions + a)
                prob.append(p), nxt.append(s2), rew.append(r), done.append(d)
    rows, prob, nxt, rew, done = map(np.asarray, (rows, prob, nxt, rew, done))
    terminal = np.zeros(n_states, bool)
    terminal[nxt[done & (prob > 0)]] = True
    v = np.zeros(n_states)
    for _ in range(200_000):
        target = prob * (rew + gamma * np.where(done, 0.0, v[nxt]))
        q = np.bincount(rows, target, n_states * n_actions).reshape(n_states, n_actions)
        new = np.where(terminal, 0.0, q.max(axis=1))
        if np.abs(new - v).max() < tol:
            return new, q, terminal
        v = new
    raise AssertionError("the reference value iteration did not converge")


@pytest.mark.parametrize(
    ("env_id", "kwargs", "gamma"),
    [
        ("CliffWalking-v1", {}, 1.0),
        ("FrozenLake-v1", {}, 0.99),
        ("FrozenLake-v1", {"map_name": "8x8"}, 0.99),
        ("Taxi-v3", {}, 0.99),
    ],
    ids=["cliff-gamma1", "frozenlake4x4", "frozenlake8x8", "taxi"],
)
def test_policy_iteration_agrees_with_an_independent_value_iteration(env_id, kwargs, gamma):
    env = gym.make(env_id, **kwargs)
    base = env.unwrapped
    n_s, n_a = base.observation_space.n, base.action_space.n
    v_star, q_star, terminal = reference_value_iteration(base.P, n_s, n_a, gamma)
    solution = policy_iteration(TabularMDP.from_env(env), gamma)
    live = ~terminal
    assert solution.values[live] == pytest.approx(v_star[live], abs=1e-6)
    actions = solution.policy.argmax(axis=1)
    assert np.all(solution.policy.max(axis=1) == 1.0)  # one-hot
    # Greedy everywhere, and the very action where the greedy action is unique.
    best = q_star.max(axis=1)
    chosen = q_star[np.arange(n_s), actions]
    assert np.all(chosen[live] >= best[live] - 1e-6)
    runner_up = np.sort(q_star, axis=1)[:, -2]
    unique = live & (best - runner_up > 1e-6)
    assert unique.sum() > 0
    np.testing.assert_array_equal(actions[unique], q_star.argmax(axis=1)[unique])
    env.close()


def test_uniform_policy_values_agree_exact_and_iterative_on_frozen_lake():
    mdp = TabularMDP.from_env(gym.make("FrozenLake-v1", map_name="8x8"))
    exact = policy_evaluation(mdp, uniform_policy(mdp), 0.99)
    swept = policy_evaluation(mdp, uniform_policy(mdp), 0.99, theta=1e-13, method="iterative")
    assert exact == pytest.approx(swept, abs=1e-9)
