"""GridWorldEnv: env checkers, determinism, the model, and hand-checked transitions."""

import os
import warnings
from collections import Counter

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # check_env also opens the human window

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401  (registers the ids)
from envs.gridworld import REGISTERED, Action, GridWorldEnv, parse_map

IDS = sorted(REGISTERED)
OBS_TYPES = ("index", "onehot", "coords", "image")
# SB3 says so for every small image observation; the space is still valid.
SB3_IMAGE_NOTES = ("minimal resolution", "channels-last")


@pytest.mark.parametrize("obs_type", OBS_TYPES)
@pytest.mark.parametrize("env_id", IDS)
def test_env_checkers(env_id, obs_type):
    env = gym.make(env_id, obs_type=obs_type)
    # The render checks (every render mode, the human window at its frame rate) do not depend
    # on the observation type: run them once per env.
    check_env(env.unwrapped, skip_render_check=obs_type != "index")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env.unwrapped)
    unexpected = [
        str(w.message)
        for w in caught
        if not any(note in str(w.message) for note in SB3_IMAGE_NOTES)
    ]
    assert not unexpected
    env.close()


def _rollout(env_id, seed, n_steps=300):
    env = gym.make(env_id)
    actions = np.random.default_rng(123).integers(env.action_space.n, size=n_steps)
    obs, _ = env.reset(seed=seed)
    trajectory = [obs]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(int(a))
        trajectory.append((obs, reward, terminated, truncated, info["prob"]))
        if terminated or truncated:
            trajectory.append(env.reset()[0])
    return trajectory


@pytest.mark.parametrize("env_id", IDS)
def test_seeded_rollouts_are_deterministic(env_id):
    assert _rollout(env_id, seed=7) == _rollout(env_id, seed=7)


def test_stochastic_rollouts_depend_on_the_seed():
    env_id = "rlcourse/RussellNorvig4x3-v0"
    assert _rollout(env_id, seed=1) != _rollout(env_id, seed=2)


@pytest.mark.parametrize("env_id", IDS)
def test_model_rows_sum_to_one_and_outcomes_are_merged(env_id):
    env = gym.make(env_id).unwrapped
    assert len(env.P) == env.n_states
    for s, by_action in env.P.items():
        assert sorted(by_action) == list(range(env.n_actions))
        for a, outcomes in by_action.items():
            assert sum(p for p, *_ in outcomes) == pytest.approx(1.0, abs=1e-12), (s, a)
            keys = [(s2, r, t) for _, s2, r, t in outcomes]
            assert len(keys) == len(set(keys)), (s, a)
            assert all(p > 0 for p, *_ in outcomes)


@pytest.mark.parametrize("env_id", IDS)
def test_terminals_and_walls_are_absorbing(env_id):
    env = gym.make(env_id).unwrapped
    for s in np.flatnonzero(env.mdp.terminal):
        for a in range(env.n_actions):
            assert env.P[int(s)][a] == [(1.0, int(s), 0.0, True)]


@pytest.mark.parametrize("env_id", IDS)
def test_reward_terms_sum_to_the_reward(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        _, reward, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        assert set(info["rewards"]) == set(env.unwrapped.reward_names)
        assert sum(info["rewards"].values()) == pytest.approx(reward)
        if terminated or truncated:
            env.reset()


def test_step_frequencies_match_the_model():
    """From (2, 1) in R&N's 4x3, UP hits the wall: stay 0.8, left 0.1, right 0.1."""
    env = gym.make("rlcourse/RussellNorvig4x3-v0").unwrapped
    env.reset(seed=0)
    n = 4000
    for state, action in [(9, Action.UP), (6, Action.RIGHT), (0, Action.DOWN)]:
        counts = Counter()
        for _ in range(n):
            env.reset(options={"state": state})
            counts[env.step(action)[0]] += 1
        expected = {s2: p for p, s2, _, _ in env.P[state][action]}
        assert set(counts) <= set(expected)
        for s2, p in expected.items():
            assert counts[s2] / n == pytest.approx(p, abs=0.03), (state, action, s2)


def test_russell_norvig_slip_next_to_the_wall():
    env = gym.make("rlcourse/RussellNorvig4x3-v0").unwrapped
    top_middle = env.to_state(0, 1)  # the wall (1, 1) is below it
    outcomes = {env.to_coords(s2): (p, r, t) for p, s2, r, t in env.P[top_middle][Action.DOWN]}
    assert outcomes == {
        (0, 1): (pytest.approx(0.8), -0.04, False),  # blocked by the wall
        (0, 0): (pytest.approx(0.1), -0.04, False),  # slipped right of DOWN, i.e. left
        (0, 2): (pytest.approx(0.1), -0.04, False),
    }
    next_to_plus = env.to_state(0, 2)
    up = {env.to_coords(s2): (p, r, t) for p, s2, r, t in env.P[next_to_plus][Action.RIGHT]}
    assert up == {
        (0, 3): (pytest.approx(0.8), pytest.approx(0.96), True),  # -0.04 + 1
        (0, 2): (pytest.approx(0.1), -0.04, False),  # slipped up: off the grid
        (1, 2): (pytest.approx(0.1), -0.04, False),
    }


def test_windy_push_uses_the_wind_of_the_column_moved_from():
    env = gym.make("rlcourse/WindyGridworld-v0").unwrapped

    def go(row, col, action):
        env.reset(options={"state": (row, col)})
        obs, reward, terminated, *_ = env.step(action)
        return env.to_coords(obs), reward, terminated

    assert go(3, 2, Action.RIGHT) == ((3, 3), -1.0, False)  # column 2 has no wind
    assert go(3, 3, Action.RIGHT) == ((2, 4), -1.0, False)  # wind 1 in column 3
    assert go(3, 6, Action.RIGHT) == ((1, 7), -1.0, False)  # wind 2 in column 6
    assert go(1, 6, Action.UP) == ((0, 6), -1.0, False)  # pushed against the top edge
    assert go(4, 8, Action.LEFT) == ((3, 7), -1.0, True)  # into the goal
    assert go(3, 8, Action.LEFT) == ((2, 7), -1.0, False)  # the wind carries it past


def _shortest_episode(env_id):
    """Fewest steps from the start to termination, by breadth-first search on the model."""
    env = gym.make(env_id).unwrapped
    start = env.reset(seed=0)[0]
    frontier, seen, depth = {start}, {start}, 0
    while frontier:
        depth += 1
        nxt = set()
        for s in frontier:
            for a in range(env.n_actions):
                for _, s2, _, terminated in env.P[s][a]:
                    if terminated:
                        return depth
                    if s2 not in seen:
                        seen.add(s2)
                        nxt.add(s2)
        frontier = nxt
    return None


def test_windy_shortest_paths_match_the_book():
    assert _shortest_episode("rlcourse/WindyGridworld-v0") == 15  # S&B Example 6.5
    assert _shortest_episode("rlcourse/WindyGridworldKings-v0") == 7  # Exercise 6.9
    assert _shortest_episode("rlcourse/CliffWalking-v0") == 13


def test_kings_moves():
    env = gym.make("rlcourse/WindyGridworldKings-v0").unwrapped
    assert env.action_space.n == 8
    expected = {
        Action.UP_RIGHT: (1, 2), Action.DOWN_RIGHT: (3, 2),
        Action.DOWN_LEFT: (3, 0), Action.UP_LEFT: (1, 0),
    }  # fmt: skip
    for action, cell in expected.items():
        env.reset(options={"state": (2, 1)})
        assert env.to_coords(env.step(action)[0]) == cell
    env.reset(options={"state": (0, 0)})
    assert env.to_coords(env.step(Action.UP_LEFT)[0]) == (0, 0)  # off the grid: stays
    env.reset(options={"state": (4, 4)})
    assert env.to_coords(env.step(Action.DOWN_RIGHT)[0]) == (4, 5)  # (5, 5) pushed up by 1
    stay = gym.make("rlcourse/GridWorld-v0", map="windy_kings_stay").unwrapped
    assert stay.action_space.n == 9
    stay.reset(options={"state": (5, 6)})
    assert stay.to_coords(stay.step(Action.STAY)[0]) == (3, 6)  # wind 2 still pushes


def test_stochastic_wind_distribution():
    env = gym.make("rlcourse/WindyGridworldStochastic-v0").unwrapped
    s = env.to_state(5, 6)  # column 6: wind 2 -> pushes of 1, 2 or 3
    outcomes = {env.to_coords(s2): p for p, s2, _, _ in env.P[s][Action.RIGHT]}
    assert outcomes == {
        (4, 7): pytest.approx(1 / 3),
        (3, 7): pytest.approx(1 / 3),
        (2, 7): pytest.approx(1 / 3),
    }
    calm = env.to_state(5, 1)  # no wind: deterministic
    assert [(p, env.to_coords(s2)) for p, s2, _, _ in env.P[calm][Action.RIGHT]] == [(1.0, (5, 2))]
    top = env.to_state(1, 6)  # pushes of 2 and 3 both stop at the top edge: merged
    merged = {env.to_coords(s2): p for p, s2, _, _ in env.P[top][Action.UP]}
    assert merged == {(0, 6): pytest.approx(1.0)}
    env.reset(seed=0)
    counts = Counter()
    for _ in range(3000):
        env.reset(options={"state": s})
        counts[env.to_coords(env.step(Action.RIGHT)[0])] += 1
    for cell in outcomes:
        assert counts[cell] / 3000 == pytest.approx(1 / 3, abs=0.04)


def test_cliff_sends_back_to_start_with_minus_100():
    env = gym.make("rlcourse/CliffWalking-v0")
    obs, _ = env.reset(seed=0)
    start = obs
    assert env.unwrapped.to_coords(start) == (3, 0)
    obs, reward, terminated, truncated, info = env.step(Action.RIGHT)
    assert (obs, reward, terminated, truncated) == (start, -100.0, False, False)
    assert info["rewards"] == {"step": 0.0, "cliff": -100.0, "terminal": 0.0}
    obs, reward, *_ = env.step(Action.UP)
    assert (env.unwrapped.to_coords(obs), reward) == ((2, 0), -1.0)
    u = env.unwrapped
    u.reset(options={"state": (2, 11)})
    obs, reward, terminated, *_ = u.step(Action.DOWN)
    assert (u.to_coords(obs), reward, terminated) == ((3, 11), -1.0, True)


def test_slippery_ice_slips_only_on_ice_and_holes_end_the_episode():
    env = gym.make("rlcourse/SlipperyIce-v0").unwrapped
    snow = env.to_state(0, 0)
    assert len(env.P[snow][Action.RIGHT]) == 1
    ice = env.to_state(0, 3)
    probs = sorted(p for p, *_ in env.P[ice][Action.RIGHT])
    assert probs == pytest.approx([0.25, 0.25, 0.5])
    hole = env.to_state(1, 3)
    into_hole = [o for o in env.P[ice][Action.RIGHT] if o[1] == hole]  # slip down into it
    assert into_hole == [(0.25, hole, pytest.approx(-1.01), True)]


def test_reset_options_state():
    env = gym.make("rlcourse/CliffWalking-v0")
    obs, info = env.reset(seed=0, options={"state": 5})
    assert obs == 5 and info["prob"] == 1.0
    obs, _ = env.reset(options={"state": (1, 2)})
    assert obs == 14
    for bad in (47, 37):  # the goal, a cliff cell
        with pytest.raises(ValueError, match="cannot start"):
            env.reset(options={"state": bad})
    with pytest.raises(ValueError, match="not in"):
        env.reset(options={"state": 48})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"start": 3})
    rn = gym.make("rlcourse/RussellNorvig4x3-v0")
    with pytest.raises(ValueError, match="wall"):
        rn.reset(options={"state": (1, 1)})


def test_several_starts_are_drawn_uniformly():
    env = gym.make("rlcourse/SuttonBarto4x4-v0")
    starts = Counter(env.reset(seed=i)[0] for i in range(1400))
    assert set(starts) == set(range(1, 15))
    assert min(starts.values()) > 60


def test_invalid_action_is_refused():
    env = gym.make("rlcourse/CliffWalking-v0").unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError, match="Discrete"):
        env.step(4)


def test_terminal_state_absorbs_further_steps():
    env = gym.make("rlcourse/CliffWalking-v0").unwrapped
    env.reset(options={"state": (2, 11)})
    assert env.step(Action.DOWN)[2]
    obs, reward, terminated, _, _ = env.step(Action.UP)
    assert (obs, reward, terminated) == (47, 0.0, True)


@pytest.mark.parametrize("obs_type", OBS_TYPES)
def test_observation_types_encode_the_same_state(obs_type):
    env = gym.make("rlcourse/CliffWalking-v0", obs_type=obs_type)
    obs, _ = env.reset(seed=0, options={"state": (2, 5)})
    assert obs in env.observation_space
    if obs_type == "index":
        assert obs == 29
    elif obs_type == "onehot":
        assert obs.dtype == np.float32 and obs.sum() == 1 and obs[29] == 1
    elif obs_type == "coords":
        assert obs.tolist() == [2, 5]
    else:
        assert obs.shape == (5, 4, 12) and obs.dtype == np.uint8
        assert np.argwhere(obs[1]).tolist() == [[2, 5]]  # agent plane
        assert obs[3, 3, 1:11].all() and not obs[3, 3, 0]  # the cliff is a hazard
        assert obs[2, 3, 11] == 255  # the goal


def test_image_planes_for_walls_ice_and_negative_terminals():
    obs, _ = gym.make("rlcourse/RussellNorvig4x3-v0", obs_type="image").reset(seed=0)
    assert obs[0, 1, 1] == 255 and obs[0].sum() == 255  # one wall
    assert obs[2, 0, 3] == 255 and obs[3, 1, 3] == 255  # +1 goal, -1 hazard
    ice, _ = gym.make("rlcourse/SlipperyIce-v0", obs_type="image").reset(seed=0)
    assert ice[4, 0, 2] == 255 and ice[3, 1, 3] == 255  # ice, a hole


def test_coordinate_helpers():
    env = GridWorldEnv("windy")
    assert env.to_state(3, 7) == 37 and env.to_coords(37) == (3, 7)
    with pytest.raises(ValueError):
        env.to_state(7, 0)


def test_constructor_does_not_touch_the_rng():
    env = GridWorldEnv("russell_norvig_4x3")
    assert env._np_random is None


def test_moves_into_walls_stay_put():
    m = parse_map("terminals: G=0\ngrid:\nS#G\n...\n")
    env = GridWorldEnv(m)
    assert env.P[0][Action.RIGHT] == [(1.0, 0, 0.0, False)]
    assert env.P[0][Action.UP] == [(1.0, 0, 0.0, False)]
    assert env.P[0][Action.DOWN] == [(1.0, 3, 0.0, False)]
