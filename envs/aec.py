"""`TwoPlayerAEC`: a PettingZoo AEC env over one of our two-agent, turn-taking Gymnasium envs
(:class:`envs.go.env.GoEnv`, :class:`envs.tictactoe.TicTacToeEnv` with no opponent).

The Gymnasium env keeps the rules, the planes, the rewards and the illegal-move rule; this
adapter only names the two agents and hands each one its side of every step, the way
PettingZoo's classic board games do:

- ``observe(agent)`` is ``{"observation": planes from that agent's point of view,
  "action_mask": int8 legal actions}``; the mask is all zeros for the agent not to move.
- After each step the mover gets the env's reward (+1 win, -1 loss, 0 draw or game going on)
  and the other agent its negation; ``infos[agent]`` is the env's ``info`` from that agent's
  side, its ``rewards`` naming the term (``outcome``). The action mask is in the observation
  only (the env's ``info["action_mask"]`` is the mover's, so it is left out).
- When the game ends both agents are terminated and must each step ``None`` once
  (``agent_iter`` hands them out), as in every AEC env. There is no truncation.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv


class TwoPlayerAEC(AECEnv[str, dict[str, np.ndarray], int]):
    """Two agents alternate on ``env``, ``possible_agents[0]`` moving first.

    Subclasses build the env and name the agents (``possible_agents``, ``metadata``) and say
    how an agent sees the position: :meth:`planes` (and, where the env's ``info`` holds more
    numbers from the mover's side, :meth:`side_info`).
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__()
        if not isinstance(env.action_space, spaces.Discrete):
            raise ValueError(f"TwoPlayerAEC needs a Discrete action space, got {env.action_space}")
        self.env = env
        self.render_mode = env.render_mode
        self.agents = list(self.possible_agents)
        # a space of its own for each agent, so that each can be seeded on its own
        self.action_spaces = {agent: copy.deepcopy(env.action_space) for agent in self.agents}
        self.observation_spaces = {
            agent: copy.deepcopy(env.observation_space) for agent in self.agents
        }
        self._legal = np.zeros(int(env.action_space.n), dtype=np.bool_)  # the mover's actions
        self.agent_selection = self.agents[0]
        self.terminations: dict[str, bool] = {}
        self.truncations: dict[str, bool] = {}
        self._cumulative_rewards: dict[str, float] = {}

    # ---------------------------------------------------------------------- hooks

    def planes(self, player: int) -> np.ndarray:
        """The observation planes of the current position from ``player``'s (0 or 1) side."""
        raise NotImplementedError

    def side_info(self, info: dict[str, Any], player: int) -> dict[str, Any]:
        """The env's ``info`` (from the mover's side) as ``player`` sees it."""
        return dict(info)

    # ---------------------------------------------------------------------- AEC API

    def observation_space(self, agent: str) -> gym.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gym.Space:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """A new game. ``options`` is accepted for the AEC signature and not used: these games
        have no reset options."""
        _, info = self.env.reset(seed=seed)
        self._start(info)

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        player = self.possible_agents.index(agent)
        to_move = agent == self.agent_selection and not self.terminations[agent]
        mask = self._legal if to_move else np.zeros_like(self._legal)
        return {"observation": self.planes(player), "action_mask": mask.astype(np.int8)}

    def step(self, action: Any) -> None:
        """The agent to move plays ``action``; a terminated agent steps ``None``."""
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        mover = self.possible_agents.index(agent)
        _, reward, terminated, _, info = self.env.step(action)
        self._cumulative_rewards[agent] = 0
        self._share(info, {agent: float(reward), self.possible_agents[1 - mover]: -float(reward)})
        self.terminations = dict.fromkeys(self.agents, bool(terminated))
        self.agent_selection = self.possible_agents[1 - mover]
        self._accumulate_rewards()

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()

    def _start(self, info: dict[str, Any]) -> None:
        """Both agents in play, ``possible_agents[0]`` to move, nothing earned yet."""
        self.agents = list(self.possible_agents)
        self.agent_selection = self.agents[0]
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self._share(info, dict.fromkeys(self.agents, 0.0))

    def _share(self, info: dict[str, Any], rewards: dict[str, float]) -> None:
        """Keep the mover's legal actions; give each agent its reward and its side of ``info``."""
        self._legal = np.asarray(info["action_mask"], dtype=bool)
        self.rewards = rewards
        self.infos = {}
        for player, name in enumerate(self.possible_agents):
            side = {key: value for key, value in info.items() if key != "action_mask"}
            side = self.side_info(side, player)
            self.infos[name] = {**side, "rewards": {"outcome": rewards[name]}}
