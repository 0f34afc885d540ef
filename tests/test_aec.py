"""The PettingZoo AEC envs (Go-lite, tic-tac-toe): PettingZoo's own API and seed tests, each
agent's side of observations, rewards and infos, and agreement with the Gymnasium envs they
adapt."""

import warnings

import numpy as np
import pytest
from pettingzoo.test import api_test, seed_test

from envs.go import coords
from envs.go.env import GoEnv
from envs.go.pettingzoo import GoAEC
from envs.go.rules import BLACK, WHITE, IllegalMoveError
from envs.tictactoe import TicTacToeEnv
from envs.tictactoe_aec import TicTacToeAEC

MAKERS = {
    "go5": lambda: GoAEC(board_size=5, history=1),
    "go7-lose": lambda: GoAEC(board_size=7, illegal_move="lose"),
    "tictactoe": TicTacToeAEC,
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_pettingzoo_api_and_seed_tests(name):
    with warnings.catch_warnings():
        # PettingZoo warns that Dict observations are not Box or Discrete unless the env is one
        # of its own classic games, whose {"observation", "action_mask"} layout ours follows
        warnings.simplefilter("ignore", UserWarning)
        api_test(MAKERS[name](), num_cycles=100)
        seed_test(MAKERS[name], num_cycles=100)


def play_all(env, moves):
    """Each agent in turn plays the next of ``moves``."""
    for move in moves:
        env.step(move)


def test_go_each_agent_sees_its_own_side():
    env = GoAEC(board_size=5, history=1)
    env.reset(seed=0)
    assert env.agent_selection == "black_0"
    play_all(env, [coords.from_gtp("C3", 5)])
    assert env.agent_selection == "white_0"
    state = env.position
    white, black = env.observe("white_0"), env.observe("black_0")
    np.testing.assert_array_equal(white["observation"], state.planes(1, WHITE))
    np.testing.assert_array_equal(black["observation"], state.planes(1, BLACK))
    assert white["observation"][0].sum() == 0 and white["observation"][1][2, 2] == 1  # own, theirs
    np.testing.assert_array_equal(white["action_mask"], state.legal_mask().astype(np.int8))
    assert black["action_mask"].dtype == np.int8 and not black["action_mask"].any()
    assert env.rewards == {"black_0": 0.0, "white_0": 0.0}


def test_go_game_end_gives_zero_sum_rewards_and_each_sides_margin():
    env = GoAEC(board_size=5, komi=7.5)
    env.reset(seed=0)
    play_all(env, [coords.from_gtp("C3", 5), 25, 25])  # black C3, two passes: black owns all
    assert env.terminations == {"black_0": True, "white_0": True}
    assert env.rewards == {"black_0": 1.0, "white_0": -1.0}
    assert env.infos["black_0"]["score_margin"] == 17.5
    assert env.infos["white_0"]["score_margin"] == -17.5
    assert env.infos["white_0"]["rewards"] == {"outcome": -1.0}
    assert "action_mask" not in env.infos["black_0"]  # the mask is in the observation
    seen = {}
    for agent in env.agent_iter():
        observation, reward, terminated, _, _ = env.last()
        seen[agent] = reward
        assert terminated and not observation["action_mask"].any()
        env.step(None)
    assert seen == {"black_0": 1.0, "white_0": -1.0} and env.agents == []


def test_go_illegal_moves_raise_or_lose_as_the_gymnasium_env_says():
    env = GoAEC(board_size=5)
    env.reset()
    env.step(12)
    with pytest.raises(IllegalMoveError, match="occupied"):
        env.step(12)
    env = GoAEC(board_size=5, illegal_move="lose")
    env.reset()
    play_all(env, [12, 12])  # white plays on black's stone
    assert env.rewards == {"black_0": 1.0, "white_0": -1.0}
    assert env.infos["white_0"]["illegal_move"] and all(env.terminations.values())


def test_go_observations_are_the_gymnasium_envs():
    aec, gym_env = GoAEC(board_size=7, history=2), GoEnv(board_size=7, history=2)
    aec.reset(seed=3)
    gym_env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(20):
        agent = aec.agent_selection
        observation, *_ = aec.last()
        mask = observation["action_mask"].astype(bool)
        expected = gym_env.observation(gym_env.state.to_play)
        np.testing.assert_array_equal(observation["observation"], expected["observation"])
        np.testing.assert_array_equal(observation["action_mask"], expected["action_mask"])
        move = int(rng.choice(np.flatnonzero(mask[:-1])))
        aec.step(move)
        _, reward, *_ = gym_env.step(move)
        assert aec.rewards[agent] == reward


def test_tictactoe_win_loss_and_planes():
    env = TicTacToeAEC()
    env.reset(seed=0)
    play_all(env, [0, 3, 1, 4])  # X: 0 1, O: 3 4
    o_view = env.observe("player_1")["observation"]
    assert o_view[0].ravel().tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0]  # own marks first
    assert o_view[1].ravel().tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert not o_view[2].any()  # O does not play X
    assert env.observe("player_0")["observation"][2].all()
    env.step(2)  # X completes the top row
    assert env.rewards == {"player_0": 1.0, "player_1": -1.0}
    assert all(env.terminations.values())
    assert env.infos["player_1"]["winner"] == 0


def test_tictactoe_observations_are_the_gymnasium_envs():
    aec, gym_env = TicTacToeAEC(), TicTacToeEnv(opponent=None)
    aec.reset(seed=1)
    obs, _ = gym_env.reset(seed=1)
    for cell in (4, 1, 8, 2, 0):  # X takes the diagonal
        observation, *_ = aec.last()
        np.testing.assert_array_equal(observation["observation"], obs["observation"])
        np.testing.assert_array_equal(observation["action_mask"], obs["action_mask"])
        aec.step(cell)
        obs, reward, terminated, _, _ = gym_env.step(cell)
    assert terminated and reward == 1.0 and aec.rewards == {"player_0": 1.0, "player_1": -1.0}
