"""Go opponents: :class:`AgainstOpponent`, the wrapper that lets one agent play
:class:`envs.go.env.GoEnv` against a built-in, callable or GTP opponent, and :class:`GtpPlayer`
(GNU Go or any GTP engine) as a player of :class:`GoState` positions.

A player is ``player(state) -> move`` (or :data:`rlcourse.games.RESIGN`), as arenas take them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from envs.checks import check_choice
from envs.go.env import GoEnv
from envs.go.gtp import GtpClient, RandomPolicy
from envs.go.rules import BLACK, COLOUR_NAMES, WHITE, GoState
from rlcourse.games import RESIGN

GNUGO = "/usr/games/gnugo --mode gtp --chinese-rules --positional-superko --capture-all-dead"
AGENT_COLOURS = {"black": BLACK, "white": WHITE, "random": None, "alternate": None}

Move = int | str  # a move index, RESIGN, or "resign"
Policy = Callable[[GoState], Move]
Step = tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]


class GtpPlayer:
    """A GTP engine as a player of Go-lite positions that start from an empty board: the moves
    it has not seen yet are sent before each ``genmove`` (a new game clears its board)."""

    def __init__(self, command: str, board_size: int, komi: float) -> None:
        self.client = GtpClient(command)
        self.size, self.komi = board_size, komi
        self.sent: list[int] = []
        self._new_game()

    def _new_game(self) -> None:
        self.client.boardsize(self.size)
        self.client.komi(self.komi)
        self.client.clear_board()
        self.sent = []

    def __call__(self, state: GoState) -> int:
        moves = list(state.moves)
        if moves[: len(self.sent)] != self.sent:
            self._new_game()
        for k in range(len(self.sent), len(moves)):
            self.client.play(BLACK if k % 2 == 0 else WHITE, moves[k], self.size)
        self.sent = moves
        answer = self.client.genmove(state.to_play, self.size)
        if answer == "resign":
            return RESIGN
        self.sent = [*moves, int(answer)]
        return int(answer)

    def close(self) -> None:
        self.client.close()


class GnuGoPlayer(GtpPlayer):
    """GNU Go at ``level`` (0-10) over GTP, with Chinese rules and positional superko."""

    def __init__(self, board_size: int, komi: float, level: int = 10, command: str = GNUGO):
        super().__init__(f"{command} --level {level}", board_size, komi)


class AgainstOpponent(gym.Wrapper):
    """:class:`GoEnv` for one agent: the opponent plays the other colour.

    ``opponent``: ``"random"`` (uniformly random legal moves, never filling its own
    single-point eyes, passing when nothing else is left; draws from the env's ``np_random``),
    a callable ``(GoState) -> move, RESIGN or "resign"``, or a GTP engine command such as
    ``"/usr/games/gnugo --mode gtp --level 1 --chinese-rules"`` (started at the first reset).
    ``agent_colour``: ``"black"``, ``"white"``, ``"random"`` (drawn at each reset) or
    ``"alternate"`` (black in the first game, white in the second, ...). An opponent's illegal
    move is judged by the env's ``illegal_move`` rule.

    Observations are from the agent's side, rewards and ``info["score_margin"]`` too; after
    ``reset`` against an opponent playing black, its first move is on the board. ``info`` adds
    ``agent_colour`` and ``opponent_move`` (None when it has not moved).
    """

    def __init__(self, env: gym.Env, opponent: str | Policy, agent_colour: str = "black"):
        super().__init__(env)
        check_choice("agent_colour", agent_colour, AGENT_COLOURS)
        if not (callable(opponent) or isinstance(opponent, str)):
            raise ValueError(
                f"opponent must be 'random', a callable policy or a GTP command, got {opponent!r}"
            )
        go = env.unwrapped
        if not isinstance(go, GoEnv):
            raise TypeError(f"AgainstOpponent wraps a GoEnv, got a {type(go).__name__}")
        self.go = go
        labels = (*env.metadata.get("info_labels", ()), "opponent_move")
        self.metadata = {**env.metadata, "side_key": "agent_colour", "info_labels": labels}
        self.opponent = opponent
        self.agent_colour_choice = agent_colour
        self.agent_colour = AGENT_COLOURS[agent_colour] or BLACK
        self.games = 0  # resets so far
        self._gtp: GtpPlayer | None = None

    def reset(self, **kwargs: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self.games += 1
        if self.agent_colour_choice == "alternate":  # black in games 1, 3, ...
            self.agent_colour = BLACK if self.games % 2 else WHITE
        elif self.agent_colour_choice == "random":
            self.agent_colour = int(self.np_random.choice([BLACK, WHITE]))
        else:
            self.agent_colour = BLACK if self.agent_colour_choice == "black" else WHITE
        move, reward = None, 0.0
        if self.agent_colour == WHITE:
            move, (obs, opponent_reward, _, _, info) = self._opponent_turn()
            reward = -opponent_reward  # nonzero only when its first move ends the game
        obs, _, info = self._agent_side(obs, reward, info, move)
        return obs, info

    def step(self, action: Any) -> Step:
        obs, reward, terminated, truncated, info = self.env.step(action)
        move = None
        if not terminated:
            move, (obs, opponent_reward, terminated, truncated, info) = self._opponent_turn()
            reward = -opponent_reward
        obs, outcome, info = self._agent_side(obs, float(reward), info, move)
        return obs, outcome, terminated, truncated, info

    def close(self) -> None:
        if self._gtp is not None:
            self._gtp.close()
            self._gtp = None
        super().close()

    def _opponent_turn(self) -> tuple[Move, Step]:
        """The opponent (to play) moves; its move and the env's answer."""
        move = self._policy()(self.go.state)
        if move == "resign" or move == RESIGN:
            return "resign", self.go.resign()
        if isinstance(move, str):
            raise ValueError(f"opponent returned {move!r}: expected a move index or 'resign'")
        return int(move), self.go.step(int(move))

    def _policy(self) -> Policy:
        if callable(self.opponent):
            return self.opponent
        if self.opponent == "random":
            return RandomPolicy(self.np_random)  # draws from the env's np_random itself
        if self._gtp is None:
            self._gtp = GtpPlayer(self.opponent, self.go.board_size, self.go.komi)
        return self._gtp

    def _agent_side(
        self, obs: dict[str, np.ndarray], reward: float, info: dict[str, Any], move: Move | None
    ) -> tuple[dict[str, np.ndarray], float, dict[str, Any]]:
        """Observation, reward and info from the agent's side."""
        if self.go.state.to_play != self.agent_colour:  # the game ended on the agent's move
            obs = self.go.observation(self.agent_colour)
        score = info["score"]
        info = {**info, "score_margin": score if self.agent_colour == BLACK else -score,
                "rewards": {"outcome": reward}, "agent_colour": COLOUR_NAMES[self.agent_colour],
                "opponent_move": move}  # fmt: skip
        return obs, reward, info


def make_go_env(
    opponent: str | Policy | None = None, agent_colour: str = "black", **kwargs: Any
) -> gym.Env:
    """``rlcourse/Go-v0``: :class:`GoEnv` with ``kwargs``, for two agents in turn, or wrapped
    in :class:`AgainstOpponent` when an ``opponent`` is named."""
    if opponent is None:
        if agent_colour != "black":
            raise ValueError(
                f"agent_colour={agent_colour!r} needs an opponent: with none, two agents take turns"
            )
        return GoEnv(**kwargs)
    return AgainstOpponent(GoEnv(**kwargs), opponent, agent_colour)
