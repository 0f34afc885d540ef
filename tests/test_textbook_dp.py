"""Chapter 4's MDPs against Sutton & Barto (2018): Jack's Car Rental (Example 4.2, Figure
4.2, and Exercise 4.7) and the Gambler's Problem (Example 4.3, Figure 4.3), solved by the
suite's own policy and value iteration."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401  (registers rlcourse/CarRental-v0 and rlcourse/Gambler-v0)
from agents.tabular.planning import policy_iteration, q_values, value_iteration
from envs.car_rental import MAX_MOVE, CarRentalEnv, build_model, location_model, state_index
from envs.gambler import GamblerEnv
from rlcourse.mdp import TabularMDP

# Figure 4.2's pi_4, rows from 20 cars at location 1 (top) down to 0, columns 0..20 cars at
# location 2: cars moved from location 1 to 2 (negative: from 2 to 1). Read off policy
# iteration's final policy here and compared cell by cell with the book's contour plot.
FIGURE_4_2_PI_4 = """
     5  5  5  5  4  4  3  3  3  3  2  2  2  2  2  1  1  1  0  0  0
     5  5  5  4  4  3  3  2  2  2  2  1  1  1  1  1  0  0  0  0  0
     5  5  5  4  3  3  2  2  1  1  1  1  0  0  0  0  0  0  0  0  0
     5  5  5  4  3  2  2  1  1  0  0  0  0  0  0  0  0  0  0  0  0
     5  5  5  4  3  2  1  1  0  0  0  0  0  0  0  0  0  0  0  0  0
     5  5  5  4  3  2  1  0  0  0  0  0  0  0  0  0  0  0  0  0  0
     5  5  4  4  3  2  1  0  0  0  0  0  0  0  0  0  0  0  0  0  0
     5  5  4  3  3  2  1  0  0  0  0  0  0  0  0  0  0  0  0  0  0
     5  5  4  3  2  2  1  0  0  0  0  0  0  0  0  0  0  0  0  0  0
     5  4  4  3  2  1  1  0  0  0  0  0  0  0  0  0  0  0  0  0  0
     4  4  3  3  2  1  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0
     4  3  3  2  2  1  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0
     3  3  2  2  1  1  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0
     3  2  2  1  1  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0
     2  2  1  1  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0
     1  1  1  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0
     0  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0  0 -1 -1
     0  0  0  0  0  0  0  0  0  0  0  0  0  0  0 -1 -1 -1 -1 -1 -2
     0  0  0  0  0  0  0  0  0  0  0 -1 -1 -1 -1 -1 -2 -2 -2 -2 -2
     0  0  0  0  0  0  0  0  0 -1 -1 -1 -2 -2 -2 -2 -2 -3 -3 -3 -3
     0  0  0  0  0  0  0  0 -1 -1 -2 -2 -2 -3 -3 -3 -3 -3 -4 -4 -4
"""


def policy_matrix(policy: np.ndarray) -> np.ndarray:
    """[21, 21] cars moved, rows from 20 cars at location 1 down to 0 (the book's layout)."""
    return np.flipud((policy.argmax(axis=1) - MAX_MOVE).reshape(21, 21))


def never_move() -> np.ndarray:
    policy = np.zeros((441, 2 * MAX_MOVE + 1))
    policy[:, MAX_MOVE] = 1.0
    return policy


@pytest.fixture(scope="module")
def jack() -> dict[str, object]:
    mdp = build_model("example_4_2")
    policies: list[np.ndarray] = []
    solution = policy_iteration(
        mdp, 0.9, policy=never_move(), trace=lambda v, pi: policies.append(pi.copy())
    )
    return {"mdp": mdp, "solution": solution, "policies": policies}


# ----------------------------------------------------------------------------- Jack


def test_car_rental_env_passes_gymnasium_and_sb3_checks():
    check_env(CarRentalEnv(), skip_render_check=True)
    sb3_check_env(CarRentalEnv(), warn=True)


def test_location_model_is_a_distribution_with_the_poisson_means():
    model = location_model(3.0, 3.0)
    assert np.allclose(model.next_count.sum(axis=1), 1.0)
    assert model.rented[0] == 0.0
    assert model.rented[20] == pytest.approx(3.0, abs=1e-6)  # 20 cars meet almost every request
    assert model.rented[1] == pytest.approx(
        1.0 - np.exp(-3.0)
    )  # one car: rented unless no one asks


def test_sampled_days_agree_with_the_model():
    """The env samples requests and returns; the model is their exact distribution."""
    env = CarRentalEnv("exercise_4_7")
    mdp = env.mdp
    state, action = state_index(12, 4), MAX_MOVE + 3  # 12 and 4 cars, move 3 to location 2
    counts, rewards = np.zeros(mdp.n_states), []
    env.reset(seed=0)
    for _ in range(20_000):
        env.cars = (12, 4)
        s, r, *_ = env.step(action)
        counts[s] += 1
        rewards.append(r)
    row = mdp.P_matrix[[state * mdp.n_actions + action]].toarray().ravel()
    assert 0.5 * np.abs(counts / counts.sum() - row).sum() < 0.05  # total variation distance
    assert np.mean(rewards) == pytest.approx(mdp.R[state, action], abs=0.3)
    # Exercise 4.7: 2 of the 3 moved cars paid for, and 9 and 7 cars overnight: no parking fee
    assert mdp.R[state, action] == pytest.approx(build_model("example_4_2").R[state, action] + 2.0)


def test_figure_4_2_policy_iteration_takes_the_books_four_improvements(jack):
    # pi_0 (never move) ... pi_4, then pi_4 is found stable
    assert len(jack["policies"]) == 5
    assert np.all(policy_matrix(jack["policies"][0]) == 0)
    assert np.array_equal(
        policy_matrix(jack["policies"][-1]), policy_matrix(jack["solution"].policy)
    )


def test_figure_4_2_optimal_policy_matrix(jack):
    expected = np.array([row.split() for row in FIGURE_4_2_PI_4.strip().splitlines()], int)
    assert np.array_equal(policy_matrix(jack["solution"].policy), expected)
    # value iteration, a different planner, agrees on every state
    vi = value_iteration(jack["mdp"], 0.9, 1e-10)
    assert np.array_equal(vi.policy.argmax(axis=1), jack["solution"].policy.argmax(axis=1))


def test_figure_4_2_values_span_the_books_range(jack):
    values = jack["solution"].values
    # the book's v_pi4 surface rises from about 420 at (0, 0)
    assert values.min() == pytest.approx(421.4, abs=1.0)
    assert values.argmin() == state_index(0, 0) and values.argmax() == state_index(20, 20)


def test_exercise_4_7_the_free_shuttle_and_the_parking_lot_change_the_policy():
    mdp = build_model("exercise_4_7")
    solution = policy_iteration(mdp, 0.9, policy=never_move())
    moves = policy_matrix(solution.policy)
    # with 20 cars at location 1 and few at 2, the free car makes moving at least one worth it
    assert moves[0, 0] == 5
    # from (20, 10) one more car at location 2 would rent its second lot ($4) while location 1
    # pays for its own anyway: nothing moves, where the original problem moves 2
    assert moves[0, 10] == 0
    # from (11, 10) moving one car swaps whose lot is paid for and the shuttle is free: move it
    assert moves[20 - 11, 10] == 1
    assert not np.array_equal(
        moves, policy_matrix(policy_iteration(build_model(), 0.9, policy=never_move()).policy)
    )


# ----------------------------------------------------------------------------- Gambler


def test_gambler_env_passes_gymnasium_and_sb3_checks():
    check_env(GamblerEnv(), skip_render_check=True)
    sb3_check_env(GamblerEnv(), warn=True)


def smallest_optimal_stakes(mdp: TabularMDP, values: np.ndarray) -> np.ndarray:
    """[101] the smallest stake within 1e-9 of the best at each capital (0 at 0 and 100)."""
    q = q_values(mdp, values, 1.0)
    stakes = np.arange(1, 51)
    allowed = stakes[None, :] <= np.minimum(np.arange(101), 100 - np.arange(101))[:, None]
    q = np.where(allowed, q, -np.inf)
    best = np.argmax(q >= q.max(axis=1, keepdims=True) - 1e-9, axis=1) + 1
    return np.where(allowed.any(axis=1), best, 0)


def test_figure_4_3_value_at_50_and_the_optimal_stakes():
    mdp = TabularMDP.from_env(GamblerEnv(0.4))
    solution = value_iteration(mdp, 1.0, 1e-12)
    v = solution.values
    # betting everything at 50 wins with probability p = 0.4; at 25, twice in a row
    assert v[50] == pytest.approx(0.4, abs=1e-9)
    assert v[25] == pytest.approx(0.16, abs=1e-9) and v[75] == pytest.approx(0.64, abs=1e-9)
    assert np.all(
        np.diff(v[:100]) > 0
    )  # more capital always helps (the goal itself is terminal: 0)
    stakes = smallest_optimal_stakes(mdp, v)
    assert stakes[25] == 25 and stakes[50] == 50 and stakes[75] == 25
    # the book's final policy: a ramp 1..12, back down to 1 at 24, then the spike at 25
    assert list(stakes[1:13]) == list(range(1, 13)) and stakes[24] == 1
    # and the planner's own greedy policy is optimal too: its values are the optimal ones
    from agents.tabular.planning import policy_evaluation

    assert np.allclose(policy_evaluation(mdp, solution.policy, 1.0), v, atol=1e-9)


def test_gambler_value_iteration_sweeps_rise_towards_the_optimum():
    mdp = TabularMDP.from_env(GamblerEnv(0.4))
    sweeps: list[np.ndarray] = []
    value_iteration(mdp, 1.0, 1e-12, trace=lambda v: sweeps.append(v.copy()))
    # sweep 1 only values the capitals that can win at once; later sweeps only add value
    assert np.count_nonzero(sweeps[0][1:100]) == 50
    assert all(np.all(b >= a - 1e-12) for a, b in itertools.pairwise(sweeps))
    assert 20 < len(sweeps) < 60


def test_gambler_episodes_end_and_reset_can_choose_the_capital():
    env = gym.make("rlcourse/Gambler-v0")
    obs, info = env.reset(seed=0, options={"state": 30})
    assert obs == 30 and info["action_mask"].sum() == 30
    obs, reward, terminated, *_ = env.step(29)  # stake all 30: double up or go broke
    assert (obs, terminated, reward) in ((60, False, 0.0), (0, True, 0.0))
