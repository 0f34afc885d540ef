"""Go-lite as a PettingZoo AEC env: ``black_0`` and ``white_0`` take turns on :class:`GoEnv`.

    from envs.go.pettingzoo import GoAEC
    env = GoAEC(board_size=5)
    env.reset(seed=0)
    for agent in env.agent_iter():
        observation, reward, terminated, truncated, info = env.last()
        action = None if terminated else env.action_space(agent).sample(observation["action_mask"])
        env.step(action)

The rules, planes, rewards and illegal-move rule are :class:`envs.go.env.GoEnv`'s (over the pure
rules of :mod:`envs.go.rules`); :class:`envs.aec.TwoPlayerAEC` hands each agent its side.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.aec import TwoPlayerAEC
from envs.go.env import GoEnv
from envs.go.rules import BLACK, WHITE, GoState

COLOURS = (BLACK, WHITE)  # of possible_agents, in order


class GoAEC(TwoPlayerAEC):
    """Go for two agents, ``black_0`` moving first, as PettingZoo's classic games are built.

    ## Agents
    ``black_0`` and ``white_0``.

    ## Action Space
    ``Discrete(N * N + 1)`` for each: point ``row * N + col`` (row 0 at the top), ``N * N`` to
    pass.

    ## Observation Space
    ``Dict``: ``"observation"``, :class:`GoEnv`'s planes from the observing agent's side
    (``Box(0, 1, (5 + 2 * history, N, N), float32)``), and ``"action_mask"``
    (``Box(0, 1, (N * N + 1,), int8)``), the legal actions for the agent to move and all
    zeros for the other.

    ## Rewards
    +1 to the winner and -1 to the loser when the game ends, 0 otherwise and for a draw [game
    result]. ``infos[agent]`` is :class:`GoEnv`'s ``info`` from that agent's side:
    ``score_margin`` is its area score margin [points], ``rewards`` names ``outcome``.

    ## Episode End
    Two consecutive passes, ``move_cap`` moves, or an illegal action with
    ``illegal_move="lose"`` (the mover loses); no truncation.

    ## Arguments
    Those of :class:`GoEnv`: ``board_size``, ``komi``, ``illegal_move`` (``"raise"`` or
    ``"lose"``), ``history``, ``move_cap``, ``render_mode`` (``"human"``, ``"rgb_array"``,
    ``"ansi"``).

    ## Version History
    - v0: Initial version.
    """

    metadata = {  # noqa: RUF012
        "name": "rlcourse_go_v0",
        "render_modes": GoEnv.metadata["render_modes"],
        "render_fps": GoEnv.metadata["render_fps"],
        "is_parallelizable": False,
    }
    possible_agents = ["black_0", "white_0"]  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        self.go = GoEnv(**kwargs)
        super().__init__(self.go)

    @property
    def position(self) -> GoState:
        """The current position (AECEnv's ``state()`` is another thing: a global observation)."""
        return self.go.state

    def planes(self, player: int) -> np.ndarray:
        return self.go.observation(COLOURS[player])["observation"]

    def side_info(self, info: dict[str, Any], player: int) -> dict[str, Any]:
        score = info["score"]
        return {**info, "score_margin": score if COLOURS[player] == BLACK else -score}


def env(**kwargs: Any) -> GoAEC:
    """:class:`GoAEC` with ``kwargs`` (PettingZoo's ``env()`` convention)."""
    return GoAEC(**kwargs)
