"""Blackjack (Sutton & Barto 2018, chapter 5) through Gymnasium's Blackjack-v1 with sab=True:
the numbered env, the exact model that dynamic programming solves, and Figures 5.1-5.3
checked against it (short runs here, the book's runs under -m slow)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers rlcourse/Blackjack-v0)
from agents.tabular.planning import policy_evaluation, value_iteration
from agents.tabular.prediction import importance_ratio, importance_sampling_estimates
from envs.blackjack import (
    HIT,
    STICK,
    BlackjackStatesEnv,
    blackjack_model,
    dealer_final,
    decision_states,
    state_index,
    state_of,
)
from scripts.gallery.chapter5 import (
    FIG_5_3_STATE,
    exploring_starts,
    first_visit_values,
    off_policy_errors,
    pooled,
    stick_on_20_policy,
)


@pytest.fixture(scope="module")
def exact() -> dict[str, np.ndarray]:
    mdp = blackjack_model()
    return {
        "stick_on_20": policy_evaluation(mdp, stick_on_20_policy(), 1.0),
        "optimal": value_iteration(mdp, 1.0, 1e-12).policy.argmax(axis=1),
    }


def book_figure_5_2_policy(player_sum: int, dealer: int, ace: int) -> int:
    """pi* as Figure 5.2 draws it (dealer 1 is the ace)."""
    if ace:
        return STICK if player_sum >= 19 or (player_sum == 18 and 2 <= dealer <= 8) else HIT
    if player_sum >= 17:
        return STICK
    if player_sum >= 13:
        return STICK if 2 <= dealer <= 6 else HIT
    return STICK if 4 <= dealer <= 6 else HIT


def test_blackjack_env_passes_the_gymnasium_check_and_starts_where_asked():
    check_env(BlackjackStatesEnv(), skip_render_check=True)
    env = gym.make("rlcourse/Blackjack-v0")
    for s in decision_states()[::17]:
        obs, _ = env.reset(seed=int(s), options={"state": int(s)})
        assert obs == s
    with pytest.raises(ValueError, match="not a decision state"):
        env.reset(options={"state": state_index(5, 3, 0)})


def test_the_dealer_model_is_a_distribution():
    for card in range(1, 11):
        final = dealer_final(card)
        assert sum(final.values()) == pytest.approx(1.0)
        assert set(final) <= {17, 18, 19, 20, 21, 22}
    assert dealer_final(6)[22] == pytest.approx(0.42, abs=0.01)  # a 6 showing busts ~42%


def test_exact_value_of_figure_5_3s_state(exact):
    # the book: -0.27726, by averaging 100 million hands
    assert exact["stick_on_20"][FIG_5_3_STATE] == pytest.approx(-0.27726, abs=5e-4)


def test_figure_5_2_optimal_policy_by_value_iteration_is_the_books(exact):
    for s in decision_states():
        player_sum, dealer, ace = state_of(s)
        if player_sum <= 21:
            assert exact["optimal"][s] == book_figure_5_2_policy(player_sum, dealer, ace), (
                player_sum,
                dealer,
                ace,
            )


def test_importance_sampling_by_hand():
    assert importance_ratio([1.0, 1.0], [0.5, 0.5]) == 4.0
    assert importance_ratio([1.0, 0.0], [0.5, 0.5]) == 0.0
    ordinary, weighted = importance_sampling_estimates(
        np.array([2.0, 0.0, 4.0]), np.array([1.0, -1.0, -1.0])
    )
    assert ordinary == pytest.approx([2.0, 1.0, -2 / 3])
    assert weighted == pytest.approx([1.0, 1.0, -2 / 6])


def usable_ace_errors(values: np.ndarray, exact_values: np.ndarray) -> np.ndarray:
    """|MC - exact| over the usable-ace states with sums 12-20 (21 mixes in naturals, which
    the model scores like any 21)."""
    states = [state_index(s, d, 1) for s in range(12, 21) for d in range(1, 11)]
    return np.abs(values[states] - exact_values[states])


def test_figure_5_1_first_visit_mc_approaches_the_exact_values(exact):
    values = pooled([first_visit_values(chunk, 10_000) for chunk in (101, 102)])
    errors = usable_ace_errors(values, exact["stick_on_20"])
    # 20,000 hands visit each usable-ace state a few dozen times (measured: mean error 0.15)
    assert errors.mean() < 0.22
    no_ace = [state_index(s, d, 0) for s in range(12, 21) for d in range(1, 11)]
    no_ace_errors = np.abs(values[no_ace] - exact["stick_on_20"][no_ace])
    assert no_ace_errors.mean() < 0.5 * errors.mean()  # visited about ten times as often


def test_figure_5_3_weighted_beats_ordinary_importance_sampling(exact):
    errors = off_policy_errors(200, 10, 1000, float(exact["stick_on_20"][FIG_5_3_STATE]))
    ordinary, weighted = errors["ordinary"] / 10, errors["weighted"] / 10
    # the book's log axis: ordinary's error is far above weighted's over the first episodes;
    # by 1,000 episodes both are small (measured 0.006-0.014 over four sets of 10 runs)
    assert weighted[:10].mean() < 0.5 * ordinary[:10].mean()
    assert weighted.mean() < ordinary.mean()
    assert weighted[900:].mean() < 0.05 and ordinary[900:].mean() < 0.05


@pytest.mark.slow
def test_figure_5_1_after_500000_episodes_the_usable_ace_values_are_within_005(exact):
    chunks = [first_visit_values(chunk, 50_000) for chunk in range(10)]
    errors = usable_ace_errors(pooled(chunks), exact["stick_on_20"])
    visits = usable_ace_errors(sum(c["counts"] for c in chunks), np.zeros(704))
    # most states within 0.05; the rarely visited ones (a usable ace with 12 or 13, a few
    # hundred visits) within four standard errors of a return in [-1, 1]
    assert np.mean(errors < 0.05) >= 0.8 and errors.mean() < 0.03
    assert np.all(errors < np.maximum(0.05, 4 / np.sqrt(visits)))


@pytest.mark.slow
def test_figure_5_2_monte_carlo_es_finds_the_optimal_policy(exact):
    learned = exploring_starts(500_000)["policy"]
    states = [s for s in decision_states() if state_of(s)[0] <= 20]
    agree = np.mean([learned[s] == exact["optimal"][s] for s in states])
    assert agree > 0.9
