#!/usr/bin/env python
"""A person plays against an agent in a pygame window, or in the terminal.

    python scripts/play.py go --size 9 --agent random --colour black
    python scripts/play.py go --load game.sgf --sgf-out continued.sgf
    python scripts/play.py go --size 5 --text          # in the terminal: moves typed as C3
    python scripts/play.py gridworld --env rlcourse/CliffWalking-v0    # always in the terminal
    python scripts/play.py driving --env rlcourse/Merge-v0 --seed 3

Where no display exists, Go is played in the terminal (as with ``--text``): the board is printed
and moves are typed in GTP coordinates (``C3``), ``pass``, ``resign``, ``undo`` (your last move
and the agent's answer) or ``quit``. Gridworld: walk the grid with the arrow keys (then Enter),
or w/a/s/d; the episode's return is printed at its end.

Go: click a point to play there; the buttons under the board pass and resign. The left and
right arrow keys step through the game (Home/End jump to its ends); from an earlier position a
click continues the game from there, dropping the moves after it, and space lets the agent
move from there when it is its turn. ``--load`` opens a saved game at its first position. The
score is shown when the game ends, and the game is saved as SGF when the window closes
(``--sgf-out``, default ``runs/play/go-<time>.sgf``).

Driving: you are the green car among IDM/MOBIL traffic. Up and down arrows change lane (left
and right of the direction of travel), the right arrow asks for the next higher target speed
and the left arrow for the next lower one; with no key the car keeps its lane and speed. The
episode restarts after a crash or at its end (Escape or closing the window quits).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlcourse.cli import command
from scripts.go_players import add_player_arguments

if TYPE_CHECKING:
    from envs.go.rules import GoState

BLACK, WHITE = 1, 2  # envs.go.rules' colours (kept here so that --help imports no env)

BUTTON_BAR = 56  # height of the strip of buttons under the board [px]
BAR_COLOUR = (232, 226, 214)
BUTTON_COLOUR = (70, 66, 62)
BUTTON_TEXT = (246, 244, 238)
MESSAGE_TEXT = (40, 36, 32)
FPS = 30


class GoSession:
    """One game between a person (``human`` colour) and ``policy``, and its history.

    ``line`` holds the positions of the game from the start; ``cursor`` picks the one shown.
    ``handle(event)`` takes pygame events; ``agent_turn()`` lets the agent move when it is its
    turn at the end of the line. Nothing here opens a window: ``draw`` paints any surface.
    """

    def __init__(
        self,
        policy: Callable[[GoState], int | str],
        human: int,
        start: GoState,
        moves: Sequence[int] = (),
        size_px: int = 560,
        agent_name: str = "agent",
    ) -> None:
        self.policy = policy
        self.human = human
        self.agent_name = agent_name
        self.line = [start]
        for move in moves:
            self.line.append(self.line[-1].play(move))
        # A loaded game opens at its start for review; the agent waits to be asked (space).
        self.cursor = 0
        self.agent_may_move = not moves
        from envs.go.rendering import GoRenderer

        self.renderer = GoRenderer(start.board_size, size_px)
        height, width = self.renderer.shape[:2]
        self.size = (width, height + BUTTON_BAR)
        self.buttons = self._button_rects(width, height)
        self.note = ""  # a message about the last action (an illegal click...)
        self.running = True

    @property
    def state(self) -> GoState:
        """The position shown."""
        return self.line[self.cursor]

    @property
    def at_end(self) -> bool:
        return self.cursor == len(self.line) - 1

    # --------------------------------------------------------------------- input

    def handle(self, event: Any) -> None:
        import pygame

        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN:
            self._key(event.key)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self._click(*event.pos)

    def _key(self, key: int) -> None:
        import pygame

        steps = {pygame.K_LEFT: -1, pygame.K_RIGHT: 1, pygame.K_HOME: -len(self.line),
                 pygame.K_END: len(self.line)}  # fmt: skip
        if key in steps:
            self.cursor = min(max(self.cursor + steps[key], 0), len(self.line) - 1)
            self.note = ""
        elif key == pygame.K_SPACE:
            if self.state.is_terminal or self.state.to_play == self.human:
                self.note = "space lets the agent move when it is its turn"
            else:
                self._branch()
                self.agent_may_move = True
        elif key == pygame.K_ESCAPE:
            self.running = False

    def _click(self, x: int, y: int) -> None:
        if self.buttons["pass"].collidepoint(x, y):
            self.play(self.state.pass_move)
        elif self.buttons["resign"].collidepoint(x, y):
            self.play("resign")
        else:
            move = self.renderer.move_at(x, y)
            if move is not None:
                self.play(move)

    def play(self, move: int | str) -> bool:
        """The person's move (a point, pass or "resign") at the position shown; False (with a
        note saying why) when it cannot be played."""
        state = self.state
        if state.is_terminal:
            self.note = "the game is over"
            return False
        if state.to_play != self.human:
            self.note = f"{_colour_name(state.to_play)} ({self.agent_name}) is to move: press space"
            return False
        if move != "resign" and not state.is_legal(int(move)):
            self.note = f"illegal: {state.illegal_reason(int(move))}"
            return False
        self._branch()
        self.line.append(state.resign() if move == "resign" else state.play(int(move)))
        self.cursor += 1
        self.agent_may_move = True
        self.note = ""
        return True

    def agent_turn(self) -> bool:
        """Let the agent move if it is its turn at the end of the game; True if it moved."""
        state = self.state
        if not (self.agent_may_move and self.at_end) or state.is_terminal:
            return False
        if state.to_play == self.human:
            return False
        choice = self.policy(state)
        self.line.append(state.resign() if choice == "resign" else state.play(int(choice)))
        self.cursor += 1
        return True

    def _branch(self) -> None:
        """Continue from the position shown: forget the moves after it."""
        del self.line[self.cursor + 1 :]

    # --------------------------------------------------------------------- output

    def message(self) -> str:
        state = self.state
        if not self.at_end:
            return (
                f"move {self.cursor} of {len(self.line) - 1}: arrows step, a click plays from here"
            )
        if state.is_terminal:
            from envs.go.rendering import result_text

            return "game over: " + result_text(state)
        if self.note:
            return self.note
        if state.to_play == self.human:
            return f"your move ({_colour_name(self.human)})"
        if not self.agent_may_move:
            return f"{self.agent_name} to move: press space"
        return f"{self.agent_name} is thinking..."

    def draw(self, surface: Any) -> None:
        import pygame

        board = self.renderer.surface(self.state)
        surface.blit(board, (0, 0))
        top = board.get_height()
        surface.fill(BAR_COLOUR, pygame.Rect(0, top, self.size[0], BUTTON_BAR))
        for name, rect in self.buttons.items():
            pygame.draw.rect(surface, BUTTON_COLOUR, rect, border_radius=6)
            self.renderer.text(surface, name.capitalize(), rect.center, 24, BUTTON_TEXT)
        left = self.buttons["resign"].right + 14
        self.renderer.text(
            surface, self.message(), (left, top + BUTTON_BAR / 2), 22, MESSAGE_TEXT, "midleft"
        )

    def _button_rects(self, width: int, top: int) -> dict[str, Any]:
        import pygame

        height = BUTTON_BAR - 16
        return {
            "pass": pygame.Rect(10, top + 8, 84, height),
            "resign": pygame.Rect(104, top + 8, 84, height),
        }

    def record(self, black: str, white: str) -> Any:
        """The game so far (the whole line, whatever position is shown) as an SgfGame."""
        from envs.go.sgf import game_record

        return game_record(self.line[0], self.line[-1], black=black, white=white)


def _colour_name(colour: int) -> str:
    return "black" if colour == BLACK else "white"


def run_window(session: GoSession, title: str) -> None:
    """Show ``session`` in a window until it is closed."""
    import pygame

    from envs.go.rendering import result_text

    pygame.display.init()  # and fonts; not pygame.init(), which opens the sound device
    pygame.font.init()
    try:
        screen = pygame.display.set_mode(session.size)
        pygame.display.set_caption(title)
        clock = pygame.time.Clock()
        announced = False
        while session.running:
            for event in pygame.event.get():
                session.handle(event)
            session.draw(screen)
            pygame.display.flip()
            if session.agent_turn():
                continue  # draw the agent's move before anything else
            if session.line[-1].is_terminal and not announced:
                print(f"game over: {result_text(session.line[-1])}")
                announced = True
            clock.tick(FPS)
    finally:
        pygame.quit()


# --------------------------------------------------------------------------- modes


def play_go(opts: argparse.Namespace) -> int:
    import envs  # noqa: F401  (registers the games)
    from envs.go.rules import GoState
    from envs.go.sgf import SgfError, game_record, read_sgf, save_sgf
    from rlcourse.render import display_available
    from scripts.go_players import make_player

    try:
        policy = make_player(opts)
        if opts.load is not None:
            record = read_sgf(opts.load)
            start, moves = record.initial, record.moves
        else:
            start, moves = GoState.new(opts.size, komi=opts.komi, handicap=opts.handicap), []
    except (ValueError, SgfError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    human = BLACK if opts.colour == "black" else WHITE
    if opts.text or not display_available():
        if not opts.text:
            print("no display: playing in the terminal (--text)")
        line = play_go_in_text(policy, human, start, moves, opts.agent)
        final = line[-1]
    else:
        session = GoSession(policy, human, start, moves, opts.size_px, agent_name=opts.agent)
        run_window(session, f"Go {start.board_size}x{start.board_size}: you are {opts.colour}")
        final = session.line[-1]
    names = {human: "human", 3 - human: opts.agent}
    out = opts.sgf_out or Path("runs/play") / f"go-{datetime.datetime.now():%Y%m%d-%H%M%S}.sgf"
    save_sgf(game_record(start, final, black=names[BLACK], white=names[WHITE]), out)
    print(f"game saved to {out}")
    return 0


def play_go_in_text(
    policy: Callable[[GoState], int | str],
    human: int,
    start: GoState,
    moves: Sequence[int] = (),
    agent_name: str = "agent",
    read: Callable[[str], str] | None = None,
    write: Callable[[str], Any] = print,
) -> list[GoState]:
    """A game in the terminal from ``start`` (then ``moves``): the board printed before each of
    the person's moves, typed in GTP coordinates, ``pass``, ``resign``, ``undo`` or ``quit``
    (end of input quits too). Returns the game's positions. ``read`` defaults to ``input``."""
    from envs.go import coords
    from envs.go.rendering import result_text

    line = [start]
    for move in moves:
        line.append(line[-1].play(move))
    size = start.board_size
    while not line[-1].is_terminal:
        state = line[-1]
        if state.to_play != human:
            choice = policy(state)
            line.append(state.resign() if choice == "resign" else state.play(int(choice)))
            said = "resigns" if choice == "resign" else f"plays {coords.to_gtp(int(choice), size)}"
            write(f"{agent_name} {said}")
            continue
        write(str(state))
        try:
            text = (read or input)(f"your move ({_colour_name(human)}): ").strip().lower()
        except EOFError:
            break
        if text in ("quit", "q", "exit"):
            break
        if text == "undo":
            back = 1 + (len(line) > 2)  # your move and the agent's answer
            if len(line) - back < 1 or len(line) <= len(moves) + 1:
                write("nothing of yours to undo")
            else:
                del line[-back:]
            continue
        if text == "resign":
            line.append(state.resign())
            continue
        try:
            move = state.pass_move if text == "pass" else coords.from_gtp(text.upper(), size)
        except ValueError as exc:
            write(f"not a move ({exc}): type a point such as C3, pass, resign, undo or quit")
            continue
        if not state.is_legal(move):
            write(f"illegal: {state.illegal_reason(move)}")
            continue
        line.append(state.play(move))
    write(str(line[-1]))
    if line[-1].is_terminal:
        write(f"game over: {result_text(line[-1])}")
    return line


def add_go_parser(modes: Any) -> None:
    go = modes.add_parser(
        "go",
        help="Go against an agent",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_player_arguments(go)
    go.add_argument("--size", type=int, default=9, help="board size 5..19")
    go.add_argument("--komi", type=float, default=7.5)
    go.add_argument("--handicap", type=int, default=0, help="black stones placed first")
    go.add_argument("--colour", choices=("black", "white"), default="black", help="your colour")
    go.add_argument(
        "--load",
        type=Path,
        metavar="FILE.sgf",
        help="review and continue a saved game (its size, komi and stones replace --size, "
        "--komi and --handicap)",
    )
    go.add_argument("--sgf-out", type=Path, metavar="FILE.sgf", help="where to save the game")
    go.add_argument("--size-px", type=int, default=560, help="board width in pixels")
    go.add_argument("--text", action="store_true", help="play in the terminal, not a window")
    go.set_defaults(run=play_go)


DRIVING_KEYS = {  # pygame key name -> meta-action (envs.driving.Action)
    "up": "LANE_LEFT",
    "down": "LANE_RIGHT",
    "right": "FASTER",
    "left": "SLOWER",
}


class DrivingSession:
    """Arrow keys to meta-actions for a driving env: ``handle(event)`` takes pygame events,
    ``next_action()`` gives the action for the next step (IDLE when no key was pressed)."""

    def __init__(self) -> None:
        from envs.driving import Action

        self.actions = Action
        self.pending = Action.IDLE
        self.running = True

    def handle(self, event: Any) -> None:
        import pygame

        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN:
            if event.key == pygame.K_ESCAPE:
                self.running = False
            else:
                name = DRIVING_KEYS.get(pygame.key.name(event.key))
                if name is not None:
                    self.pending = self.actions[name]

    def next_action(self) -> Any:
        action, self.pending = self.pending, self.actions.IDLE
        return action


def play_driving(opts: argparse.Namespace) -> int:
    import gymnasium as gym
    import numpy as np

    import envs  # noqa: F401  (registers the rlcourse/* ids)
    from rlcourse.render import display_available

    if not display_available():
        print(
            "error: playing needs a display (none found, or SDL_VIDEODRIVER is dummy)",
            file=sys.stderr,
        )
        return 2
    try:
        env = gym.make(
            opts.env,
            render_mode="human",
            simulation_frequency=opts.frequency,
            policy_frequency=opts.frequency,
        )
    except (ValueError, gym.error.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import pygame

    session = DrivingSession()
    seed = opts.seed
    env.reset(seed=seed)
    returns: list[float] = []
    total = 0.0
    try:
        while session.running:
            for event in pygame.event.get():
                session.handle(event)
            _, reward, terminated, truncated, info = env.step(session.next_action())
            total += float(reward)
            if terminated or truncated:
                how = "crashed" if info["crashed"] else "finished"
                print(
                    f"episode {how}: return {total:.2f}, mean speed {info['mean_speed']:.1f} "
                    f"m/s, distance {info['distance']:.0f} m"
                )
                returns.append(total)
                total, seed = 0.0, None if seed is None else seed + 1
                env.reset(seed=seed)
    finally:
        env.close()
    if returns:
        print(f"{len(returns)} episodes, mean return {np.mean(returns):.2f}")
    return 0


def add_driving_parser(modes: Any) -> None:
    driving = modes.add_parser(
        "driving",
        help="drive among traffic with the arrow keys",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    driving.add_argument(
        "--env",
        default="rlcourse/Highway-v0",
        help="rlcourse/Highway-v0, rlcourse/HighwayFast-v0 or rlcourse/Merge-v0",
    )
    driving.add_argument("--seed", type=int, default=None, help="first episode's seed")
    driving.add_argument(
        "--frequency", type=int, default=15, help="simulation and key-reading frequency [Hz]"
    )
    driving.set_defaults(run=play_driving)


TEXT_MOVES = {  # what a terminal sends for an arrow key (then Enter), and w/a/s/d
    "\x1b[a": "UP", "\x1b[b": "DOWN", "\x1b[c": "RIGHT", "\x1b[d": "LEFT",
    "w": "UP", "s": "DOWN", "d": "RIGHT", "a": "LEFT",
}  # fmt: skip


def play_gridworld(opts: argparse.Namespace) -> int:
    import gymnasium as gym

    import envs  # noqa: F401  (registers the rlcourse/* ids)

    try:
        env = gym.make(opts.env, render_mode="ansi")
    except (ValueError, gym.error.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not hasattr(env.unwrapped, "P"):
        print(f"error: {opts.env} is not a gridworld (no explicit model P)", file=sys.stderr)
        return 2
    total = walk_in_text(env, opts.seed)
    print(f"return {total:g}")
    return 0


def walk_in_text(
    env: Any,
    seed: int | None = None,
    read: Callable[[str], str] | None = None,
    write: Callable[[str], Any] = print,
) -> float:
    """One episode of a gridworld walked from the terminal; its return (``q`` or end of input
    stops it early)."""
    from envs.gridworld import Action

    env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        write(env.render())
        try:
            key = (read or input)("move (arrows or w/a/s/d, then Enter; q quits): ").strip().lower()
        except EOFError:
            break
        if key == "q":
            break
        if key not in TEXT_MOVES:
            write(f"{key!r}: use the arrow keys or w/a/s/d")
            continue
        _, reward, terminated, truncated, _ = env.step(Action[TEXT_MOVES[key]])
        total += float(reward)
        done = terminated or truncated
    write(env.render())
    env.close()
    return total


def add_gridworld_parser(modes: Any) -> None:
    grid = modes.add_parser(
        "gridworld",
        help="walk a gridworld in the terminal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grid.add_argument("--env", default="rlcourse/CliffWalking-v0", help="a gridworld env id")
    grid.add_argument("--seed", type=int, default=0)
    grid.set_defaults(run=play_gridworld)


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    modes = parser.add_subparsers(dest="mode", required=True, metavar="MODE")
    add_go_parser(modes)
    add_gridworld_parser(modes)
    add_driving_parser(modes)
    opts = parser.parse_args(argv)
    return opts.run(opts)


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
