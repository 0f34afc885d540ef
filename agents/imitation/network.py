"""The student: encoder, optional LSTM/GRU core and categorical head, laid out like the actor
of a policy-gradient `agents.pg.policy.ActorCritic`, so PPO/A2C can start from it."""

from __future__ import annotations

import torch
from torch import nn

from agents.pg.config import RecurrentSpec
from rlcourse.nn import CategoricalPolicyHead, Hidden, ObservationEncoder, RecurrentEncoder

#: Where each part of a `PolicyNetwork` sits in an `ActorCritic` (`init_from`).
ACTOR_LAYERS = {"encoder": "actor_encoder", "core": "core", "head": "actor"}


class PolicyNetwork(nn.Module):
    """Observations [B, ...] (+ action masks [B, A]) -> masked logits [B, A]; with a
    recurrent core, sequences [B, T, ...] (+ [B, T, A]) -> [B, T, A], each from the zero
    state."""

    def __init__(
        self, encoder: ObservationEncoder, n_actions: int, recurrent: RecurrentSpec | None = None
    ):
        super().__init__()
        self.encoder = encoder
        self.core: RecurrentEncoder | None = None
        features = encoder.out_features
        if recurrent is not None:
            self.core = RecurrentEncoder(
                features, recurrent.hidden_size, recurrent.cell, recurrent.num_layers
            )
            features = self.core.out_features
        self.head = CategoricalPolicyHead(features, n_actions)

    def forward(self, obs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.run(obs, mask)[0]

    def run(
        self, obs: torch.Tensor, mask: torch.Tensor | None = None, hidden: Hidden | None = None
    ) -> tuple[torch.Tensor, Hidden | None]:
        """(masked logits, the core's state after the last step; None without a core)."""
        if self.core is None:
            return self.head.logits(self.encoder(obs), mask), None
        batch, steps = obs.shape[:2]
        features = self.encoder(obs.flatten(0, 1)).view(batch, steps, -1)
        out, hidden = self.core(features, hidden)
        return self.head.logits(out, mask), hidden

    def actor_weights(self) -> dict[str, torch.Tensor]:
        """These weights keyed as the same layers of an `ActorCritic`."""
        weights = {}
        for key, value in self.state_dict().items():
            part, rest = key.split(".", 1)
            weights[f"{ACTOR_LAYERS[part]}.{rest}"] = value
        return weights
