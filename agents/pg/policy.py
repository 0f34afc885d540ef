"""The actor-critic network of every policy-gradient agent, built from its config section.

observations -> encoder(s) -> optional LSTM/GRU core -> policy head and value head. Discrete
actions get a (masked) categorical, Box actions a diagonal Gaussian (free or state-dependent
log-std, optional tanh squashing). Recurrent policies take observations as sequences
[B, T, ...] with ``starts`` [B, T] marking first steps of episodes (the state is reset there);
feed-forward ones take [B, ...].
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from agents.pg.config import PolicyGradientConfig
from rlcourse.nn import (
    CategoricalPolicyHead,
    DiagGaussian,
    GaussianPolicyHead,
    Hidden,
    RecurrentEncoder,
    ValueHead,
    build_encoder,
    init_module,
    layers_of,
    masked_logits,
    run_layers,
)


def observation_dtype(space: gym.Space) -> torch.dtype:
    """The tensor dtype the encoder of `space` expects."""
    if isinstance(space, gym.spaces.Discrete | gym.spaces.MultiDiscrete):
        return torch.int64
    if isinstance(space, gym.spaces.Box) and space.dtype == np.uint8:
        return torch.uint8
    return torch.float32


def sample_categorical(
    log_probs: torch.Tensor, masks: torch.Tensor | None, generator: torch.Generator
) -> torch.Tensor:
    """One action per row of `log_probs` [B, A], never a masked one.

    The exponential race: argmax_a p_a / E_a with E_a ~ Exp(1) picks a with probability p_a
    (the Gumbel-max trick in another form), cheaper than `torch.multinomial` for small batches.
    """
    scores = log_probs - torch.empty_like(log_probs).exponential_(generator=generator).log_()
    if masks is not None:  # an Exp(1) draw of exactly 0 must not revive a masked action
        scores = scores.masked_fill(~masks, -torch.inf)
    return scores.argmax(dim=1)


class ActorCritic(nn.Module):
    def __init__(
        self, config: PolicyGradientConfig, observation_space: gym.Space, action_space: gym.Space
    ):
        super().__init__()
        self.actor_encoder = build_encoder(config.network, observation_space)
        separate = not config.shared_encoder and config.recurrent is None
        self.critic_encoder = build_encoder(config.network, observation_space) if separate else None
        features = self.actor_encoder.out_features
        self.core: RecurrentEncoder | None = None
        if config.recurrent is not None:
            spec = config.recurrent
            self.core = RecurrentEncoder(features, spec.hidden_size, spec.cell, spec.num_layers)
            features = self.core.out_features
        self.actor: CategoricalPolicyHead | GaussianPolicyHead
        if isinstance(action_space, gym.spaces.Discrete):
            self.discrete = True
            self.actor = CategoricalPolicyHead(features, int(action_space.n))
        elif isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1:
            self.discrete = False
            self.actor = GaussianPolicyHead(
                features,
                int(action_space.shape[0]),
                state_dependent_std=config.state_dependent_std,
                log_std_init=config.log_std_init,
                squash=config.squash,
            )
            self.low = np.asarray(action_space.low, dtype=np.float32)
            self.high = np.asarray(action_space.high, dtype=np.float32)
            if config.squash and not (np.isfinite(self.low).all() and np.isfinite(self.high).all()):
                raise ValueError(f"squash needs finite action bounds, got {action_space}")
        else:
            raise TypeError(
                f"policy gradients need Discrete or 1-D Box actions, got {action_space}"
            )
        self.squash = config.squash
        self.critic = ValueHead(features)
        if config.ortho_init:  # the usual PPO recipe: sqrt(2) torsos, small policy outputs
            for encoder in (self.actor_encoder, self.critic_encoder):
                if encoder is not None:
                    init_module(encoder, "orthogonal", gain=math.sqrt(2))
            if self.core is not None:
                init_module(self.core, "orthogonal", gain=1.0)
            init_module(self.actor, "orthogonal", gain=0.01)
            init_module(self.critic, "orthogonal", gain=1.0)
        # The same modules, called leaf by leaf (see `sequential_leaves`).
        self._actor_layers = layers_of(self.actor_encoder)
        self._critic_layers = (
            None if self.critic_encoder is None else layers_of(self.critic_encoder)
        )
        self._value_layers = layers_of(self.critic.net)
        self._head_layers = layers_of(self.actor.net)

    @property
    def recurrent(self) -> bool:
        return self.core is not None

    def initial_state(self, batch_size: int) -> Hidden:
        if self.core is None:
            raise ValueError("a feed-forward policy has no recurrent state")
        return self.core.initial_state(batch_size)

    # ------------------------------------------------------------------ features

    def _features(
        self, obs: torch.Tensor, hidden: Hidden | None, starts: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, Hidden | None]:
        """(actor features [B*T, F], critic features, state after the last step)."""
        if self.core is None:
            actor = run_layers(self._actor_layers, obs)
            critic = actor if self._critic_layers is None else run_layers(self._critic_layers, obs)
            return actor, critic, None
        batch, steps = obs.shape[:2]
        x = run_layers(self._actor_layers, obs.flatten(0, 1)).view(batch, steps, -1)
        out, hidden = self.core(x, hidden, starts)
        out = out.flatten(0, 1)
        return out, out, hidden

    def _logits(self, features: torch.Tensor, masks: torch.Tensor | None) -> torch.Tensor:
        """Log-probabilities [B, A] of the categorical (masked actions: probability 0)."""
        logits = run_layers(self._head_layers, features)
        return F.log_softmax(masked_logits(logits, masks), dim=-1)

    # ------------------------------------------------------------------ acting

    def step(
        self,
        obs: torch.Tensor,
        masks: torch.Tensor | None,
        hidden: Hidden | None,
        starts: torch.Tensor | None,
        generator: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, Hidden | None]:
        """Sample actions for N envs' observations [N, ...]: (actions, log-probs [N],
        values [N], state after this step). Recurrent: `starts` [N] resets the state."""
        if self.core is not None:
            obs = obs.unsqueeze(1)
            starts = None if starts is None else starts.unsqueeze(1)
        actor, critic, hidden = self._features(obs, hidden, starts)
        values = run_layers(self._value_layers, critic).squeeze(-1)
        if self.discrete:
            log_p = self._logits(actor, masks)
            actions = sample_categorical(log_p, masks, generator)
            return actions, log_p.gather(1, actions[:, None]).squeeze(1), values, hidden
        actions, log_probs = self._gaussian(actor).rsample_with_log_prob(generator)
        return actions, log_probs, values, hidden

    def _gaussian(self, features: torch.Tensor) -> DiagGaussian:
        """The policy at `features` [B, F], as `GaussianPolicyHead` builds it, its layers
        called leaf by leaf (`run_layers`) rather than through the head's module call."""
        head = self.actor
        assert isinstance(head, GaussianPolicyHead)
        out = run_layers(self._head_layers, features)
        if head.log_std is None:
            mean, log_std = out.split(head.action_dim, dim=-1)
        else:
            mean, log_std = out, head.log_std.expand_as(out)
        return DiagGaussian(mean, log_std.clamp(*head.log_std_bounds), head.squash)

    def act(
        self,
        obs: torch.Tensor,
        masks: torch.Tensor | None,
        hidden: Hidden | None,
        starts: torch.Tensor | None,
        deterministic: bool,
        generator: torch.Generator,
    ) -> tuple[torch.Tensor, Hidden | None]:
        """Actions for observations [N, ...] (the mode when `deterministic`) and the state."""
        if not deterministic:
            actions, _, _, hidden = self.step(obs, masks, hidden, starts, generator)
            return actions, hidden
        if self.core is not None:
            obs = obs.unsqueeze(1)
            starts = None if starts is None else starts.unsqueeze(1)
        actor, _, hidden = self._features(obs, hidden, starts)
        if self.discrete:
            return self._logits(actor, masks).argmax(dim=1), hidden
        return self._gaussian(actor).mode(), hidden

    def value(
        self, obs: torch.Tensor, hidden: Hidden | None = None, starts: torch.Tensor | None = None
    ) -> torch.Tensor:
        """State values [N] of observations [N, ...] (recurrent: one step from `hidden`)."""
        if self.core is not None:
            obs = obs.unsqueeze(1)
            starts = None if starts is None else starts.unsqueeze(1)
        _, critic, _ = self._features(obs, hidden, starts)
        return run_layers(self._value_layers, critic).squeeze(-1)

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Sampled actions as the env takes them: Box actions scaled (squash) or clipped."""
        if self.discrete:
            return actions
        if self.squash:
            return self.low + (actions + 1.0) * 0.5 * (self.high - self.low)
        return np.minimum(np.maximum(actions, self.low), self.high)

    # ------------------------------------------------------------------ learning

    def evaluate_actions(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        masks: torch.Tensor | None = None,
        hidden: Hidden | None = None,
        starts: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log-probs, entropies, values), each flat [B] (recurrent: [S * L] of [S, L] input).

        A squashed Gaussian has no closed-form entropy: its entropy is estimated by -log p.
        """
        actor, critic, _ = self._features(obs, hidden, starts)
        values = run_layers(self._value_layers, critic).squeeze(-1)
        if self.core is not None:
            actions = actions.flatten(0, 1)
            masks = None if masks is None else masks.flatten(0, 1)
        if self.discrete:
            log_p = self._logits(actor, masks)
            log_probs = log_p.gather(1, actions.long()[:, None]).squeeze(1)
            p = log_p.exp()
            entropy = -(p * log_p).sum(dim=1)  # masked: 0 * (finite min) = 0
            return log_probs, entropy, values
        policy = self._gaussian(actor)
        log_probs = policy.log_prob(actions)
        return log_probs, -log_probs if self.squash else policy.entropy(), values
