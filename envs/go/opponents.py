"""Go opponents as players of :class:`GoState` positions: GNU Go over GTP.

A player is ``player(state) -> move`` (or :data:`rlcourse.games.RESIGN`), as arenas take them.
"""

from __future__ import annotations

from envs.go.gtp import GtpClient
from envs.go.rules import BLACK, WHITE, GoState
from rlcourse.games import RESIGN

GNUGO = "/usr/games/gnugo --mode gtp --chinese-rules --positional-superko --capture-all-dead"


class GnuGoPlayer:
    """GNU Go over GTP as a player of Go-lite positions that start from an empty board: the
    moves it has not seen yet are sent before each ``genmove`` (a new game clears its board)."""

    def __init__(self, board_size: int, komi: float, level: int = 10, command: str = GNUGO):
        self.client = GtpClient(f"{command} --level {level}")
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
