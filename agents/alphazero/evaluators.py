"""Leaf evaluators for MCTS: random rollouts (plain MCTS) and a policy-value network.

Both follow :class:`agents.alphazero.mcts.Evaluator`: ``evaluate(states)`` returns priors
[B, num_actions] and values [B] in [-1, 1] for each state's player to move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from agents.alphazero.network import PolicyValueNet
from rlcourse.games import FastPlayouts, Game

Playout = Callable[[Any, int], tuple[float, float]]  # (state, seed) -> (player 0, player 1) returns


def protocol_playout(game: Game) -> Playout:
    """Random playouts through the game protocol: uniformly random legal actions to the end."""

    def playout(state: Any, seed: int) -> tuple[float, float]:
        rng = np.random.default_rng(seed)
        while not game.is_terminal(state):
            legal = np.flatnonzero(game.legal_actions(state))
            state = game.apply(state, int(legal[rng.integers(len(legal))]))
        return game.returns(state)

    return playout


class RolloutEvaluator:
    """Uniform priors and the mean return of ``rollouts`` random playouts.

    A game with its own playouts (:class:`rlcourse.games.FastPlayouts`; Go: in C, random moves
    that never fill the mover's own eyes) plays out through them; other games through the
    protocol. Playout ``k`` of the evaluator uses seed ``seed * 2**32 + k``, so the
    same seed gives the same search.
    """

    def __init__(self, game: Game, rollouts: int = 1, seed: int = 0) -> None:
        if rollouts < 1:
            raise ValueError(f"rollouts must be at least 1, got {rollouts}")
        self.game, self.rollouts = game, rollouts
        self.playout: Playout = (
            game.playout if isinstance(game, FastPlayouts) else protocol_playout(game)
        )
        self._next_seed = seed * 2**32
        self._uniform = np.full(game.num_actions, 1.0 / game.num_actions)

    def evaluate(self, states: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        game = self.game
        priors = np.broadcast_to(self._uniform, (len(states), game.num_actions))
        values = np.empty(len(states))
        for b, state in enumerate(states):
            player, total = game.current_player(state), 0.0
            for _ in range(self.rollouts):
                total += self.playout(state, self._next_seed)[player]
                self._next_seed += 1
            values[b] = total / self.rollouts
        return priors, values


class NeuralEvaluator:
    """Priors and values from a policy-value network ``net(planes [B, C, H, W]) -> (logits
    [B, num_actions], values [B])``, one forward pass per call; illegal actions get no prior.

    With ``score_utility`` w > 0 (KataGo's score utility; the net needs a score head,
    :meth:`agents.alphazero.network.PolicyValueNet.predict`) a value becomes ``clip(value + w *
    tanh(score / score_scale), -1, 1)``, the score being the predicted margin / board area, so
    that a search prefers the larger win. Terminal positions keep their exact returns.
    """

    def __init__(
        self,
        game: Game,
        net: torch.nn.Module,
        device: str | torch.device | None = None,
        score_utility: float = 0.0,
        score_scale: float = 0.2,
    ) -> None:
        """``device``: where the planes go; by default the device of the net's parameters."""
        if device is None:
            device = next(net.parameters()).device
        self.scored: PolicyValueNet | None = None  # the net, when its score enters the values
        if score_utility:
            if not isinstance(net, PolicyValueNet) or net.score is None:
                raise ValueError("score_utility needs a network with a score head (score_head)")
            self.scored = net
        if score_scale <= 0:
            raise ValueError(f"score_scale must be positive, got {score_scale}")
        self.game, self.net, self.device = game, net, torch.device(device)
        self.score_utility, self.score_scale = score_utility, score_scale

    def evaluate(self, states: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        game = self.game
        planes = np.stack([game.planes(s) for s in states])
        legal = np.stack([game.legal_actions(s) for s in states])
        if self.net.training:  # BatchNorm must use its running statistics in search
            self.net.eval()
        with torch.inference_mode():
            x = torch.from_numpy(planes).to(self.device)
            if self.scored is not None:
                logits, values, _, score = self.scored.predict(x)
                assert score is not None  # a score head, checked when built
                utility = self.score_utility * torch.tanh(score / self.score_scale)
                values = (values + utility).clamp(-1.0, 1.0)
            else:
                logits, values = self.net(x)
            logits = logits.masked_fill(~torch.from_numpy(legal).to(self.device), -torch.inf)
            priors = torch.softmax(logits, dim=-1)
        return priors.cpu().numpy(), values.cpu().numpy()
