"""Tic-tac-toe through the game protocol, its symmetries, and the minimax solver."""

from __future__ import annotations

import numpy as np
import pytest

from envs.tictactoe import TicTacToe, minimax_value, optimal_actions

GAME = TicTacToe()


def reachable_states() -> set:
    seen, frontier = set(), [GAME.initial_state()]
    while frontier:
        state = frontier.pop()
        if state in seen:
            continue
        seen.add(state)
        frontier += [GAME.apply(state, a) for a in np.flatnonzero(GAME.legal_actions(state))]
    return seen


def test_a_game_to_a_win_through_the_protocol():
    s = GAME.initial_state()
    assert GAME.current_player(s) == 0 and GAME.legal_actions(s).all()
    for cell in (0, 3, 1, 4):  # X: 0, 1; O: 3, 4
        s = GAME.apply(s, cell)
    assert not GAME.is_terminal(s) and GAME.returns(s) == (0.0, 0.0)
    assert GAME.legal_actions(s).tolist() == [False, False, True, False, False, True, True,
                                             True, True]  # fmt: skip
    s = GAME.apply(s, 2)  # X completes the top row
    assert GAME.is_terminal(s) and s.winner == 0 and GAME.returns(s) == (1.0, -1.0)
    assert not GAME.legal_actions(s).any()
    assert str(s) == "X X X\nO O .\n. . ."


def test_a_full_board_without_a_line_is_a_draw():
    s = GAME.state_from_board("XOX XOO OXX")
    assert GAME.is_terminal(s) and s.winner is None and GAME.returns(s) == (0.0, 0.0)


def test_bad_moves_and_boards_are_refused_with_the_reason():
    s = GAME.apply(GAME.initial_state(), 4)
    with pytest.raises(ValueError, match="cell 4 is already marked"):
        GAME.apply(s, 4)
    with pytest.raises(ValueError, match=r"cell 0\.\.8, got 9"):
        GAME.apply(s, 9)
    with pytest.raises(ValueError, match="game is over"):
        GAME.apply(GAME.state_from_board("XXX OO. ..."), 8)
    with pytest.raises(ValueError, match="9 characters"):
        GAME.state_from_board("XX")
    with pytest.raises(ValueError, match="X moves first"):
        GAME.state_from_board("OO. ... ...")


def test_planes_are_from_the_movers_point_of_view():
    s = GAME.state_from_board("X.. .O. ..X")  # O to move
    planes = GAME.planes(s)
    assert planes.shape == GAME.planes_shape and planes.dtype == np.float32
    np.testing.assert_array_equal(planes[0], [[0, 0, 0], [0, 1, 0], [0, 0, 0]])  # O's marks
    np.testing.assert_array_equal(planes[1], [[1, 0, 0], [0, 0, 0], [0, 0, 1]])
    assert (planes[2] == 0).all()  # not X to move
    assert (GAME.planes(GAME.initial_state())[2] == 1).all()


def test_symmetries_map_moves_and_planes_consistently():
    """Playing the transformed moves gives the transformed planes: image k of a one-hot policy
    on move a names the cell where a lands."""
    moves = [0, 4, 5, 1]
    state = GAME.initial_state()
    for m in moves:
        state = GAME.apply(state, m)
    images = GAME.symmetries(GAME.planes(state), np.eye(9)[7])
    assert len(images) == 8 and len({p.tobytes() for p, _ in images}) == 8
    for k, (planes, policy) in enumerate(images):
        where = [int(np.argmax(GAME.symmetries(GAME.planes(state), np.eye(9)[m])[k][1]))
                 for m in moves]  # fmt: skip
        moved = GAME.initial_state()
        for m in where:
            moved = GAME.apply(moved, m)
        np.testing.assert_array_equal(planes, GAME.planes(moved))
        assert policy.sum() == 1 and policy[int(np.argmax(policy))] == 1


def test_quarter_turn_moves_the_top_left_corner_to_the_bottom_left():
    _, policy = GAME.symmetries(GAME.planes(GAME.initial_state()), np.eye(9)[0])[1]
    assert int(np.argmax(policy)) == 6  # counter-clockwise: (0, 0) -> (2, 0)


def test_symmetries_refuse_wrong_shapes():
    with pytest.raises(ValueError, match="policy must have shape"):
        GAME.symmetries(np.zeros((3, 3, 3)), np.zeros(10))
    with pytest.raises(ValueError, match="planes must end in"):
        GAME.symmetries(np.zeros((3, 4, 4)), np.zeros(9))


def test_there_are_5478_reachable_positions():
    assert len(reachable_states()) == 5478  # the known count of legal tic-tac-toe positions


def test_minimax_values_worked_out_by_hand():
    assert minimax_value(GAME.initial_state()) == 0  # perfect play draws
    win_now = GAME.state_from_board("XX. OO. ...")  # X to move completes the top row
    assert minimax_value(win_now) == 1 and optimal_actions(win_now) == [2]
    must_block = GAME.state_from_board("XX. .O. ...")  # O must take 2 and then draws
    assert minimax_value(must_block) == 0 and optimal_actions(must_block) == [2]
    fork = GAME.state_from_board("X.. .O. ..X")  # O must take an edge; a corner loses
    assert optimal_actions(fork) == [1, 3, 5, 7]
    assert minimax_value(GAME.state_from_board("X.X .O. O.X")) == -1  # X threatens 1 and 5
    with pytest.raises(ValueError, match="finished game"):
        optimal_actions(GAME.state_from_board("XXX OO. ..."))
