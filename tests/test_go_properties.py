"""Random legal play, drawn by hypothesis, checked against a slow pure-Python reference of the
rules (flood-filled groups and liberties, positions compared as whole boards)."""

from __future__ import annotations

from functools import reduce

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from envs.go import _core
from envs.go.rules import BLACK, EMPTY, GoState


def neighbours(r: int, c: int, n: int) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i, j in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
        if 0 <= i < n and 0 <= j < n
    ]


def group_and_liberties(board: np.ndarray, r: int, c: int) -> tuple[set, set]:
    """Flood fill of the group at (r, c): its stones and its liberties."""
    colour, n = board[r, c], board.shape[0]
    stones, liberties, frontier = {(r, c)}, set(), [(r, c)]
    while frontier:
        point = frontier.pop()
        for q in neighbours(*point, n):
            if board[q] == EMPTY:
                liberties.add(q)
            elif board[q] == colour and q not in stones:
                stones.add(q)
                frontier.append(q)
    return stones, liberties


def reference_play(board: np.ndarray, move: int, colour: int) -> np.ndarray | None:
    """The board after ``colour`` plays ``move``, or None when occupied or suicide."""
    n = board.shape[0]
    r, c = divmod(move, n)
    if board[r, c] != EMPTY:
        return None
    after = board.copy()
    after[r, c] = colour
    for q in neighbours(r, c, n):
        if after[q] == 3 - colour:
            stones, liberties = group_and_liberties(after, *q)
            if not liberties:
                for s in stones:
                    after[s] = EMPTY
    if not group_and_liberties(after, r, c)[1]:
        return None
    return after


def reference_legal_mask(board: np.ndarray, colour: int, history: set[bytes]) -> np.ndarray:
    n = board.shape[0]
    mask = np.zeros(n * n + 1, dtype=bool)
    for move in range(n * n):
        after = reference_play(board, move, colour)
        mask[move] = after is not None and after.tobytes() not in history
    mask[n * n] = True
    return mask


def zobrist_from_scratch(board: np.ndarray) -> int:
    n = board.shape[0]
    keys = [_core.zobrist_key(int(v), m, n) for m, v in enumerate(board.ravel()) if v != EMPTY]
    return reduce(lambda a, b: a ^ b, keys, 0)


@settings(max_examples=40, deadline=None)
@given(
    size=st.sampled_from([5, 6, 7]),
    choices=st.lists(st.integers(min_value=0, max_value=10**6), min_size=40, max_size=150),
    pass_every=st.sampled_from([0, 0, 9, 31]),  # 0: pass only when no stone can be played
)
def test_random_legal_play_agrees_with_the_reference(size, choices, pass_every):
    state = GoState.new(size, komi=0.5)
    history = {state.board().tobytes()}
    superko_seen = False
    for step, choice in enumerate(choices):
        board = state.board()
        mask = state.legal_mask()
        reference = reference_legal_mask(board, state.to_play, history)
        np.testing.assert_array_equal(mask, reference)
        superko_seen |= any(
            reference_play(board, m, state.to_play) is not None and not mask[m]
            for m in range(size * size)
        )
        assert state.legal_moves() == np.flatnonzero(mask).tolist()
        stones = np.flatnonzero(mask[:-1])
        if (pass_every and step % pass_every == pass_every - 1) or len(stones) == 0:
            move = state.pass_move
        else:
            move = int(stones[choice % len(stones)])
        mover, before_captures = state.to_play, state.captures
        state = state.play(move)
        after = state.board()
        if move != state.pass_move:
            expected = reference_play(board, move, mover)
            np.testing.assert_array_equal(after, expected)
        else:
            np.testing.assert_array_equal(after, board)
        history.add(after.tobytes())

        # no group without liberties stands on the board
        for r, c in zip(*np.nonzero(after), strict=True):
            assert group_and_liberties(after, r, c)[1], (r, c)
        # the incremental hash is the hash recomputed from the stones
        assert state.hash == zobrist_from_scratch(after)
        assert state.hash == GoState.from_board(after).hash
        # captures count the opposing stones removed by this move
        removed = int((board == 3 - mover).sum() - (after == 3 - mover).sum())
        gained = [b - a for a, b in zip(before_captures, state.captures, strict=True)]
        assert gained[mover - 1] == removed and gained[2 - mover] == 0
        assert (after == mover).sum() == (board == mover).sum() + (move != state.pass_move)
        if state.is_terminal:
            assert not state.legal_mask().any()
            break
    event(f"captures >= 1: {sum(state.captures) > 0}")
    event(f"superko-forbidden point seen: {superko_seen}")


@settings(max_examples=15, deadline=None)
@given(size=st.sampled_from([5, 7, 9]), seed=st.integers(min_value=0, max_value=2**63))
def test_random_playout_moves_are_legal_and_scores_match_the_reference(size, seed):
    start = GoState.new(size, komi=0.5)
    final = start.random_playout(seed)
    state = start
    for move in final.moves:
        assert state.is_legal(move)
        state = state.play(move)
    assert state.hash == final.hash and state.is_terminal
    board = final.board()
    black = int((board == BLACK).sum())
    white = int((board == 3 - BLACK).sum())
    for r, c in zip(*np.nonzero(board == EMPTY), strict=True):
        region, colours, frontier = {(r, c)}, set(), [(r, c)]
        while frontier:
            for q in neighbours(*frontier.pop(), size):
                if board[q] == EMPTY and q not in region:
                    region.add(q)
                    frontier.append(q)
                elif board[q] != EMPTY:
                    colours.add(int(board[q]))
        if colours == {BLACK}:
            black += 1
        elif colours == {3 - BLACK}:
            white += 1
    assert final.area() == (black, white)
    assert final.score() == black - white - 0.5
