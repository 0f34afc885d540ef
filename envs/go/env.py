"""`GoEnv` (``rlcourse/Go-v0``): Go-lite as a Gymnasium env, a thin adapter over the pure rules
in :mod:`envs.go.rules` in which two agents take turns (as in pgx). To play against a built-in,
callable or GTP opponent, wrap it in :class:`envs.go.opponents.AgainstOpponent`, which
``gym.make("rlcourse/Go-v0", opponent=...)`` does."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.checks import check_choice
from envs.go.rules import BLACK, GoState

ILLEGAL_MOVE_RULES = ("raise", "lose")


class GoEnv(gym.Env):
    """Go on a 5x5 to 19x19 board with area scoring, positional superko and komi.

    ## Action Space
    ``Discrete(N * N + 1)``: point ``row * N + col`` (row 0 at the top), and ``N * N`` to pass.

    ## Observation Space
    ``Dict``:

    - ``"observation"``: ``Box(0, 1, (5 + 2 * history, N, N), float32)`` planes from the
      point of view of the player to move: own stones,
      opponent stones, empty points, legal moves, own colour (all ones for black), then own and
      opponent stones of each of the last ``history`` positions.
    - ``"action_mask"``: ``Box(0, 1, (N * N + 1,), int8)``, 1 for legal actions (also in
      ``info["action_mask"]`` as bool).

    ## Rewards
    0 until the game ends, then +1 for a win, -1 for a loss and 0 for a draw [game result],
    from the point of view of the player who acted. ``info["rewards"]`` names the single term
    ``outcome``. ``info["score"]`` is the Tromp-Taylor score (black area - white area - komi)
    and ``info["score_margin"]`` the same from the acting player's side [points].

    ## Starting State
    An empty board, black to move.

    ## Episode End
    Termination: two consecutive passes, a resignation (:meth:`resign`), ``move_cap`` moves
    played, or an illegal action with ``illegal_move="lose"`` (the mover loses;
    ``info["illegal_move"]`` is True). No truncation.

    ## Arguments
    - ``board_size``: 5..19 [points]; ``komi``: points added to white's area.
    - ``illegal_move``: ``"raise"`` (:class:`envs.go.rules.IllegalMoveError`) or ``"lose"``.
    - ``history``: past positions in the observation; ``move_cap``: default ``2 * N * N``.
    - ``render_mode``: ``None``, ``"human"``, ``"rgb_array"`` or ``"ansi"``.

    ``info`` also holds ``to_play``, ``move_number`` and, once the game has ended, ``winner``
    (BLACK, WHITE, or EMPTY for a draw; absent before, so that vector envs can stack infos).
    ``metadata`` declares the game to evaluators (`rlcourse.evaluation`): two players,
    returns in [-1, 1], and ``to_play``/``winner`` as labels, not measures.

    ## Version History
    - v0: Initial version (``opponent`` and ``agent_colour`` now go to the
      :class:`envs.go.opponents.AgainstOpponent` wrapper that ``gym.make`` adds).
    """

    metadata = {  # noqa: RUF012 (gymnasium.Env API)
        "render_modes": ["human", "rgb_array", "ansi"], "render_fps": 4,
        "players": 2, "return_range": (-1.0, 1.0), "info_labels": ("to_play", "winner"),
    }  # fmt: skip

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        illegal_move: str = "raise",
        history: int = 3,
        move_cap: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        check_choice("illegal_move", illegal_move, ILLEGAL_MOVE_RULES)
        check_choice("render_mode", render_mode, self.metadata["render_modes"], optional=True)
        if history < 0:
            raise ValueError(f"history must be >= 0, got {history}")
        self.start = GoState.new(board_size, komi, move_cap)  # validates size, komi, move cap
        self.board_size = board_size
        self.komi = komi
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
        self._illegal = False  # the game ended on an illegal move
        self._renderer: Any = None

    # ------------------------------------------------------------------------ gym API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        if options:
            raise ValueError(f"GoEnv.reset takes no options, got {sorted(options)}")
        self.state = self.start
        self._illegal = False
        if self.render_mode == "human":
            self.render()
        info = self._info(self.state.to_play)
        return self.observation(self.state.to_play, info["action_mask"]), info

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """The player to move plays ``action`` (a point, or ``N * N`` to pass)."""
        self._check_not_over("step")
        move = int(action)
        if self.illegal_move == "lose" and not self.state.is_legal(move):
            self._illegal = True
            return self._moved(self.state.resign())
        return self._moved(self.state.play(move))  # raises IllegalMoveError naming why

    def resign(self) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """The player to move resigns: the same outcome as :meth:`step` (reward -1)."""
        self._check_not_over("resign")
        return self._moved(self.state.resign())

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
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # ------------------------------------------------------------------ observations

    def observation(self, colour: int, mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The observation from ``colour``'s point of view (BLACK or WHITE); ``mask`` is the
        position's legal mask when the caller has it already."""
        legal = self.state.legal_mask() if mask is None else mask
        return {
            "observation": self.state.planes(self.history, colour),
            "action_mask": legal.astype(np.int8),
        }

    def _check_not_over(self, call: str) -> None:
        if self.state.is_terminal:
            raise RuntimeError(f"{call}() called on a finished game; call reset()")

    def _moved(self, state: GoState) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        mover = self.state.to_play
        self.state = state
        if self.render_mode == "human":
            self.render()
        info = self._info(mover)
        reward = info["rewards"]["outcome"]
        observation = self.observation(state.to_play, info["action_mask"])
        return observation, reward, state.is_terminal, False, info

    def _info(self, perspective: int) -> dict[str, Any]:
        """Scalars of the position; reward and margin from ``perspective``'s side."""
        state = self.state
        score = state.score()
        winner = state.winner
        outcome = 0.0 if not winner else (1.0 if winner == perspective else -1.0)
        info = {
            "action_mask": state.legal_mask(),
            "to_play": state.to_play,
            "move_number": state.move_number,
            "score": score,
            "score_margin": score if perspective == BLACK else -score,
            "illegal_move": self._illegal,
            "rewards": {"outcome": outcome},
        }
        if winner is not None:
            info["winner"] = winner
        return info
