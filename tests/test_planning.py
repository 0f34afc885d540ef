"""Dynamic programming against the published tables (Sutton & Barto, Russell & Norvig)."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401
from agents.tabular.planning import (
    greedy_policy,
    policy_evaluation,
    policy_iteration,
    q_values,
    uniform_policy,
    value_iteration,
)
from envs.gridworld import TabularMDP

UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3


def mdp_of(env_id, **kwargs):
    return TabularMDP.from_env(gym.make(env_id, **kwargs))


@pytest.mark.parametrize("method", ["exact", "iterative"])
def test_sutton_barto_figure_4_1_random_policy_values(method):
    mdp = mdp_of("rlcourse/SuttonBarto4x4-v0")
    v = policy_evaluation(mdp, uniform_policy(mdp), gamma=1.0, theta=1e-10, method=method)
    expected = [
        [0, -14, -20, -22],
        [-14, -18, -20, -20],
        [-20, -20, -18, -14],
        [-22, -20, -14, 0],
    ]
    assert v.reshape(4, 4) == pytest.approx(np.array(expected, float), abs=1e-3)


def test_sutton_barto_figure_4_1_greedy_policy_is_optimal():
    mdp = mdp_of("rlcourse/SuttonBarto4x4-v0")
    v_random = policy_evaluation(mdp, uniform_policy(mdp), gamma=1.0)
    greedy = greedy_policy(q_values(mdp, v_random, 1.0))
    optimal = value_iteration(mdp, gamma=1.0)
    # Fig. 4.1: the greedy policy of the random policy's values is already optimal.
    assert policy_evaluation(mdp, greedy, 1.0) == pytest.approx(optimal.values)
    assert optimal.values.reshape(4, 4)[0].tolist() == [0, -1, -2, -3]


RN_UTILITIES = {  # AIMA Fig. 17.3, (row from the top, col)
    (0, 0): 0.812, (0, 1): 0.868, (0, 2): 0.918,
    (1, 0): 0.762, (1, 2): 0.660,
    (2, 0): 0.705, (2, 1): 0.655, (2, 2): 0.611, (2, 3): 0.388,
}  # fmt: skip
RN_POLICY = {  # AIMA Fig. 17.2(a), R(s) = -0.04
    (0, 0): RIGHT, (0, 1): RIGHT, (0, 2): RIGHT,
    (1, 0): UP, (1, 2): UP,
    (2, 0): UP, (2, 1): LEFT, (2, 2): LEFT, (2, 3): LEFT,
}  # fmt: skip


@pytest.mark.parametrize("planner", [value_iteration, policy_iteration])
def test_russell_norvig_figure_17_3_utilities_and_policy(planner):
    mdp = mdp_of("rlcourse/RussellNorvig4x3-v0")
    solution = planner(mdp, gamma=1.0, theta=1e-12)
    for (r, c), utility in RN_UTILITIES.items():
        assert solution.values[r * 4 + c] == pytest.approx(utility, abs=1e-3), (r, c)
    for (r, c), action in RN_POLICY.items():
        assert np.argmax(solution.policy[r * 4 + c]) == action, (r, c)


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "CliffWalking-v1", "Taxi-v3"])
def test_planners_agree_on_gymnasium_toy_text(env_id):
    mdp = mdp_of(env_id)
    vi = value_iteration(mdp, gamma=0.95, theta=1e-10)
    pi = policy_iteration(mdp, gamma=0.95, theta=1e-10)
    assert vi.values == pytest.approx(pi.values, abs=1e-6)
    # The greedy policy's own value is the optimal value (Bellman optimality).
    assert policy_evaluation(mdp, vi.policy, 0.95) == pytest.approx(vi.values, abs=1e-6)


def test_frozen_lake_optimal_value_of_the_start():
    # FrozenLake 4x4 (slippery), gamma 0.99: a well-known optimum of about 0.542 at the start.
    v = value_iteration(mdp_of("FrozenLake-v1"), gamma=0.99, theta=1e-12).values
    assert v[0] == pytest.approx(0.542, abs=1e-3)


def test_bad_inputs_are_named():
    mdp = mdp_of("rlcourse/SuttonBarto4x4-v0")
    with pytest.raises(ValueError, match="gamma must lie in"):
        value_iteration(mdp, gamma=1.5)
    with pytest.raises(ValueError, match="policy has shape"):
        policy_evaluation(mdp, np.ones((3, 4)))
    stay_put = np.zeros((16, 4))
    stay_put[:, UP] = 1.0  # never reaches a terminal from the bottom row
    with pytest.raises(ValueError, match="never reaches a terminal state"):
        policy_evaluation(mdp, stay_put, gamma=1.0)
    with pytest.raises(RuntimeError, match="did not converge"):
        policy_evaluation(mdp, stay_put, gamma=1.0, max_iterations=200, method="iterative")
    with pytest.raises(ValueError, match="method must be"):
        policy_evaluation(mdp, uniform_policy(mdp), method="sweeps")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"policy\[1\] = .* is not a probability distribution"):
        policy_evaluation(mdp, np.zeros((16, 4)))
