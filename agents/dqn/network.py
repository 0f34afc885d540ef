"""The Q network: an observation encoder from `rlcourse.nn` and the head the switches ask for."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.dqn.config import DQNConfig
from rlcourse.nn import (
    DistributionalHead,
    DuelingHead,
    HandChain,
    QHead,
    build_encoder,
    dueling_combine,
    layers_of,
    reset_noise,
    run_layers,
)


class QNetwork(nn.Module):
    """Observations [B, ...] -> Q values [B, A], or log-probabilities [B, A, Z] with C51."""

    def __init__(
        self,
        config: DQNConfig,
        observation_space: gym.Space,
        n_actions: int,
        generator: torch.Generator,
    ):
        super().__init__()
        self.encoder = build_encoder(config.network, observation_space)
        features = self.encoder.out_features
        self.distributional = config.distributional
        self.head: QHead | DuelingHead | DistributionalHead
        if config.distributional:
            self.head = DistributionalHead(
                features,
                n_actions,
                config.atoms,
                config.v_min,
                config.v_max,
                noisy=config.noisy,
                sigma_0=config.noisy_sigma,
                dueling=config.dueling,
            )
        elif config.dueling:
            self.head = DuelingHead(
                features, n_actions, noisy=config.noisy, sigma_0=config.noisy_sigma
            )
        else:
            self.head = QHead(features, n_actions, noisy=config.noisy, sigma_0=config.noisy_sigma)
        self.generator = generator
        # The same modules, called leaf by leaf (see `rlcourse.nn.chain`).
        self._layers = layers_of(self.encoder) + layers_of(self.head)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return run_layers(self._layers, obs)

    def q_values(self, obs: torch.Tensor) -> torch.Tensor:
        """[B, A] expected returns, whatever the head."""
        out = self.forward(obs)
        if isinstance(self.head, DistributionalHead):
            return self.head.q_values(out)
        return out

    @property
    def support(self) -> torch.Tensor:
        """C51 atom values [Z] (distributional heads only)."""
        if not isinstance(self.head, DistributionalHead):
            raise AttributeError("only a distributional Q network has an atom support")
        return self.head.support

    def reset_noise(self) -> None:
        reset_noise(self, self.generator)


class HandQNetwork:
    """A `QNetwork`'s forward and backward pass written out by hand (`rlcourse.nn.HandChain`)
    for an encoder and head streams made of linear layers; ``HandQNetwork.of(net)`` is None
    for any other network (convolutions, attention, norms), which then runs through autograd.

    `backward` sets every parameter's ``.grad`` from the loss gradient with respect to the
    network's output (Q values, or C51 log-probabilities), as autograd would.
    """

    def __init__(self, net: QNetwork, encoder: HandChain, streams: list[HandChain]):
        self.net, self.encoder, self.streams = net, encoder, streams

    @classmethod
    def of(cls, net: QNetwork) -> HandQNetwork | None:
        head = net.head
        if isinstance(head, QHead):
            modules = [head.q]
        elif isinstance(head, DuelingHead):
            modules = [head.value, head.advantage]
        else:
            modules = [head.logits] if head.value is None else [head.logits, head.value]
        encoder = HandChain.of(net.encoder)
        streams = [HandChain.of(m) for m in modules]
        if encoder is None or None in streams:
            return None
        chains = [encoder, *streams]
        covered = {id(p) for chain in chains for p in chain.parameters}  # type: ignore[union-attr]
        if covered != {id(p) for p in net.parameters()}:
            return None
        return cls(net, encoder, streams)  # type: ignore[arg-type]

    def forward(self, obs: torch.Tensor, tape: list | None = None) -> torch.Tensor:
        """``net(obs)`` without autograd; with a `tape`, keeps what `backward` needs."""
        tapes: list[list] | None = (
            None if tape is None else [[] for _ in range(1 + len(self.streams))]
        )
        features = self.encoder.forward(obs, None if tapes is None else tapes[0])
        outs = [
            stream.forward(features, None if tapes is None else tapes[i + 1])
            for i, stream in enumerate(self.streams)
        ]
        head = self.net.head
        with torch.no_grad():
            if isinstance(head, QHead):
                out = outs[0]
            elif isinstance(head, DuelingHead):
                out = dueling_combine(outs[0], outs[1])
            else:
                logits = outs[0].view(-1, head.n_actions, head.atoms)
                if head.value is not None:
                    logits = dueling_combine(outs[1].view(-1, 1, head.atoms), logits)
                out = F.log_softmax(logits, dim=-1)
        if tape is not None:
            tape += [tapes, out]
        return out

    def numpy_q_values(self, obs: np.ndarray) -> np.ndarray:
        """[B, A] Q values computed in NumPy (see `HandChain.numpy_forward`): for acting."""
        head = self.net.head
        features = self.encoder.numpy_forward(obs)
        outs = [stream.numpy_forward(features) for stream in self.streams]
        if isinstance(head, QHead):
            return outs[0]
        if isinstance(head, DuelingHead):
            return _numpy_dueling(outs[0], outs[1])
        logits = outs[0].reshape(len(features), head.n_actions, head.atoms)
        if head.value is not None:
            logits = _numpy_dueling(outs[1].reshape(len(features), 1, head.atoms), logits)
        logits -= logits.max(axis=-1, keepdims=True)  # softmax over atoms, then the mean
        probs = np.exp(logits)
        probs /= probs.sum(axis=-1, keepdims=True)
        return probs @ head.support.numpy()

    def backward(self, grad: torch.Tensor, tape: list, rows: int | None = None) -> None:
        """Set the parameters' ``.grad`` from `grad`, d(loss)/d(output) for the first `rows`
        rows (all by default) of the `forward` that filled `tape`."""
        tapes, out = tape
        rows = grad.shape[0] if rows is None else rows
        head = self.net.head
        with torch.no_grad():
            if isinstance(head, QHead):
                stream_grads = [grad]
            elif isinstance(head, DuelingHead):  # Q = V + A - mean A
                stream_grads = [grad.sum(1, keepdim=True), grad - grad.mean(1, keepdim=True)]
            else:  # log_softmax over atoms, then the dueling combination of logits
                logits_grad = grad - out[:rows].exp() * grad.sum(-1, keepdim=True)
                if head.value is None:
                    stream_grads = [logits_grad.view(rows, -1)]
                else:
                    advantage_grad = logits_grad - logits_grad.mean(1, keepdim=True)
                    stream_grads = [advantage_grad.view(rows, -1), logits_grad.sum(1)]
            features_grad, *others = [
                stream.backward_to_input(stream_grad, stream_tape, rows)
                for stream, stream_tape, stream_grad in zip(
                    self.streams, tapes[1:], stream_grads, strict=True
                )
            ]
            for other in others:
                features_grad += other
            self.encoder.backward(features_grad, tapes[0], rows)
        tape.clear()


def _numpy_dueling(value: np.ndarray, advantage: np.ndarray) -> np.ndarray:
    """`dueling_combine` for NumPy arrays."""
    return value + advantage - advantage.mean(axis=1, keepdims=True)
