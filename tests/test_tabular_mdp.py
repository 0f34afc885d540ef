"""TabularMDP: built from our envs and Gymnasium's toy-text envs, it matches their P dicts."""


import gymnasium as gym
import numpy as np
import pytest
from scipy import sparse

import envs  # noqa: F401  (registers the ids)
from envs.gridworld import REGISTERED, GridWorldEnv, TabularMDP

PEERS = ("FrozenLake-v1", "CliffWalking-v1", "Taxi-v3")


def _dense_from_dict(P, n_states, n_actions):
    """[S, A, S'] probabilities, [S, A] expected rewards, [S, A, S'] terminated mass."""
    probs = np.zeros((n_states, n_actions, n_states))
    rewards = np.zeros((n_states, n_actions))
    done = np.zeros((n_states, n_actions, n_states))
    for s in range(n_states):
        for a in range(n_actions):
            for p, s2, r, t in P[s][a]:
                probs[s, a, s2] += p
                rewards[s, a] += p * r
                done[s, a, s2] += p * t
    return probs, rewards, done


def _value_iteration(mdp, gamma=1.0, tol=1e-12):
    """A minimal reference: V <- max_a R + gamma * P_continue V until it stops changing."""
    v = np.zeros(mdp.n_states)
    for _ in range(100_000):
        new = (mdp.R + gamma * (mdp.P_continue @ v).reshape(mdp.n_states, mdp.n_actions)).max(1)
        if np.abs(new - v).max() < tol:
            return new
        v = new
    raise AssertionError("no convergence")


@pytest.mark.parametrize("env_id", [*PEERS, *sorted(REGISTERED)])
def test_from_env_matches_the_transition_dict(env_id):
    env = gym.make(env_id)
    mdp = TabularMDP.from_env(env)
    base = env.unwrapped
    S, A = base.observation_space.n, base.action_space.n
    assert (mdp.n_states, mdp.n_actions) == (S, A)
    assert isinstance(mdp.P_matrix, sparse.csr_array)
    assert mdp.P_matrix.shape == (S * A, S)
    np.testing.assert_allclose(mdp.P_matrix.sum(axis=1), 1.0, atol=1e-12)
    probs, rewards, done = _dense_from_dict(base.P, S, A)
    np.testing.assert_allclose(mdp.P, probs, atol=1e-12)
    np.testing.assert_allclose(mdp.R, rewards, atol=1e-12)
    continuing = (probs - done).reshape(S * A, S)
    np.testing.assert_allclose(mdp.P_continue.toarray(), continuing, atol=1e-12)
    entered = done.sum(axis=(0, 1)) > 0
    np.testing.assert_array_equal(mdp.terminal, entered)
    assert mdp.initial.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(mdp.initial, base.initial_state_distrib)


def test_from_transitions_on_gymnasium_envs_and_default_initial():
    base = gym.make("FrozenLake-v1").unwrapped
    mdp = TabularMDP.from_transitions(base.P, 16, 4)
    assert mdp.terminal.tolist() == [c in b"HG" for c in base.desc.ravel()]
    expected = (~mdp.terminal) / (~mdp.terminal).sum()
    np.testing.assert_allclose(mdp.initial, expected)
    point = TabularMDP.from_transitions(base.P, 16, 4, initial=np.eye(16)[0])
    assert point.initial[0] == 1.0


def test_from_env_falls_back_to_the_reset_state():
    class NoDistribution:
        def __init__(self):
            self.unwrapped = self
            self.observation_space = gym.spaces.Discrete(2)
            self.action_space = gym.spaces.Discrete(1)
            self.P = {0: {0: [(1.0, 1, 1.0, True)]}, 1: {0: [(1.0, 1, 0.0, True)]}}

        def reset(self, seed=None):
            return 0, {}

    mdp = TabularMDP.from_env(NoDistribution())
    assert mdp.initial.tolist() == [1.0, 0.0]
    assert mdp.R.tolist() == [[1.0], [0.0]]


def test_from_env_refuses_envs_without_a_model():
    with pytest.raises(TypeError, match="no transition dict"):
        TabularMDP.from_env(gym.make("CartPole-v1"))


def test_rows_must_sum_to_one():
    P = {0: {0: [(0.5, 0, 0.0, False)]}}
    with pytest.raises(ValueError, match=r"P\[0\]\[0\] sums to 0.5"):
        TabularMDP.from_transitions(P, 1, 1, initial=np.ones(1))


def test_dense_P_is_cached_and_guarded():
    mdp = GridWorldEnv("cliff").mdp
    assert mdp.P is mdp.P
    assert mdp.P.shape == (48, 4, 48)
    big = GridWorldEnv("maze100").mdp
    with pytest.raises(ValueError, match="sparse P_matrix"):
        _ = big.P


def test_russell_norvig_utilities():
    mdp = TabularMDP.from_env(gym.make("rlcourse/RussellNorvig4x3-v0"))
    v = _value_iteration(mdp).reshape(3, 4)
    book = np.array([[0.812, 0.868, 0.918], [0.762, np.nan, 0.660], [0.705, 0.655, 0.611]])
    np.testing.assert_allclose(v[:, :3][~np.isnan(book)], book[~np.isnan(book)], atol=6e-4)
    assert v[2, 3] == pytest.approx(0.388, abs=6e-4)


def test_sutton_barto_4x4_random_policy_values():
    """Figure 4.1: the equiprobable random policy's values at k = infinity."""
    mdp = TabularMDP.from_env(gym.make("rlcourse/SuttonBarto4x4-v0"))
    P_pi = (mdp.P_continue.toarray().reshape(16, 4, 16)).mean(axis=1)
    r_pi = mdp.R.mean(axis=1)
    live = ~mdp.terminal
    v = np.zeros(16)
    v[live] = np.linalg.solve(np.eye(live.sum()) - P_pi[np.ix_(live, live)], r_pi[live])
    book = [0, -14, -20, -22, -14, -18, -20, -20, -20, -20, -18, -14, -22, -20, -14, 0]
    np.testing.assert_allclose(v, book, atol=1e-9)


def test_optimal_values_of_the_shortest_path_worlds():
    start = {"cliff": -13.0, "windy": -15.0, "windy_kings": -7.0}
    for layout, value in start.items():
        env = GridWorldEnv(layout)
        s0 = int(np.flatnonzero(env.mdp.initial)[0])
        assert _value_iteration(env.mdp)[s0] == pytest.approx(value)


def test_large_map_builds_a_sparse_model():
    # How fast it builds is scripts/bench_envs.py's to measure, not a timed test's.
    env = GridWorldEnv("maze100")
    mdp = TabularMDP.from_env(env)
    assert mdp.n_states == 10_000 and mdp.P_matrix.nnz == 40_000
    v = _value_iteration(mdp)
    reachable = ~mdp.terminal
    assert np.all(v[reachable] < 0)  # every open cell reaches the goal
