"""Monte Carlo control: returns, first/every visit, weighted importance sampling, exploring
starts, learning the optimal policy of a small world, persistence and smoke runs."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from test_td import LEFT, RIGHT, Corridor, configs_of, make, resume_matches_uninterrupted

import envs  # noqa: F401  (registers the rlcourse/* ids)
from agents.tabular.monte_carlo import (
    MCExploringStartsAgent,
    MCExploringStartsConfig,
    MCOffPolicyAgent,
    MCOffPolicyConfig,
    MCOnPolicyAgent,
    MCOnPolicyConfig,
    Trajectory,
)
from agents.tabular.planning import q_values, value_iteration
from agents.tabular.targets import (
    episode_returns,
    first_visit_mask,
    mc_samples,
    mc_update,
    weighted_importance_sampling_update,
)
from agents.training import load_agent, load_experiment, train
from envs.gridworld import TabularMDP
from rlcourse.config import ConfigError

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
MC_NAMES = {"mc_exploring_starts", "mc_on_policy", "mc_off_policy"}

# A hand-made episode that visits state-action pair (0, 0) twice: A, B, A, C with rewards
# 1, 2, 3, 4 and gamma 1, so the returns are G = 10, 9, 7, 4.
STATES, ACTIONS, REWARDS = [0, 1, 0, 2], [0, 0, 0, 1], [1.0, 2.0, 3.0, 4.0]


# ----------------------------------------------------------------------------- returns


def test_episode_returns_discount_backwards_from_the_bootstrap():
    np.testing.assert_allclose(episode_returns([-1.0, -1.0, 5.0], 0.5), [-0.25, 1.5, 5.0])
    np.testing.assert_allclose(episode_returns([-1.0, -1.0], 0.5, bootstrap=4.0), [-0.5, 1.0])
    np.testing.assert_allclose(episode_returns(REWARDS, 1.0), [10.0, 9.0, 7.0, 4.0])


def test_first_visit_keeps_one_return_per_pair_every_visit_keeps_all():
    np.testing.assert_array_equal(first_visit_mask(STATES, ACTIONS), [True, True, False, True])
    first = mc_samples(STATES, ACTIONS, REWARDS, 1.0, "first")
    every = mc_samples(STATES, ACTIONS, REWARDS, 1.0, "every")
    assert [(s.state, s.action, s.value) for s in first] == [(2, 1, 4.0), (1, 0, 9.0), (0, 0, 10.0)]
    assert [(s.step, s.value) for s in every] == [(3, 4.0), (2, 7.0), (1, 9.0), (0, 10.0)]
    with pytest.raises(ValueError, match="visit"):
        mc_samples(STATES, ACTIONS, REWARDS, 1.0, "second")  # type: ignore[arg-type]


def test_sample_average_and_constant_step_updates():
    q, n = np.zeros((3, 2)), np.zeros((3, 2))
    mc_update(q, n, mc_samples(STATES, ACTIONS, REWARDS, 1.0, "first"))
    assert q[0, 0] == 10.0 and n[0, 0] == 1
    q, n = np.zeros((3, 2)), np.zeros((3, 2))
    error = mc_update(q, n, mc_samples(STATES, ACTIONS, REWARDS, 1.0, "every"))
    assert q[0, 0] == pytest.approx(8.5) and n[0, 0] == 2  # the mean of 7 and 10
    assert (q[1, 0], q[2, 1]) == (9.0, 4.0)
    assert error == pytest.approx((4 + 7 + 9 + 3) / 4)  # |7-0|, then |10-7| for the repeat
    q, n = np.zeros((3, 2)), np.zeros((3, 2))
    mc_update(q, n, mc_samples(STATES, ACTIONS, REWARDS, 1.0, "every"), alpha=0.5)
    assert q[0, 0] == pytest.approx(6.75)  # 0 -> 3.5 -> 3.5 + 0.5 * (10 - 3.5)


# ----------------------------------------------------------------------------- off-policy


# Episode: S0=0 A0=0 R1=1, S1=1 A1=1 R2=2, S2=0 A2=0 R3=3 (then terminal), gamma 1;
# behaviour probabilities b(A_t|S_t) = 0.9, 0.1, 0.9.
IS_STATES, IS_ACTIONS, IS_REWARDS, IS_PROBS = [0, 1, 0], [0, 1, 0], [1.0, 2.0, 3.0], [0.9, 0.1, 0.9]


def test_weighted_importance_sampling_update_by_hand():
    q, c = np.array([[0.0, -1.0], [-1.0, 0.0]]), np.zeros((2, 2))
    stats = weighted_importance_sampling_update(
        q, c, IS_STATES, IS_ACTIONS, IS_REWARDS, IS_PROBS, gamma=1.0
    )
    # t=2: G=3, W=1:  C(0,0)=1,            Q(0,0) = 0 + 1 * (3 - 0)     = 3;  W -> 1/0.9
    # t=1: G=5:       C(1,1)=1/0.9,        Q(1,1) = 0 + 1 * (5 - 0)     = 5;  W -> 1/0.09
    # t=0: G=6:       C(0,0)=1+1/0.09,     Q(0,0) = 3 + W/C * (6 - 3)
    w = 1 / 0.09
    assert c[0, 0] == pytest.approx(1 + w) and c[1, 1] == pytest.approx(1 / 0.9)
    assert q[1, 1] == pytest.approx(5.0)
    assert q[0, 0] == pytest.approx(3 + w / (1 + w) * 3)
    assert stats.updates == 3 and stats.weight == pytest.approx(w / 0.9)
    assert stats.mean_abs_error == pytest.approx((3 + 5 + 3) / 3)


def test_weighted_importance_sampling_stops_at_the_first_non_greedy_action():
    q, c = np.array([[0.0, -1.0], [10.0, 0.0]]), np.zeros((2, 2))
    stats = weighted_importance_sampling_update(
        q, c, IS_STATES, IS_ACTIONS, IS_REWARDS, IS_PROBS, gamma=1.0
    )
    # t=1 still updates Q(1,1) to 5, but the greedy action at state 1 is 0: stop there
    assert (q[0, 0], q[1, 1], c[0, 0]) == (3.0, 5.0, 1.0)
    assert stats.updates == 2 and stats.weight == pytest.approx(1 / 0.9)


def test_weighted_importance_sampling_first_visit_skips_the_later_repeat():
    q, c = np.array([[0.0, -1.0], [-1.0, 0.0]]), np.zeros((2, 2))
    weighted_importance_sampling_update(
        q, c, IS_STATES, IS_ACTIONS, IS_REWARDS, IS_PROBS, gamma=1.0, visit="first"
    )
    # t=2 is a repeat of (0,0): not updated, but W still grows: C(0,0) = 1/0.09, Q(0,0) = 6
    assert c[0, 0] == pytest.approx(1 / 0.09) and q[0, 0] == pytest.approx(6.0)


def test_weighted_importance_sampling_masks_the_target_policy():
    # unmasked, Q(1,0) = 10 makes action 1 non-greedy at state 1; masked off, 1 is greedy
    q, c = np.array([[0.0, -1.0], [10.0, 0.0]]), np.zeros((2, 2))
    masks = [None, np.array([False, True]), None]
    stats = weighted_importance_sampling_update(
        q, c, IS_STATES, IS_ACTIONS, IS_REWARDS, IS_PROBS, gamma=1.0, masks=masks
    )
    assert stats.updates == 3


def test_off_policy_agent_records_behaviour_probabilities():
    env = Corridor(4)
    agent = make(MCOffPolicyAgent, MCOffPolicyConfig(epsilon=0.2), env)
    agent.q[:, LEFT] = -100.0
    env.reset(seed=0)
    episode = agent.play(env)
    for state, action, prob in zip(
        episode.states, episode.actions, episode.behaviour_probs, strict=True
    ):
        assert prob == pytest.approx(0.9 if action == RIGHT else 0.1), state
    stats = agent.update(episode)
    assert set(stats) == {
        "train/mean_abs_return_error",
        "train/importance_weight",
        "train/updated_fraction",
    }
    assert 0.0 < stats["train/updated_fraction"] <= 1.0


# ----------------------------------------------------------------------------- agents


def test_on_policy_episode_learns_the_returns():
    env = Corridor(4)
    agent = make(MCOnPolicyAgent, MCOnPolicyConfig(epsilon=0.0, gamma=0.5), env)
    agent.q[:, LEFT] = -100.0
    env.reset(seed=0)
    stats = agent.run_episode(env)
    np.testing.assert_allclose(agent.q[:3, RIGHT], [-1.75, -1.5, -1.0])
    np.testing.assert_array_equal(agent.counts[:3, RIGHT], 1)
    assert stats.length == 3 and stats.episode_return == -3.0 and agent.steps == 3
    assert stats.scalars["train/epsilon"] == 0.0
    assert "train/alpha" not in stats.scalars  # the sample average has no step size to log


@pytest.mark.parametrize("cut_by", ["time_limit", "agent"])
def test_a_truncated_episode_bootstraps_from_the_state_it_stopped_in(cut_by):
    if cut_by == "time_limit":
        env = gym.wrappers.TimeLimit(Corridor(5), max_episode_steps=2)
        config = MCOnPolicyConfig(epsilon=0.0)
    else:
        env = Corridor(5)
        config = MCOnPolicyConfig(epsilon=0.0, max_episode_steps=2)
    agent = make(MCOnPolicyAgent, config, env)
    agent.q[:, LEFT] = -100.0
    agent.q[2, RIGHT] = -7.0
    env.reset(seed=0)
    assert agent.run_episode(env).length == 2
    # G_1 = -1 + Q(2, R) = -8, G_0 = -9 (a terminated episode would give -1 and -2)
    assert (agent.q[0, RIGHT], agent.q[1, RIGHT]) == (-9.0, -8.0)


def test_off_policy_bootstraps_from_the_greedy_action():
    agent = make(MCOffPolicyAgent, MCOffPolicyConfig(), Corridor(3))
    agent.q[1] = [-3.0, -5.0]
    assert agent.bootstrap_value(1, {}) == -3.0
    assert agent.bootstrap_value(1, {"action_mask": np.array([False, True])}) == -5.0


def test_exploring_starts_cover_non_terminal_states_and_every_first_action():
    env = gym.make("rlcourse/CliffWalking-v0")
    agent = make(MCExploringStartsAgent, MCExploringStartsConfig(max_episode_steps=5), env)
    terminal = TabularMDP.from_env(env).terminal  # the goal and the cliff cells
    env.reset(seed=0)
    firsts = set()
    for _ in range(400):
        episode = agent.play(env)
        firsts.add((episode.states[0], episode.actions[0]))
    starts = {s for s, _ in firsts}
    assert not any(terminal[s] for s in starts)
    assert len(starts) > 30 and {a for _, a in firsts} == {0, 1, 2, 3}


def test_exploring_starts_refuse_an_env_that_ignores_the_start_state():
    env = gym.make("CliffWalking-v1")  # Gymnasium's: reset ignores options
    agent = make(MCExploringStartsAgent, MCExploringStartsConfig(), env)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"exploring_starts.*reset\(options=\{'state'"):
        for _ in range(10):
            agent.run_episode(env)


def test_exploring_starts_default_to_greedy_and_log_a_constant_alpha():
    config = MCExploringStartsConfig(alpha=0.25)
    assert config.epsilon == 0.0 and config.visit == "first"
    env = gym.make("rlcourse/SuttonBarto4x4-v0")
    agent = make(MCExploringStartsAgent, config, env)
    env.reset(seed=0)
    stats = agent.run_episode(env)
    assert stats.scalars["train/alpha"] == 0.25 and stats.scalars["train/epsilon"] == 0.0


@pytest.mark.parametrize(
    "cls, config",
    [
        (MCOnPolicyAgent, MCOnPolicyConfig(epsilon=0.5)),
        (MCOffPolicyAgent, MCOffPolicyConfig(epsilon=0.5)),
    ],
)
def test_monte_carlo_respects_the_action_mask(cls, config):
    env = Corridor(4, mask_left=True)
    agent = make(cls, config, env)
    agent.q[:, LEFT] = 100.0
    env.reset(seed=0)
    for _ in range(5):
        agent.run_episode(env)
    assert set(env.actions) == {RIGHT}
    assert (agent.q[:, RIGHT] <= 0.0).all()


def test_trajectory_fields_line_up():
    env = Corridor(3)
    agent = make(MCOnPolicyAgent, MCOnPolicyConfig(epsilon=0.0), env)
    agent.q[:, LEFT] = -1.0
    env.reset(seed=0)
    episode = agent.play(env)
    assert isinstance(episode, Trajectory)
    assert episode.states == [0, 1] and episode.actions == [RIGHT, RIGHT]
    assert episode.rewards == [-1.0, -1.0] and episode.bootstrap == 0.0
    assert len(episode.behaviour_probs) == len(episode.masks) == 2


def test_mc_configs_refuse_bad_keys():
    path = CONFIGS / "gridworld" / "mc_on_policy.yaml"
    with pytest.raises(ConfigError, match=r"agent\.visit"):
        load_experiment(path, ["agent.visit=second"])
    with pytest.raises(ConfigError, match=r"agent\.alpha"):  # weighted IS has its own step
        load_experiment(CONFIGS / "gridworld" / "mc_off_policy.yaml", ["agent.alpha=0.1"])
    with pytest.raises(ConfigError, match=r"agent\.max_episode_steps"):
        load_experiment(path, ["agent.max_episode_steps=0"])


# ----------------------------------------------------------------------------- learning


@pytest.fixture(scope="module")
def optimal_actions_4x4():
    """Value iteration's optimal actions [S, A] on S&B's 4x4 world, and its live states."""
    mdp = TabularMDP.from_env(gym.make("rlcourse/SuttonBarto4x4-v0"))
    solution = value_iteration(mdp, gamma=1.0, theta=1e-12)
    q_star = q_values(mdp, solution.values, 1.0)
    return np.isclose(q_star, q_star.max(axis=1, keepdims=True)), np.flatnonzero(~mdp.terminal)


@pytest.mark.parametrize(
    ("config_file", "wrong_allowed"),
    [
        ("gridworld/mc_exploring_starts.yaml", 0),
        ("gridworld/mc_on_policy.yaml", 0),
        # weighted importance sampling learns only from the tails that follow the greedy
        # policy: of 46 pairs of agent and env seeds, three left one of the 14 states wrong
        # after 1,500 episodes, one of them even after 5,000
        ("gridworld/mc_off_policy.yaml", 1),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mc_control_finds_the_optimal_policy_of_the_4x4_world(
    config_file, wrong_allowed, seed, optimal_actions_4x4
):
    optimal, live = optimal_actions_4x4
    config = load_experiment(CONFIGS / config_file, [f"train.seed={seed}"])
    env = gym.make(config.env.id)
    agent = make(type_of(config), config.agent, env, seed=seed)
    env.reset(seed=seed)
    for _ in range(1500):
        agent.run_episode(env)
    greedy = [agent.act(s, deterministic=True) for s in live]
    wrong = [int(s) for s, a in zip(live, greedy, strict=True) if not optimal[s, a]]
    assert len(wrong) <= wrong_allowed, f"non-optimal greedy actions in states {wrong}"


def type_of(config):
    from agents import REGISTRY

    return REGISTRY[config.agent.name]


@pytest.mark.parametrize("visit", ["first", "every"])
def test_exploring_starts_solve_a_corridor_from_its_own_defaults(visit):
    # 1x6 corridor, goal at the right end: the optimal policy moves right everywhere.
    env = gym.make("rlcourse/GridWorld-v0", map=corridor_map())
    agent = make(MCExploringStartsAgent, MCExploringStartsConfig(visit=visit), env)
    env.reset(seed=0)
    for _ in range(300):
        agent.run_episode(env)
    assert [agent.act(s, deterministic=True) for s in range(5)] == [1] * 5  # RIGHT


def corridor_map():
    from envs.gridworld import parse_map

    return parse_map("step_reward: -1\nterminals: G=0\ngrid:\nS....G\n", "corridor")


# ----------------------------------------------------------------------------- persistence


@pytest.mark.parametrize(
    "cls, config",
    [
        (MCExploringStartsAgent, MCExploringStartsConfig()),
        (MCOnPolicyAgent, MCOnPolicyConfig()),
        (MCOffPolicyAgent, MCOffPolicyConfig()),
    ],
)
def test_save_and_load_restore_q_and_counts(cls, config, tmp_path):
    env = gym.make("rlcourse/SuttonBarto4x4-v0")
    agent = make(cls, config, env)
    env.reset(seed=0)
    for _ in range(5):
        agent.run_episode(env)
    agent.save(tmp_path / "agent.npz")
    fresh = make(cls, config, env, seed=1)
    fresh.load(tmp_path / "agent.npz")
    np.testing.assert_array_equal(fresh.q, agent.q)
    np.testing.assert_array_equal(fresh.counts, agent.counts)
    assert agent.counts.sum() > 0


@pytest.mark.parametrize(
    "config_file",
    [
        "gridworld/mc_exploring_starts.yaml",
        "gridworld/mc_off_policy.yaml",
        "gridworld/mc_on_policy.yaml",
    ],
)
def test_resume_after_an_interruption_is_exact(monkeypatch, tmp_path, config_file):
    resume_matches_uninterrupted(monkeypatch, tmp_path, config_file, ["train.episodes=120"])


# ----------------------------------------------------------------------------- smoke runs


MC_CONFIGS = configs_of(MC_NAMES)


def test_every_mc_agent_has_a_config():
    assert {load_experiment(CONFIGS / c).agent.name for c in MC_CONFIGS} == MC_NAMES


@pytest.mark.parametrize("config_file", MC_CONFIGS)
def test_smoke_train_every_mc_config(config_file, runs_dir):
    config = load_experiment(
        CONFIGS / config_file,
        [
            f"train.runs_dir={runs_dir}",
            "train.episodes=5",
            "train.eval_episodes=2",
        ],
    )
    result = train(config, progress=False)
    assert (result.run_dir / "eval.json").is_file()
    assert result.agent.steps > 0 and result.agent.counts.sum() > 0
    loaded, _ = load_agent(result.run_dir)
    np.testing.assert_array_equal(loaded.q, result.agent.q)
    np.testing.assert_array_equal(loaded.counts, result.agent.counts)
