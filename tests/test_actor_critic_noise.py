"""The Ornstein-Uhlenbeck exploration process: its recursion by hand, its stationary mean and
variance, rows that restart on their own, and a state that reloads exactly."""

import numpy as np
import pytest

from agents.actor_critic.noise import OrnsteinUhlenbeck


class Ones:
    """A stand-in generator whose every normal draw is 1."""

    def standard_normal(self, shape):
        return np.ones(shape)


def test_three_steps_match_a_hand_computation():
    ou = OrnsteinUhlenbeck((1, 1), theta=0.5, sigma=0.2, dt=0.25, mu=0.4)
    # x' = x + 0.5 (0.4 - x) 0.25 + 0.2 sqrt(0.25) 1 = 0.875 x + 0.05 + 0.1
    expected = [0.15, 0.28125, 0.39609375]
    for x in expected:
        assert ou.sample(Ones())[0, 0] == pytest.approx(x, abs=1e-12)


def test_it_settles_to_the_discrete_stationary_mean_and_variance():
    """From rest, 3,000 steps (4.5 correlation times of 1 / (theta dt) ≈ 667) leave the process
    within 1e-4 of stationary; 20,000 independent rows then estimate mean and variance."""
    ou = OrnsteinUhlenbeck((20_000, 1), theta=0.15, sigma=0.2, dt=1e-2, mu=0.3)
    rng = np.random.default_rng(0)
    for _ in range(3_000):
        x = ou.sample(rng)
    exact = 0.2**2 * 1e-2 / (1 - (1 - 0.15 * 1e-2) ** 2)
    assert ou.stationary_variance() == pytest.approx(exact)
    assert exact == pytest.approx(0.2**2 / (2 * 0.15), rel=1e-3)  # near the continuous one
    assert x.mean() == pytest.approx(0.3, abs=0.015)  # 6 standard errors
    assert x.var() == pytest.approx(exact, rel=0.05)  # 5 standard errors


def test_a_coarse_step_has_the_discrete_variance_not_the_continuous_one():
    """With theta dt = 0.5 the two differ by a third: sigma^2 dt / 0.75 against sigma^2 / 10."""
    ou = OrnsteinUhlenbeck((20_000, 1), theta=5.0, sigma=1.0, dt=0.1)
    rng = np.random.default_rng(1)
    for _ in range(40):  # 0.5^80: at rest long since
        x = ou.sample(rng)
    assert ou.stationary_variance() == pytest.approx(0.1 / 0.75)
    assert x.var() == pytest.approx(0.1 / 0.75, rel=0.05)
    assert abs(x.var() - 1.0 / 10) > 0.2 * 0.1


def test_successive_draws_are_correlated_as_the_recursion_says():
    ou = OrnsteinUhlenbeck((20_000, 1), theta=5.0, sigma=1.0, dt=0.1)
    rng = np.random.default_rng(2)
    for _ in range(40):
        before = ou.sample(rng)
    after = ou.sample(rng)
    assert np.corrcoef(before[:, 0], after[:, 0])[0, 1] == pytest.approx(1 - 0.5, abs=0.03)


def test_rows_restart_on_their_own():
    ou = OrnsteinUhlenbeck((3, 2))
    rng = np.random.default_rng(3)
    for _ in range(5):
        ou.sample(rng)
    before = ou.state.copy()
    ou.reset(np.array([False, True, False]))
    assert np.array_equal(ou.state[1], [0.0, 0.0])
    assert np.array_equal(ou.state[[0, 2]], before[[0, 2]])
    assert np.all(before[[0, 2]] != 0.0)
    ou.reset()
    assert not ou.state.any()


def test_a_reloaded_state_continues_the_same_path():
    ou = OrnsteinUhlenbeck((2, 1))
    rng = np.random.default_rng(4)
    for _ in range(10):
        ou.sample(rng)
    copy = OrnsteinUhlenbeck((2, 1))
    copy.load_state_dict(ou.state_dict())
    state = rng.bit_generator.state
    expected = [ou.sample(rng) for _ in range(5)]
    rng.bit_generator.state = state
    assert np.array_equal([copy.sample(rng) for _ in range(5)], expected)
    with pytest.raises(ValueError, match=r"shape \(2, 1\).*num_envs"):
        OrnsteinUhlenbeck((3, 1)).load_state_dict(ou.state_dict())


def test_the_state_is_plain_data():
    state = OrnsteinUhlenbeck((2, 3)).state_dict()
    assert set(state) == {"state"} and isinstance(state["state"], np.ndarray)
    assert state["state"].dtype == np.float64


@pytest.mark.parametrize("bad", [{"theta": 0.0}, {"dt": -1.0}, {"sigma": -0.1}])
def test_it_refuses_parameters_that_make_no_process(bad):
    with pytest.raises(ValueError, match="theta > 0"):
        OrnsteinUhlenbeck((1, 1), **bad)


def test_it_follows_sb3s_process_draw_for_draw(monkeypatch):
    noise = pytest.importorskip("stable_baselines3.common.noise")
    # SB3 draws from np.random.normal: hand it a generator seeded as ours
    monkeypatch.setattr(np.random, "normal", np.random.default_rng(5).normal)
    theirs = noise.OrnsteinUhlenbeckActionNoise(np.full(2, 0.1), np.full(2, 0.3), theta=0.2)
    expected = [theirs() for _ in range(20)]
    ours = OrnsteinUhlenbeck((1, 2), theta=0.2, sigma=0.3, dt=1e-2, mu=0.1)
    rng = np.random.default_rng(5)
    for want in expected:
        assert ours.sample(rng)[0] == pytest.approx(want, abs=1e-6)  # theirs is float32
