"""`GoEnv` (``rlcourse/Go-v0``): Go-lite as a Gymnasium env over the pure rules in
:mod:`envs.go.rules`, against a built-in, callable or GTP opponent, or two agents in turn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.checks import check_choice
from envs.go.rules import BLACK, COLOUR_NAMES, WHITE, GoState

Move = int | str  # a move index, or "resign"
Policy = Callable[[GoState], Move]
AGENT_COLOURS = {"black": BLACK, "white": WHITE, "random": None}
ILLEGAL_MOVE_RULES = ("raise", "lose")


class GoEnv(gym.Env):
    """Go on a 5x5 to 19x19 board with area scoring, positional superko and komi.

    ## Action Space
    ``Discrete(N * N + 1)``: point ``row * N + col`` (row 0 at the top), and ``N * N`` to pass.

    ## Observation Space
    ``Dict``:

    - ``"observation"``: ``Box(0, 1, (5 + 2 * history, N, N), float32)`` planes from the
      agent's point of view (the player to move when two agents take turns): own stones,
      opponent stones, empty points, legal moves, own colour (all ones for black), then own and
      opponent stones of each of the last ``history`` positions.
    - ``"action_mask"``: ``Box(0, 1, (N * N + 1,), int8)``, 1 for legal actions (also in
      ``info["action_mask"]`` as bool).

    ## Rewards
    0 until the game ends, then +1 for a win, -1 for a loss and 0 for a draw [game result],
    from the agent's point of view; with two agents, from the point of view of the player who
    acted. ``info["rewards"]`` names the single term ``outcome``. ``info["score"]`` is the
    Tromp-Taylor score (black area - white area - komi) and ``info["score_margin"]`` the same
    from the agent's (or acting player's) side [points].

    ## Starting State
    An empty board, black to move. Against an opponent that plays black, the opponent's first
    move is already on the board after ``reset``.

    ## Episode End
    Termination: two consecutive passes, a resignation (a GTP or callable opponent may
    resign), ``move_cap`` moves played, or an illegal action with ``illegal_move="lose"`` (the
    mover loses; ``info["illegal_move"]`` is True). No truncation.

    ## Arguments
    - ``board_size``: 5..19 [points]; ``komi``: points added to white's area.
    - ``opponent``: ``None`` (two agents take turns), ``"random"`` (uniformly random legal
      moves, never filling its own single-point eyes; passes when nothing else is left; draws
      from ``self.np_random``), a callable ``(GoState) -> move or "resign"``, or a GTP engine
      command such as ``"/usr/games/gnugo --mode gtp --level 1 --chinese-rules"``.
    - ``agent_colour``: ``"black"``, ``"white"`` or ``"random"`` (drawn at each reset).
    - ``illegal_move``: ``"raise"`` (:class:`envs.go.rules.IllegalMoveError`) or ``"lose"``.
      An opponent's illegal move is judged by the same rule.
    - ``history``: past positions in the observation; ``move_cap``: default ``2 * N * N``.
    - ``render_mode``: ``None``, ``"human"``, ``"rgb_array"`` or ``"ansi"``.

    ``info`` also holds ``to_play``, ``move_number``, ``winner`` (None until the end) and,
    against an opponent, ``agent_colour`` and ``opponent_move``.

    ## Version History
    - v0: Initial version.
    """

    metadata = {"render_modes": ["human", "rgb_array", "ansi"], "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        opponent: str | Policy | None = None,
        agent_colour: str = "black",
        illegal_move: str = "raise",
        history: int = 3,
        move_cap: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        check_choice("agent_colour", agent_colour, AGENT_COLOURS)
        check_choice("illegal_move", illegal_move, ILLEGAL_MOVE_RULES)
        check_choice("render_mode", render_mode, self.metadata["render_modes"], optional=True)
        if history < 0:
            raise ValueError(f"history must be >= 0, got {history}")
        if not (opponent is None or callable(opponent) or isinstance(opponent, str)):
            raise ValueError(
                "opponent must be None, 'random', a callable policy or a GTP command, "
                f"got {opponent!r}"
            )
        self.start = GoState.new(board_size, komi, move_cap)  # validates size, komi, move cap
        self.board_size = board_size
        self.komi = komi
        self.opponent = opponent
        self.agent_colour_choice = agent_colour
        self.illegal_move = illegal_move
        self.history = history
        self.render_mode = render_mode

        n = board_size
        self.action_space = spaces.Discrete(n * n + 1)
        self.observation_space = spaces.Dict(
            {
                "observation": spaces.Box(0.0, 1.0, (5 + 2 * history, n, n), np.float32),
                "action_mask": spaces.Box(0, 1, (n * n + 1,), np.int8),
            }
        )
        self.state = self.start
        self.agent_colour = AGENT_COLOURS[agent_colour] or BLACK
        self._illegal = False  # the game ended on an illegal move
        self._policy: Policy | None = opponent if callable(opponent) else None
        self._gtp_command = opponent if isinstance(opponent, str) and opponent != "random" else None
        self._gtp: Any = None  # envs.go.gtp.GtpClient, started on first reset
        self._renderer: Any = None

    # ------------------------------------------------------------------------ gym API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        if options:
            raise ValueError(f"GoEnv.reset takes no options, got {sorted(options)}")
        choice = AGENT_COLOURS[self.agent_colour_choice]
        self.agent_colour = (
            choice if choice is not None else int(self.np_random.choice([BLACK, WHITE]))
        )
        self.state = self.start
        self._illegal = False
        if self._gtp_command is not None:
            self._gtp_start(self._gtp_command)
        opponent_move: Move | None = None
        if self.opponent is not None and self.agent_colour == WHITE:
            opponent_move = self._opponent_turn()
        if self.render_mode == "human":
            self.render()
        return self._observation(), self._info(self._perspective(None), opponent_move)

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if self.state.is_terminal:
            raise RuntimeError("step() called on a finished game; call reset()")
        mover = self.state.to_play
        move = int(action)
        if self.illegal_move == "lose" and not self.state.is_legal(move):
            self._illegal = True
            self.state = self.state.resign()
        else:
            self.state = self.state.play(move)
            if self._gtp is not None:
                self._gtp.play(mover, move, self.board_size)
        opponent_move: Move | None = None
        if self.opponent is not None and not self.state.is_terminal:
            opponent_move = self._opponent_turn()
        perspective = self._perspective(mover)
        reward = self._outcome(perspective)
        if self.render_mode == "human":
            self.render()
        info = self._info(perspective, opponent_move)
        return self._observation(), reward, self.state.is_terminal, False, info

    def render(self) -> Any:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to the env")
            return None
        if self.render_mode == "ansi":
            return str(self.state)
        if self._renderer is None:
            from envs.go.rendering import GoRenderer

            self._renderer = GoRenderer(self.board_size, fps=self.metadata["render_fps"])
        if self.render_mode == "rgb_array":
            return self._renderer.frame(self.state)
        self._renderer.show(self.state)
        return None

    def close(self) -> None:
        if self._gtp is not None:
            self._gtp.close()
            self._gtp = None
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # ---------------------------------------------------------------------- opponent

    def _gtp_start(self, command: str) -> None:
        if self._gtp is None:
            from envs.go.gtp import GtpClient

            self._gtp = GtpClient(command)
        self._gtp.boardsize(self.board_size)
        self._gtp.clear_board()
        self._gtp.komi(self.komi)

    def _opponent_turn(self) -> Move:
        """Let the opponent move (it is to play); returns its move or "resign"."""
        state = self.state
        move: Move
        if self._policy is not None:
            move = self._policy(state)
        elif self._gtp is not None:
            move = self._gtp.genmove(state.to_play, self.board_size)
        else:
            move = self._random_move(state)
        if move == "resign":
            self.state = state.resign()
            return move
        if isinstance(move, str) or not state.is_legal(int(move)):
            if self.illegal_move == "raise":
                if isinstance(move, str):
                    raise ValueError(
                        f"opponent returned {move!r}: expected a move index or 'resign'"
                    )
                state.play(int(move))  # raises IllegalMoveError naming the move and why
            self._illegal = True
            self.state = state.resign()
            return move
        self.state = state.play(int(move))
        return int(move)

    def _random_move(self, state: GoState) -> int:
        from envs.go.gtp import RandomPolicy

        return RandomPolicy(self.np_random)(state)  # draws from self.np_random itself

    # ------------------------------------------------------------------ observations

    def _perspective(self, mover: int | None) -> int:
        """Whose point of view rewards and margins take: the agent's against an opponent,
        else the player who just acted (or is to act, at reset)."""
        if self.opponent is not None:
            return self.agent_colour
        return mover if mover is not None else self.state.to_play

    def _outcome(self, colour: int) -> float:
        winner = self.state.winner
        if winner is None or winner == 0:
            return 0.0
        return 1.0 if winner == colour else -1.0

    def _observation(self) -> dict[str, np.ndarray]:
        colour = self.agent_colour if self.opponent is not None else self.state.to_play
        return {
            "observation": self.state.planes(self.history, colour),
            "action_mask": self.state.legal_mask().astype(np.int8),
        }

    def _info(self, perspective: int, opponent_move: Move | None) -> dict[str, Any]:
        state = self.state
        score = state.score()
        outcome = self._outcome(perspective)
        info: dict[str, Any] = {
            "action_mask": state.legal_mask(),
            "to_play": state.to_play,
            "move_number": state.move_number,
            "score": score,
            "score_margin": score if perspective == BLACK else -score,
            "winner": state.winner,
            "illegal_move": self._illegal,
            "rewards": {"outcome": outcome},
        }
        if self.opponent is not None:
            info["agent_colour"] = COLOUR_NAMES[self.agent_colour]
            info["opponent_move"] = opponent_move
        return info
