"""GoGame: the search protocol, planes, and the 8 board symmetries applied consistently to
planes, policies and moves."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go.game import GoGame, symmetry_maps, transform_board, transform_move, transform_policy
from envs.go.rules import BLACK, WHITE, GoState


def random_game(game: GoGame, moves: int, seed: int) -> list[int]:
    """A sequence of legal non-pass moves from the initial state."""
    rng = np.random.default_rng(seed)
    state, played = game.initial_state(), []
    for _ in range(moves):
        legal = np.flatnonzero(game.legal_actions(state)[:-1])
        move = int(rng.choice(legal))
        state = game.apply(state, move)
        played.append(move)
    return played


def test_protocol_on_a_short_game():
    game = GoGame(board_size=5, komi=0.5, history=2)
    s = game.initial_state()
    assert game.num_actions == 26 and game.num_players == 2 and game.planes_shape == (9, 5, 5)
    assert game.current_player(s) == 0 and not game.is_terminal(s)
    assert game.returns(s) == (0.0, 0.0)
    np.testing.assert_array_equal(game.legal_actions(s), s.legal_mask())
    s = game.apply(s, 12)
    assert game.current_player(s) == 1
    assert game.planes(s).shape == game.planes_shape and game.planes(s).dtype == np.float32
    s = game.apply(game.apply(s, 25), 25)  # white passes, black passes
    assert game.is_terminal(s) and s.winner == BLACK and game.returns(s) == (1.0, -1.0)


def test_returns_for_a_white_win_and_a_draw():
    game = GoGame(board_size=5, komi=0.5)
    s = game.initial_state()
    end = game.apply(game.apply(s, 25), 25)
    assert end.winner == WHITE and game.returns(end) == (-1.0, 1.0)
    draw = GoGame(board_size=5, komi=0.0)
    end = draw.apply(draw.apply(draw.initial_state(), 25), 25)
    assert draw.returns(end) == (0.0, 0.0) and end.is_terminal


def test_the_eight_transforms_are_distinct_and_keep_pass_in_place():
    game = GoGame(board_size=5, history=1)
    planes = np.random.default_rng(0).random(game.planes_shape).astype(np.float32)
    policy = np.random.default_rng(1).random(game.num_actions)
    images = game.symmetries(planes, policy)
    assert len(images) == 8
    np.testing.assert_array_equal(images[0][0], planes)
    np.testing.assert_array_equal(images[0][1], policy)
    assert len({p.tobytes() for p, _ in images}) == 8
    assert len({q.tobytes() for _, q in images}) == 8
    for p, q in images:
        assert p.shape == planes.shape and q.shape == policy.shape
        assert q[-1] == policy[-1] and np.isclose(q.sum(), policy.sum())
    maps = symmetry_maps(5)
    assert all(sorted(m) == list(range(25)) for m in maps)  # each is a permutation


@pytest.mark.parametrize("k", range(8))
def test_playing_the_transformed_move_gives_the_transformed_position(k):
    n = 7
    game = GoGame(board_size=n, history=3)
    moves = random_game(game, 30, seed=k)
    state = image = game.initial_state()
    for move in moves:
        image = image.play(transform_move(move, k, n))
        state = state.play(move)
        np.testing.assert_array_equal(image.board(), transform_board(state.board(), k))
        # a hand-built transformed position gives the same result for the next move too
        setup = GoState.from_board(transform_board(state.board(), k), to_play=state.to_play)
        legal = np.flatnonzero(state.legal_mask()[:-1])
        probe = int(legal[len(legal) // 2])
        np.testing.assert_array_equal(
            setup.play(transform_move(probe, k, n)).board(),
            transform_board(state.play(probe).board(), k),
        )
    # planes (history included) and legal masks move with the board
    planes, image_planes = game.planes(state), game.planes(image)
    mask = state.legal_mask().astype(np.float64)
    transformed = game.symmetries(planes, mask)[k]
    np.testing.assert_array_equal(transformed[0], image_planes)
    np.testing.assert_array_equal(transformed[1], image.legal_mask().astype(np.float64))


@pytest.mark.parametrize("k", range(8))
def test_policy_one_hot_moves_with_transform_move(k):
    n = 5
    for move in (0, 3, 7, 24, 25):
        one_hot = np.zeros(n * n + 1)
        one_hot[move] = 1.0
        assert int(np.argmax(transform_policy(one_hot, k, n))) == transform_move(move, k, n)


def test_transform_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"symmetry index must be 0\.\.7, got 8"):
        transform_board(np.zeros((3, 3)), 8)
    with pytest.raises(ValueError, match="policy must have 26 entries, got 25"):
        transform_policy(np.zeros(25), 1, 5)
    game = GoGame(board_size=5)
    with pytest.raises(ValueError, match="planes must end in"):
        game.symmetries(np.zeros((11, 4, 4)), np.zeros(26))
    with pytest.raises(ValueError, match="history must be >= 0"):
        GoGame(history=-1)
