"""rlcourse/TicTacToe-v0: the Gymnasium checks, opponents, rewards, illegal moves and the
two-agent mode."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the ids)
from envs.tictactoe import TicTacToeEnv


def scripted(cells):
    """An opponent that plays ``cells`` in order."""
    moves = iter(cells)
    return lambda state: next(moves)


@pytest.mark.parametrize(
    "kwargs",
    [{"opponent": "minimax", "agent_mark": "x"}, {"opponent": "random", "agent_mark": "random"},
     {"opponent": None}],
)  # fmt: skip
def test_passes_gymnasium_and_sb3_checks(kwargs):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    # both checkers step with unmasked random actions: an illegal one must end the game
    env = gym.make("rlcourse/TicTacToe-v0", illegal_move="lose", **kwargs)
    check_env(env.unwrapped)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3 remarks that [3, 3, 3] float planes are no image
        sb3_check_env(TicTacToeEnv(illegal_move="lose", **kwargs))


def test_a_win_against_a_scripted_opponent_worked_out_by_hand():
    env = TicTacToeEnv(opponent=scripted([3, 4]), agent_mark="x")
    obs, info = env.reset(seed=0)
    assert obs["action_mask"].tolist() == [1] * 9 and info["agent_mark"] == "x"
    assert (obs["observation"][2] == 1).all()  # the agent plays X
    obs, reward, done, _, info = env.step(0)  # X 0, O 3
    assert (reward, done, info["opponent_move"]) == (0.0, False, 3)
    np.testing.assert_array_equal(obs["observation"][0], [[1, 0, 0], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(obs["observation"][1], [[0, 0, 0], [1, 0, 0], [0, 0, 0]])
    env.step(1)  # X 1, O 4
    obs, reward, done, _, info = env.step(2)  # X completes the top row
    assert (reward, done, info["winner"], info["opponent_move"]) == (1.0, True, 0, None)
    assert info["rewards"] == {"outcome": 1.0} and not obs["action_mask"].any()
    with pytest.raises(RuntimeError, match="finished game"):
        env.step(5)


def test_as_o_the_opponent_opens_and_a_loss_is_minus_one():
    env = TicTacToeEnv(opponent=scripted([4, 0, 8]), agent_mark="o")
    obs, info = env.reset(seed=0)
    assert info["opponent_move"] == 4 and info["to_play"] == 1
    assert obs["observation"][1][1, 1] == 1 and (obs["observation"][2] == 0).all()
    assert obs["action_mask"][4] == 0 and obs["action_mask"].sum() == 8
    env.step(1)  # O 1, X 0
    _, reward, done, _, info = env.step(2)  # O 2, X 8: the diagonal 0-4-8
    assert (reward, done, info["winner"]) == (-1.0, True, 0)


def test_minimax_never_loses_to_random_moves():
    env = TicTacToeEnv(opponent="minimax", agent_mark="random", illegal_move="lose")
    returns, marks = [], set()
    for episode in range(60):
        obs, info = env.reset(seed=episode)
        marks.add(info["agent_mark"])
        rng, done = np.random.default_rng(episode), False
        while not done:
            action = int(rng.choice(np.flatnonzero(obs["action_mask"])))
            obs, reward, done, _, _ = env.step(action)
        returns.append(reward)
    assert marks == {"x", "o"} and max(returns) <= 0 and min(returns) == -1


def test_the_same_seed_gives_the_same_opponent_moves():
    def opponent_moves(seed):
        env = TicTacToeEnv(opponent="random", agent_mark="o")
        return env.reset(seed=seed)[1]["opponent_move"], env.step(
            int(np.flatnonzero(env.game.legal_actions(env.state))[0])
        )[4]["opponent_move"]

    assert opponent_moves(3) == opponent_moves(3)
    assert len({opponent_moves(s) for s in range(12)}) > 1


def test_illegal_moves_raise_or_lose():
    env = TicTacToeEnv(opponent=scripted([4]), agent_mark="x")
    env.reset(seed=0)
    env.step(0)
    with pytest.raises(ValueError, match="cell 4 is already marked"):
        env.step(4)
    env = TicTacToeEnv(opponent=scripted([4]), agent_mark="x", illegal_move="lose")
    env.reset(seed=0)
    env.step(0)
    _, reward, done, _, info = env.step(4)
    assert (reward, done, info["illegal_move"], info["winner"]) == (-1.0, True, True, 1)
    cheat = TicTacToeEnv(opponent=scripted([0]), agent_mark="x", illegal_move="lose")
    cheat.reset(seed=0)
    _, reward, done, _, info = cheat.step(0)  # the opponent marks the agent's cell
    assert (reward, done, info["illegal_move"]) == (1.0, True, True)


def test_two_agents_take_turns_each_seeing_its_own_side():
    env = TicTacToeEnv(opponent=None)
    obs, info = env.reset(seed=0)
    assert "agent_mark" not in info and (obs["observation"][2] == 1).all()
    obs, reward, _, _, info = env.step(4)  # X
    assert info["to_play"] == 1 and obs["observation"][1][1, 1] == 1  # O sees X's mark
    for cell in (0, 2, 6, 5, 3):  # O 0, X 2, O 6, X 5, O 3: O has 0-3-6
        obs, reward, done, _, info = env.step(cell)
    assert (reward, done, info["winner"]) == (1.0, True, 1)  # from the mover's (O's) side


def test_bad_arguments_are_refused_naming_the_value():
    with pytest.raises(ValueError, match=r"opponent must be None, one of .* got 'perfect'"):
        TicTacToeEnv(opponent="perfect")
    with pytest.raises(ValueError, match=r"agent_mark must be one of .* got 'black'"):
        TicTacToeEnv(agent_mark="black")
    with pytest.raises(ValueError, match="illegal_move must be one of"):
        TicTacToeEnv(illegal_move="ignore")
    with pytest.raises(ValueError, match="render_mode must be one of"):
        TicTacToeEnv(render_mode="human")
    with pytest.raises(ValueError, match="takes no options"):
        TicTacToeEnv().reset(options={"x": 1})


def test_ansi_render_shows_the_board():
    env = TicTacToeEnv(opponent=scripted([4]), render_mode="ansi")
    env.reset(seed=0)
    env.step(0)
    assert env.render() == "X . .\n. O .\n. . ."
