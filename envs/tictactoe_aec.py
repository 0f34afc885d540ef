"""Tic-tac-toe as a PettingZoo AEC env: ``player_0`` (X) and ``player_1`` (O) take turns on
:class:`envs.tictactoe.TicTacToeEnv` with no built-in opponent.

    from envs.tictactoe_aec import TicTacToeAEC
    env = TicTacToeAEC()
    env.reset(seed=0)
    for agent in env.agent_iter():
        observation, reward, terminated, truncated, info = env.last()
        action = None if terminated else env.action_space(agent).sample(observation["action_mask"])
        env.step(action)

The rules, planes, rewards and illegal-move rule are the Gymnasium env's (over the game of
:class:`envs.tictactoe.TicTacToe`); :class:`envs.aec.TwoPlayerAEC` hands each agent its side.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.aec import TwoPlayerAEC
from envs.tictactoe import TicTacToeEnv, TicTacToeState


class TicTacToeAEC(TwoPlayerAEC):
    """Tic-tac-toe for two agents, ``player_0`` (X) moving first.

    ## Agents
    ``player_0`` (X) and ``player_1`` (O), the players 0 and 1 of :class:`TicTacToe`.

    ## Action Space
    ``Discrete(9)`` for each: the cell ``row * 3 + col`` to mark (row 0 at the top).

    ## Observation Space
    ``Dict``: ``"observation"``, ``Box(0, 1, (3, 3, 3), float32)`` planes from the observing
    agent's side (own marks, opponent marks, ones when it plays X), and ``"action_mask"``,
    ``Box(0, 1, (9,), int8)``: the empty cells for the agent to move, all zeros for the other.

    ## Rewards
    +1 to the winner and -1 to the loser when the game ends, 0 otherwise and for a draw [game
    result]; ``infos[agent]["rewards"]`` names the term ``outcome``.

    ## Episode End
    Three in a row, a full board, or an illegal action with ``illegal_move="lose"`` (the mover
    loses); no truncation.

    ## Arguments
    ``illegal_move`` (``"raise"`` or ``"lose"``) and ``render_mode`` (``None`` or ``"ansi"``),
    as :class:`TicTacToeEnv` takes them.

    ## Version History
    - v0: Initial version.
    """

    metadata = {  # noqa: RUF012
        "name": "rlcourse_tictactoe_v0",
        "render_modes": TicTacToeEnv.metadata["render_modes"],
        "render_fps": TicTacToeEnv.metadata["render_fps"],
        "is_parallelizable": False,
    }
    possible_agents = ["player_0", "player_1"]  # noqa: RUF012

    def __init__(self, illegal_move: str = "raise", render_mode: str | None = None) -> None:
        self.board = TicTacToeEnv(opponent=None, illegal_move=illegal_move, render_mode=render_mode)
        super().__init__(self.board)

    @property
    def position(self) -> TicTacToeState:
        """The current position (AECEnv's ``state()`` is another thing: a global observation)."""
        return self.board.state

    def planes(self, player: int) -> np.ndarray:
        # the game's planes are the mover's: seen as if ``player`` were to move
        return self.board.game.planes(self.position._replace(to_play=player))


def env(**kwargs: Any) -> TicTacToeAEC:
    """:class:`TicTacToeAEC` with ``kwargs`` (PettingZoo's ``env()`` convention)."""
    return TicTacToeAEC(**kwargs)
