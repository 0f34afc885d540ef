"""The Go board picture (layout, stones, overlays, clicks) and scripts/play.py's headless core
driven by synthetic pygame events."""

import importlib.util
import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np
import pygame
import pytest

from envs.go.rendering import (
    WOOD,
    BoardLayout,
    GoRenderer,
    info_strip_height,
    render_board,
    star_points,
)
from envs.go.rules import BLACK, WHITE, GoState
from envs.go.sgf import format_sgf, read_sgf

ROOT = Path(__file__).resolve().parent.parent


def position():
    """9x9: black E5 (40), white C3 (56), black G7 (24); white to play."""
    return GoState.new(9).play(40).play(56).play(24)


def pixel(frame, layout, r, c, dx=0.0, dy=0.0):
    x, y = layout.point(r, c)
    return frame[round(y + dy * layout.cell), round(x + dx * layout.cell)].astype(int)


# ----------------------------------------------------------------------------- rendering


def test_frame_shape_and_wood():
    frame = render_board(position(), size_px=360)
    assert frame.shape == (360 + info_strip_height(360), 360, 3) and frame.dtype == np.uint8
    board = frame[:360].reshape(-1, 3).astype(int)
    woodish = (np.abs(board - np.array(WOOD)) <= 25).all(axis=1)
    assert woodish.mean() > 0.6  # most of the board is wood


def test_stones_are_drawn_where_they_stand():
    frame = render_board(position())
    layout = BoardLayout(9, 480, show_coordinates=True)
    # a quarter cell off the intersection: inside a stone, but off the grid lines
    assert pixel(frame, layout, 4, 4, 0.2, 0.25).max() < 90  # black E5
    assert pixel(frame, layout, 6, 2, 0.2, 0.25).min() > 170  # white C3
    empty = pixel(frame, layout, 0, 8, 0.25, 0.25)  # J9 is empty
    assert (np.abs(empty - np.array(WOOD)) <= 25).all()


def test_last_move_marker_and_captures_change_the_picture():
    state = position()
    frame = render_board(state)
    layout = BoardLayout(9, 480, show_coordinates=True)
    # the last move (G7, black) carries a red dot in its centre
    red = pixel(frame, layout, 2, 6)
    assert red[0] > 150 and red[1] < 90 and red[2] < 90
    assert not np.array_equal(frame[480:], render_board(state.play(81))[480:])  # strip text


def test_overlays_change_the_image():
    state = position()
    base = render_board(state)
    policy = np.zeros(82)
    policy[[0, 10, 81]] = [0.6, 0.3, 0.1]
    visits = np.zeros(82)
    visits[[0, 40]] = [120, 7]
    layout = BoardLayout(9, 480, show_coordinates=True)
    with_policy = render_board(state, policy=policy)
    assert not np.array_equal(
        pixel(base, layout, 0, 0, 0.2, 0.2), pixel(with_policy, layout, 0, 0, 0.2, 0.2)
    )
    assert np.array_equal(
        pixel(base, layout, 8, 8, 0.2, 0.2), pixel(with_policy, layout, 8, 8, 0.2, 0.2)
    )
    for overlay in ({"visits": visits}, {"value": 0.5}, {"policy": policy[:81]}):
        assert not np.array_equal(base, render_board(state, **overlay)), overlay
    assert not np.array_equal(render_board(state, value=0.5), render_board(state, value=-0.5))


def test_bad_overlays_are_refused():
    with pytest.raises(ValueError, match=r"policy has shape \(80,\); expected \[81\] or \[82\]"):
        render_board(position(), policy=np.ones(80))
    with pytest.raises(ValueError, match="visits must be finite and non-negative"):
        render_board(position(), visits=-np.ones(81))


def test_star_points():
    assert star_points(5) == [(2, 2)]
    assert sorted(star_points(7)) == [(2, 2), (2, 4), (3, 3), (4, 2), (4, 4)]
    assert sorted(star_points(9)) == [(2, 2), (2, 6), (4, 4), (6, 2), (6, 6)]
    assert len(star_points(13)) == 9 and (3, 9) in star_points(13) and (6, 6) in star_points(13)
    assert sorted(star_points(19)) == sorted((r, c) for r in (3, 9, 15) for c in (3, 9, 15))


def test_move_at_maps_pixels_to_points():
    renderer = GoRenderer(9, 480)
    layout = renderer.layout
    for move in range(81):
        x, y = layout.point(*divmod(move, 9))
        assert renderer.move_at(x + 0.4 * layout.cell, y - 0.4 * layout.cell) == move
    assert renderer.move_at(2, 2) is None  # the margin
    assert renderer.move_at(240, 470) is None  # below the last line
    assert renderer.move_at(240, 500) is None  # the strip


def test_renderer_follows_the_board_size():
    renderer = GoRenderer(9, 300)
    assert renderer.frame(GoState.new(5)).shape == renderer.shape
    assert renderer.layout.n == 5


# ----------------------------------------------------------------------------- play.py


def play_module():
    spec = importlib.util.spec_from_file_location("script_play", ROOT / "scripts" / "play.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def lowest_legal(state):
    return int(np.flatnonzero(state.legal_mask())[0])


def click(session, x, y):
    session.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(round(x), round(y)), button=1))


def key(session, k):
    session.handle(pygame.event.Event(pygame.KEYDOWN, key=k))


@pytest.fixture(scope="module")
def play():
    pygame.init()
    yield play_module()
    pygame.quit()


def test_a_click_plays_that_point_and_the_agent_answers(play):
    session = play.GoSession(lowest_legal, BLACK, GoState.new(9))
    assert not session.agent_turn()  # black is the person
    click(session, *session.renderer.layout.point(4, 4))
    assert session.state.moves == (40,)
    assert session.agent_turn() and session.state.moves == (40, 0)
    click(session, *session.renderer.layout.point(4, 4))  # occupied: refused with a note
    assert session.state.moves == (40, 0) and session.message() == "illegal: occupied"


def test_pass_and_resign_buttons(play):
    session = play.GoSession(lowest_legal, BLACK, GoState.new(5))
    click(session, *session.buttons["pass"].center)
    assert session.state.moves == (25,)
    session.agent_turn()
    click(session, *session.buttons["resign"].center)
    assert session.state.resigned == BLACK and session.state.is_terminal
    assert session.message() == "game over: White wins by resignation"


def test_the_agent_opens_when_the_person_is_white(play):
    session = play.GoSession(lowest_legal, WHITE, GoState.new(5))
    click(session, *session.renderer.layout.point(2, 2))  # not the person's turn
    assert session.state.moves == () and "is to move" in session.message()
    assert session.agent_turn() and session.state.moves == (0,)


def test_loaded_game_steps_with_the_arrows_and_continues(play, tmp_path):
    text = "(;SZ[9]KM[7.5];B[ee];W[cc];B[gg];W[cg];B[gc])"
    record = read_sgf(text)
    session = play.GoSession(lowest_legal, BLACK, record.initial, record.moves)
    assert session.state.moves == ()  # a loaded game opens at its start
    for n in range(1, 4):
        key(session, pygame.K_RIGHT)
        assert session.state.moves == tuple(record.moves[:n])
    # what is drawn is the third position
    surface = pygame.Surface(session.size)
    session.draw(surface)
    drawn = pygame.surfarray.array3d(surface).transpose(1, 0, 2)[: session.renderer.shape[0]]
    assert np.array_equal(drawn, session.renderer.frame(GoState.new(9).play(40).play(20).play(60)))
    key(session, pygame.K_LEFT)
    assert session.state.moves == tuple(record.moves[:2])
    assert not session.agent_turn()  # reviewing: the agent does not move by itself
    # black (the person) to play after two moves: a click continues from here
    click(session, *session.renderer.layout.point(8, 8))
    assert session.state.moves == (*record.moves[:2], 80) and session.at_end
    assert session.agent_turn() and len(session.line) == 5
    key(session, pygame.K_HOME)
    assert session.cursor == 0
    key(session, pygame.K_END)
    assert session.at_end
    path = tmp_path / "continued.sgf"
    path.write_text(format_sgf(session.record(black="human", white="agent")))
    assert read_sgf(path).moves == list(session.line[-1].moves)


def test_space_lets_the_agent_move_from_a_reviewed_position(play):
    record = read_sgf("(;SZ[5];B[cc];W[bb];B[dd])")
    session = play.GoSession(lowest_legal, BLACK, record.initial, record.moves)
    key(session, pygame.K_RIGHT)  # white (the agent) to move
    key(session, pygame.K_SPACE)
    assert len(session.line) == 2 and session.agent_turn()
    assert session.state.moves == (12, 0)


def test_quit_event_and_no_display(play, capsys, monkeypatch, tmp_path):
    session = play.GoSession(lowest_legal, BLACK, GoState.new(5))
    session.handle(pygame.event.Event(pygame.QUIT))
    assert not session.running

    def end_of_input(prompt):
        raise EOFError

    monkeypatch.setattr("builtins.input", end_of_input)  # no display: the terminal is asked
    assert play.main(["go", "--size", "5", "--sgf-out", str(tmp_path / "g.sgf")]) == 0
    assert "no display: playing in the terminal" in capsys.readouterr().out
    assert play.main(["go", "--load", "/nonexistent.sgf"]) == 2
    assert "cannot read SGF file /nonexistent.sgf" in capsys.readouterr().err


def test_the_score_at_the_end_and_the_record(play):
    session = play.GoSession(lambda state: state.pass_move, BLACK, GoState.new(5, komi=0.5))
    click(session, *session.renderer.layout.point(2, 2))
    assert session.agent_turn()  # it passes
    click(session, *session.buttons["pass"].center)
    assert session.state.is_terminal
    assert session.message() == "game over: Black wins by 24.5"  # 25 points - 0.5 komi
    record = session.record(black="human", white="agent")
    assert record.moves == [12, 25, 25] and record.info.result == "B+24.5"


def test_window_loop_runs_until_quit(play):
    def agent_then_quit(state):
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        return 12

    session = play.GoSession(agent_then_quit, WHITE, GoState.new(5))
    play.run_window(session, "test")
    assert session.state.moves == (12,) and not session.running


def test_main_saves_the_game(play, monkeypatch, tmp_path):
    def person_passes_then_resigns(session, title):
        session.play(25)
        session.agent_turn()
        session.play("resign")

    monkeypatch.setattr("rlcourse.render.display_available", lambda: True)
    monkeypatch.setattr(play, "run_window", person_passes_then_resigns)
    out = tmp_path / "game.sgf"
    argv = ["go", "--size", "5", "--komi", "0.5", "--seed", "4", "--sgf-out", str(out)]
    assert play.main(argv) == 0
    record = read_sgf(out)
    assert (record.info.black, record.info.white) == ("human", "random")
    assert record.info.result == "W+R" and record.info.komi == 0.5
    assert len(record.moves) == 2 and record.moves[0] == 25 and record.moves[1] < 25
