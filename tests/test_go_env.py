"""rlcourse/Go-v0: API checks, seeded determinism, two agents in turn, the opponent wrapper
(rewards and margins from the agent's side; random, callable and GNU Go over GTP opponents),
illegal-move rules and rendering."""

from __future__ import annotations

import os
import shutil
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the ids)
from envs.go import AgainstOpponent, GoEnv, coords
from envs.go.opponents import make_go_env
from envs.go.rules import BLACK, WHITE, IllegalMoveError

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
GNUGO = shutil.which("gnugo") or shutil.which("/usr/games/gnugo")


def always(move):
    return lambda state: state.pass_move if move == "pass" else move


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"opponent": "random", "agent_colour": "random", "illegal_move": "lose"}],
)
def test_passes_gymnasium_and_sb3_checks(kwargs):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    check_env(gym.make("rlcourse/Go-v0", board_size=5, **kwargs).unwrapped, skip_render_check=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3 remarks that [C, N, N] float planes are no image
        # SB3's checker steps with unmasked random actions: an illegal one must end the game
        sb3_check_env(make_go_env(board_size=5, **{**kwargs, "illegal_move": "lose"}))


def test_naming_an_opponent_wraps_the_two_agent_env():
    env, layers = gym.make("rlcourse/Go-v0", board_size=5, opponent="random"), []
    while isinstance(env, gym.Wrapper):
        layers, env = [*layers, type(env)], env.env
    assert AgainstOpponent in layers and type(env) is GoEnv
    assert type(gym.make("rlcourse/Go-v0", board_size=5).unwrapped) is GoEnv


def rollout(env: gym.Env, seed: int) -> list:
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    trace = [obs["observation"].tobytes()]
    done = False
    while not done:
        action = int(rng.choice(np.flatnonzero(info["action_mask"])))
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((obs["observation"].tobytes(), reward, info["opponent_move"]))
        done = terminated or truncated
    return trace


def test_same_seed_same_game_against_the_random_opponent():
    make = lambda: make_go_env(board_size=5, opponent="random", agent_colour="random")  # noqa: E731
    assert rollout(make(), 3) == rollout(make(), 3)
    assert rollout(make(), 3) != rollout(make(), 4)


def test_observation_is_from_the_agents_point_of_view():
    env = make_go_env(board_size=5, opponent=always(12), agent_colour="white", history=1)
    obs, info = env.reset(seed=0)
    planes = obs["observation"]
    assert planes.shape == (7, 5, 5) and planes.dtype == np.float32
    assert planes[1, 2, 2] == 1 and planes[0].sum() == 0  # black's C3 is the opponent's
    assert planes[4].sum() == 0  # the agent is white
    assert obs["action_mask"].dtype == np.int8 and obs["action_mask"][12] == 0
    np.testing.assert_array_equal(obs["action_mask"].astype(bool), info["action_mask"])
    assert info["agent_colour"] == "white" and info["opponent_move"] == 12
    assert info["to_play"] == WHITE


def test_win_reward_and_margin_for_black_agent():
    env = make_go_env(board_size=5, komi=7.5, opponent=always("pass"))
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(12)  # the opponent passes
    assert (reward, terminated) == (0.0, False) and info["opponent_move"] == 25
    obs, reward, terminated, truncated, info = env.step(25)
    assert terminated and not truncated and reward == 1.0
    assert info["score"] == 25 - 7.5 and info["score_margin"] == 25 - 7.5
    assert info["winner"] == BLACK and info["rewards"] == {"outcome": 1.0}
    assert not obs["action_mask"].any()


def test_loss_reward_and_margin_for_white_agent():
    def c3_then_pass(state):
        return 12 if state.board()[2, 2] == 0 else state.pass_move

    env = make_go_env(board_size=5, komi=7.5, opponent=c3_then_pass, agent_colour="white")
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(25)  # black passes back: its stone owns all
    assert terminated and reward == -1.0 and info["winner"] == BLACK
    assert info["score"] == 25 - 7.5 and info["score_margin"] == -(25 - 7.5)
    env = make_go_env(board_size=5, komi=7.5, opponent=always("pass"), agent_colour="white")
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(25)  # black passed first: two passes
    assert terminated and reward == 1.0 and info["score_margin"] == 7.5


def test_opponent_illegal_move_raises_by_default():
    env = make_go_env(board_size=5, opponent=always(12), agent_colour="white")
    env.reset(seed=0)
    with pytest.raises(IllegalMoveError, match="illegal move C3 for black: occupied"):
        env.step(25)


def test_illegal_move_raise_and_lose():
    env = make_go_env(board_size=5, opponent=always(12))
    env.reset(seed=0)
    env.step(0)
    with pytest.raises(IllegalMoveError, match="illegal move C3 for black: occupied"):
        env.step(12)
    env = make_go_env(board_size=5, opponent=always(12), illegal_move="lose")
    env.reset(seed=0)
    env.step(0)
    _, reward, terminated, _, info = env.step(12)
    assert terminated and reward == -1.0 and info["illegal_move"] and info["winner"] == WHITE
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)


def test_opponent_illegal_move_or_resignation_ends_the_game_for_the_agent():
    env = make_go_env(board_size=5, opponent=always(0), illegal_move="lose")
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(0)  # the opponent then plays the occupied A5
    assert terminated and reward == 1.0 and info["illegal_move"] and info["opponent_move"] == 0
    env = make_go_env(board_size=5, opponent=lambda state: "resign")
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(12)
    assert terminated and reward == 1.0 and info["opponent_move"] == "resign"
    assert env.unwrapped.state.resigned == WHITE


def test_two_agents_take_turns_and_rewards_go_to_the_mover():
    env = gym.make("rlcourse/Go-v0", board_size=5, komi=0.5)
    obs, info = env.reset(seed=0)
    assert "agent_colour" not in info and info["to_play"] == BLACK
    obs, reward, terminated, _, info = env.step(12)
    assert info["to_play"] == WHITE and obs["observation"][1, 2, 2] == 1  # white's view
    obs, reward, terminated, _, info = env.step(25)
    obs, reward, terminated, _, info = env.step(25)  # black passes: game over, black wins
    assert terminated and reward == 1.0 and info["score_margin"] == 25 - 0.5


def test_argument_errors_name_the_argument():
    with pytest.raises(ValueError, match="agent_colour"):
        make_go_env(opponent="random", agent_colour="red")
    with pytest.raises(ValueError, match="agent_colour='white' needs an opponent"):
        make_go_env(agent_colour="white")
    with pytest.raises(ValueError, match="illegal_move"):
        GoEnv(illegal_move="ignore")
    with pytest.raises(ValueError, match="render_mode"):
        GoEnv(render_mode="video")
    with pytest.raises(ValueError, match="board size"):
        GoEnv(board_size=21)
    with pytest.raises(ValueError, match="opponent"):
        make_go_env(opponent=3)
    with pytest.raises(ValueError, match="takes no options"):
        GoEnv().reset(options={"state": None})


def test_render_modes():
    env = GoEnv(board_size=5, render_mode="ansi")
    env.reset(seed=0)
    env.step(12)
    assert env.render() == str(env.state) and "X" in env.render()
    env = GoEnv(board_size=5, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    env = GoEnv(board_size=5, render_mode="human")
    env.reset(seed=0)
    env.step(12)
    env.close()


@pytest.mark.skipif(GNUGO is None, reason="GNU Go is not installed")
def test_gnugo_opponent_over_gtp():
    env = make_go_env(
        board_size=5,
        komi=0.5,
        opponent=f"{GNUGO} --mode gtp --level 0 --chinese-rules",
        agent_colour="white",
        illegal_move="lose",
    )
    try:
        _, info = env.reset(seed=0)
        assert env.unwrapped.state.move_number == 1 and isinstance(info["opponent_move"], int)
        rng = np.random.default_rng(0)
        done, steps = False, 0
        while not done:
            legal = np.flatnonzero(info["action_mask"][:-1])
            action = int(rng.choice(legal)) if len(legal) and steps < 12 else 25
            _, reward, terminated, truncated, info = env.step(action)
            done, steps = terminated or truncated, steps + 1
        assert not info["illegal_move"] and reward in (-1.0, 0.0, 1.0)
        # GNU Go's board is ours
        board = env.unwrapped.state.board()
        for colour, name in ((BLACK, "black"), (WHITE, "white")):
            listed = env._gtp.client.send(f"list_stones {name}").split()
            ours = [coords.to_gtp(int(m), 5) for m in np.flatnonzero(board.ravel() == colour)]
            assert sorted(listed) == sorted(ours)
    finally:
        env.close()


def random_legal(seed):
    rng = np.random.default_rng(seed)
    return lambda obs, info: int(rng.choice(np.flatnonzero(info["action_mask"])))


def test_alternate_colours_take_black_and_white_in_turn():
    env = make_go_env(board_size=5, opponent="random", agent_colour="alternate")
    colours = [env.reset(seed=i)[1]["agent_colour"] for i in range(4)]
    assert colours == ["black", "white", "black", "white"]


def test_an_evaluation_reports_outcomes_per_colour_and_averages_no_labels(caplog):
    from rlcourse.evaluation import evaluate

    env = gym.make("rlcourse/Go-v0", board_size=5, opponent="random", agent_colour="alternate")
    result = evaluate(random_legal(0), env, 12)
    metrics = result.metrics
    assert not {"to_play", "winner", "opponent_move"} & set(metrics)
    assert metrics["win_rate"] + metrics["draw_rate"] + metrics["loss_rate"] == pytest.approx(1)
    for colour in ("black", "white"):  # six games each
        rates = [metrics[f"{colour}_{k}_rate"] for k in ("win", "draw", "loss")]
        assert sum(rates) == pytest.approx(1) and all(6 * r == round(6 * r) for r in rates)
    assert -1 <= result.ci95_low <= result.ci95_high <= 1  # clipped to the game's returns
    with caplog.at_level("WARNING", logger="rlcourse"):
        evaluate(random_legal(0), gym.make("rlcourse/Go-v0", board_size=5), 2)
    assert "two-player env evaluated with no opponent" in caplog.text


def test_vector_envs_stack_the_infos_of_games_that_end_and_go_on():
    envs_ = gym.make_vec("rlcourse/Go-v0", num_envs=2, vectorization_mode="sync", board_size=5)
    _, info = envs_.reset(seed=0)
    rng, ended = np.random.default_rng(0), 0
    for _ in range(200):  # several games end (and restart) on the way
        # after a game's last step the next step only resets it (its action is ignored)
        actions = [
            int(rng.choice(np.flatnonzero(m))) if m.any() else 0 for m in info["action_mask"]
        ]
        *_, terminated, _, info = envs_.step(actions)
        ended += int(terminated.sum())
        if terminated.any():  # the winner is stacked for the games that ended, masked elsewhere
            assert (info["_winner"] == terminated).all()
    envs_.close()
    assert ended >= 2
