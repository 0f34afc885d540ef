"""The AlphaZero policy-value network: a residual tower with a policy head and a value head,
and optionally KataGo's auxiliary ownership and score heads (Wu 2019).

Heads as in Silver et al. (2017), with 2 and 1 channels by default: policy ``conv 1x1
(policy_channels) -> BN -> ReLU -> linear`` to one logit per action (board points, then pass
where the game has one); value ``conv 1x1 (value_channels) -> BN -> ReLU -> linear -> ReLU ->
linear -> tanh`` to a value in [-1, 1] for the player to move.

Auxiliary heads (``network.ownership_head``, ``network.score_head``), trained by the learner
and never used to act: ownership ``conv 1x1 (1 channel)``, one logit ``x`` per point, ``tanh(x)``
the predicted final ownership for the player to move (+1 theirs, -1 the opponent's); score like
the value head without the tanh, the final margin for the player to move divided by the board
area. ``forward`` gives policy and value only, so search and play see the usual pair;
:meth:`PolicyValueNet.predict` gives every head.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from agents.alphazero.config import AlphaZeroConfig, NetworkConfig
from agents.alphazero.games import make_game
from rlcourse.nn import MLP, ResNetTower, ValueHead, init_module

#: torch's default scale for linear and conv weights (uniform in +-1/sqrt(fan_in)) as a He gain
TORCH_DEFAULT_GAIN = 3**-0.5


def _conv_head(filters: int, channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(filters, channels, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
        nn.Flatten(),
    )  # fmt: skip


class Prediction(NamedTuple):
    """Every head's output for a batch of planes, each for the player to move."""

    logits: torch.Tensor  # [B, num_actions] policy logits
    values: torch.Tensor  # [B] in [-1, 1]
    ownership_logits: torch.Tensor | None  # [B, H * W]: tanh gives the ownership (no head: None)
    score: torch.Tensor | None  # [B] final margin / board area (no head: None)


class PolicyValueNet(nn.Module):
    """planes [B, C, N, N] -> (policy logits [B, num_actions], values [B] in [-1, 1]); with
    the config's auxiliary heads, :meth:`predict` adds ownership and score."""

    def __init__(
        self,
        planes_shape: tuple[int, int, int],
        num_actions: int,
        config: NetworkConfig | None = None,
    ) -> None:
        super().__init__()
        cfg = config or NetworkConfig()
        channels, height, width = planes_shape
        self.planes_shape, self.num_actions = tuple(planes_shape), num_actions
        self.tower = ResNetTower(channels, cfg.filters, cfg.blocks)
        points = height * width
        self.policy = nn.Sequential(
            _conv_head(cfg.filters, cfg.policy_channels),
            MLP(cfg.policy_channels * points, (), num_actions),
        )
        self.value = nn.Sequential(
            _conv_head(cfg.filters, cfg.value_channels),
            ValueHead(cfg.value_channels * points, hidden=(cfg.value_hidden,)),
        )
        # registered after the others, so a seed draws the same policy and value weights
        self.ownership = (
            nn.Sequential(nn.Conv2d(cfg.filters, 1, 1), nn.Flatten()) if cfg.ownership_head
            else None
        )  # fmt: skip
        self.score = (
            nn.Sequential(
                _conv_head(cfg.filters, cfg.value_channels),
                ValueHead(cfg.value_channels * points, hidden=(cfg.value_hidden,)),
            )
            if cfg.score_head
            else None
        )

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self._features(planes)
        return self.policy(features), torch.tanh(self.value(features))

    def predict(self, planes: torch.Tensor) -> Prediction:
        """Policy, value and the auxiliary heads (None where the network has none)."""
        features = self._features(planes)
        return Prediction(
            self.policy(features),
            torch.tanh(self.value(features)),
            None if self.ownership is None else self.ownership(features),
            None if self.score is None else self.score(features),
        )

    def _features(self, planes: torch.Tensor) -> torch.Tensor:
        if tuple(planes.shape[1:]) != self.planes_shape:
            raise ValueError(
                f"planes must have shape [B, {', '.join(map(str, self.planes_shape))}], "
                f"got {list(planes.shape)}"
            )
        return self.tower(planes)


def net_for(config: AlphaZeroConfig, seed: int = 0) -> PolicyValueNet:
    """A new network for ``config``'s game, in eval mode. Its weights are drawn from a
    ``torch.Generator`` seeded with ``seed`` (uniform in +-1/sqrt(fan_in), biases zero), so the
    same seed gives the same network and torch's global random state is left as it was."""
    game = make_game(config.game)
    planes_shape = tuple(game.planes(game.initial_state()).shape)
    with torch.random.fork_rng(devices=[]):  # the layers' own initial draws, replaced below
        net = PolicyValueNet(planes_shape, game.num_actions, config.network)
    generator = torch.Generator().manual_seed(seed)
    init_module(net, "kaiming_uniform", TORCH_DEFAULT_GAIN, generator=generator)  # in place
    return net.eval()


def torch_device(config: AlphaZeroConfig) -> torch.device:
    """The device of ``distributed.device``; a clear error when cuda is asked for but absent."""
    name = config.distributed.device
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("agent.distributed.device is cuda but torch sees no CUDA device")
    return torch.device(name)
