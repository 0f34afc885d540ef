"""Output heads: Q values (plain, dueling, noisy, distributional), policies and values.

Every head maps torso features [B, F] to its output. `hidden` widths add an MLP before the
output layer (for dueling, one per stream); `noisy=True` makes every linear layer of the head a
factorised `NoisyLinear` with initial noise scale `sigma_0` (call `reset_noise(model)` to draw
new noise).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from rlcourse.nn.layers import check_positive
from rlcourse.nn.mlp import MLP

#: The logit given to illegal actions: exp() of it is exactly 0, so they are never sampled.
MASKED_LOGIT = torch.finfo(torch.float32).min
LOG_2 = math.log(2.0)
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# ----------------------------------------------------------------------------- noisy linear


class NoisyLinear(nn.Module):
    """Linear layer with learned factorised Gaussian noise (Fortunato et al., 2017).

    ``w = mu_w + sigma_w * f(eps_out) f(eps_in)^T`` and ``b = mu_b + sigma_b * f(eps_out)`` with
    ``f(x) = sign(x) sqrt(|x|)`` and eps ~ N(0, 1); mu ~ U(-1/sqrt(p), 1/sqrt(p)) and
    sigma = sigma_0 / sqrt(p) at initialisation, p = in_features. The noise stays fixed until
    `reset_noise`; in eval mode only the mean weights are used.
    """

    eps_in: torch.Tensor
    eps_out: torch.Tensor

    def __init__(self, in_features: int, out_features: int, sigma_0: float = 0.5):
        super().__init__()
        check_positive(in_features=in_features, out_features=out_features)
        if sigma_0 < 0:
            raise ValueError(f"sigma_0 must be >= 0, got {sigma_0}")
        self.in_features, self.out_features, self.sigma_0 = in_features, out_features, sigma_0
        self.weight_mu = nn.Parameter(torch.empty(out_features, in_features))
        self.weight_sigma = nn.Parameter(torch.empty(out_features, in_features))
        self.bias_mu = nn.Parameter(torch.empty(out_features))
        self.bias_sigma = nn.Parameter(torch.empty(out_features))
        # Kept in the state dict so that a resumed run continues with the same noise.
        self.register_buffer("eps_in", torch.zeros(in_features))
        self.register_buffer("eps_out", torch.zeros(out_features))
        self.reset_parameters()
        self.reset_noise()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.in_features)
        nn.init.uniform_(self.weight_mu, -bound, bound)
        nn.init.uniform_(self.bias_mu, -bound, bound)
        nn.init.constant_(self.weight_sigma, self.sigma_0 * bound)
        nn.init.constant_(self.bias_sigma, self.sigma_0 * bound)

    @staticmethod
    def _scaled_noise(
        size: int, generator: torch.Generator | None, like: torch.Tensor
    ) -> torch.Tensor:
        x = torch.randn(size, generator=generator, device=like.device, dtype=like.dtype)
        return x.sign() * x.abs().sqrt()

    def reset_noise(self, generator: torch.Generator | None = None) -> None:
        """Draw new eps_in [p] and eps_out [q] (from `generator`, else torch's global one)."""
        self.eps_in.copy_(self._scaled_noise(self.in_features, generator, self.weight_mu))
        self.eps_out.copy_(self._scaled_noise(self.out_features, generator, self.weight_mu))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[..., in_features] -> [..., out_features]."""
        if not self.training:
            return F.linear(x, self.weight_mu, self.bias_mu)
        weight = self.weight_mu + self.weight_sigma * torch.outer(self.eps_out, self.eps_in)
        bias = self.bias_mu + self.bias_sigma * self.eps_out
        return F.linear(x, weight, bias)

    def extra_repr(self) -> str:
        return f"{self.in_features} -> {self.out_features}, sigma_0={self.sigma_0}"


def reset_noise(module: nn.Module, generator: torch.Generator | None = None) -> None:
    """Resample the noise of every `NoisyLinear` inside `module`, all from one draw of
    `generator` (else torch's global one): a handful of operations whatever the layer count."""
    layers = [layer for layer in module.modules() if isinstance(layer, NoisyLinear)]
    if not layers:
        return
    buffers = [eps for layer in layers for eps in (layer.eps_in, layer.eps_out)]
    sizes = [eps.numel() for eps in buffers]
    like = layers[0].weight_mu
    noise = NoisyLinear._scaled_noise(sum(sizes), generator, like)
    torch._foreach_copy_(buffers, list(noise.split(sizes)))


def _stream(
    in_features: int, out_features: int, hidden: Sequence[int], noisy: bool, sigma_0: float = 0.5
) -> MLP:
    """An MLP ending in a linear layer of `out_features`, noisy throughout if asked."""
    linear = functools.partial(NoisyLinear, sigma_0=sigma_0) if noisy else nn.Linear
    return MLP(in_features, hidden, out_features, linear=linear)


# ----------------------------------------------------------------------------- Q heads


def dueling_combine(value: torch.Tensor, advantage: torch.Tensor) -> torch.Tensor:
    """Wang et al. (2016): Q = V + A - mean_a A.

    value [B, 1, ...] and advantage [B, A, ...] -> [B, A, ...]. The mean is over all actions,
    legal or not: an action mask changes which Q is maximised, not how Q is formed.
    """
    return value + advantage - advantage.mean(dim=1, keepdim=True)


class QHead(nn.Module):
    """Features [B, F] -> Q values [B, A]."""

    def __init__(
        self,
        in_features: int,
        n_actions: int,
        hidden: Sequence[int] = (),
        noisy: bool = False,
        sigma_0: float = 0.5,
    ):
        super().__init__()
        self.q = _stream(in_features, n_actions, hidden, noisy, sigma_0)
        self.n_actions = n_actions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.q(x)


class DuelingHead(nn.Module):
    """Features [B, F] -> Q values [B, A] from a value stream and an advantage stream."""

    def __init__(
        self,
        in_features: int,
        n_actions: int,
        hidden: Sequence[int] = (),
        noisy: bool = False,
        sigma_0: float = 0.5,
    ):
        super().__init__()
        self.value = _stream(in_features, 1, hidden, noisy, sigma_0)
        self.advantage = _stream(in_features, n_actions, hidden, noisy, sigma_0)
        self.n_actions = n_actions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dueling_combine(self.value(x), self.advantage(x))


class DistributionalHead(nn.Module):
    """C51 (Bellemare et al., 2017): features [B, F] -> log-probabilities [B, A, atoms].

    Atom i sits at ``support[i] = v_min + i * (v_max - v_min) / (atoms - 1)``. With
    ``dueling=True`` value [B, 1, atoms] and advantage [B, A, atoms] logits are combined by
    `dueling_combine` before the softmax over atoms (as in Rainbow).
    """

    support: torch.Tensor

    def __init__(
        self,
        in_features: int,
        n_actions: int,
        atoms: int = 51,
        v_min: float = -10.0,
        v_max: float = 10.0,
        hidden: Sequence[int] = (),
        noisy: bool = False,
        dueling: bool = False,
        sigma_0: float = 0.5,
    ):
        super().__init__()
        check_positive(n_actions=n_actions)
        if atoms < 2:
            raise ValueError(f"atoms must be at least 2, got {atoms}")
        if not v_min < v_max:
            raise ValueError(f"v_min ({v_min}) must be below v_max ({v_max})")
        self.n_actions, self.atoms = n_actions, atoms
        self.v_min, self.v_max = float(v_min), float(v_max)
        self.register_buffer("support", torch.linspace(v_min, v_max, atoms))
        self.logits = _stream(in_features, n_actions * atoms, hidden, noisy, sigma_0)
        self.value = _stream(in_features, atoms, hidden, noisy, sigma_0) if dueling else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, F] -> log-probabilities [B, A, atoms] (softmax over atoms)."""
        logits = self.logits(x).view(-1, self.n_actions, self.atoms)
        if self.value is not None:
            logits = dueling_combine(self.value(x).view(-1, 1, self.atoms), logits)
        return F.log_softmax(logits, dim=-1)

    def q_values(self, log_probs: torch.Tensor) -> torch.Tensor:
        """Expected returns [B, A] of log-probabilities [B, A, atoms]."""
        return (log_probs.exp() * self.support).sum(dim=-1)


# ----------------------------------------------------------------------------- policies


def masked_logits(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """`logits` [B, A] with illegal actions (mask False) set to `MASKED_LOGIT`.

    Raises ValueError if a row of `mask` [B, A] allows no action at all.
    """
    if mask is None:
        return logits
    mask = torch.as_tensor(mask, dtype=torch.bool, device=logits.device)
    if mask.shape != logits.shape:
        raise ValueError(f"action mask has shape {list(mask.shape)}, logits {list(logits.shape)}")
    if not bool(mask.any(dim=-1).all()):
        rows = torch.nonzero(~mask.any(dim=-1)).flatten().tolist()
        raise ValueError(f"action mask allows no action in rows {rows}")
    return torch.where(mask, logits, MASKED_LOGIT)


class CategoricalPolicyHead(nn.Module):
    """Features [B, F] -> a Categorical over A actions; masked actions get probability 0."""

    def __init__(self, in_features: int, n_actions: int, hidden: Sequence[int] = ()):
        super().__init__()
        self.net = _stream(in_features, n_actions, hidden, noisy=False)
        self.n_actions = n_actions

    def logits(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Masked logits [B, A]."""
        return masked_logits(self.net(x), mask)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.logits(x, mask))


class DiagGaussian:
    """A diagonal Gaussian over [B, D] actions, optionally squashed by tanh into (-1, 1).

    For ``a = tanh(u)``, u ~ N(mean, std):
    ``log p(a) = sum_i [log N(u_i) - log(1 - tanh(u_i)^2)]``, with
    ``log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u))`` for numerical stability.
    """

    def __init__(self, mean: torch.Tensor, log_std: torch.Tensor, squash: bool = False):
        self.mean, self.log_std, self.squash = mean, log_std, squash

    def _log_prob_pre_squash(self, u: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p [B] of pre-squash actions u [B, D], whose standard scores are z = (u - mean) / std
        (closed form: fewer operations than `torch.distributions.Normal`, same values)."""
        log_prob = (-0.5 * z.square() - self.log_std - HALF_LOG_2PI).sum(dim=-1)
        if self.squash:
            log_prob = log_prob - (2.0 * (LOG_2 - u - F.softplus(-2.0 * u))).sum(dim=-1)
        return log_prob

    def _draw(self, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Pre-squash actions u = mean + std * z [B, D] and their standard scores z."""
        noise = torch.randn(
            self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype
        )
        return self.mean + self.log_std.exp() * noise, noise

    def _squashed(self, u: torch.Tensor) -> torch.Tensor:
        return torch.tanh(u) if self.squash else u

    def rsample_with_log_prob(
        self, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterised action [B, D] and its log-probability [B]."""
        u, noise = self._draw(generator)
        return self._squashed(u), self._log_prob_pre_squash(u, noise)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """An action [B, D], without gradient (the same draw as `rsample_with_log_prob`)."""
        with torch.no_grad():
            return self._squashed(self._draw(generator)[0])

    def log_prob(self, action: torch.Tensor) -> torch.Tensor:
        """log-probability [B] of actions [B, D] (squashed actions are clipped into (-1, 1))."""
        if self.squash:
            eps = torch.finfo(action.dtype).eps
            action = torch.atanh(action.clamp(-1.0 + eps, 1.0 - eps))
        return self._log_prob_pre_squash(action, (action - self.mean) * (-self.log_std).exp())

    def entropy(self) -> torch.Tensor:
        """Entropy [B]; only the unsquashed Gaussian has a closed form."""
        if self.squash:
            raise ValueError("a tanh-squashed Gaussian has no closed-form entropy; use -log_prob")
        return (0.5 + HALF_LOG_2PI + self.log_std).sum(dim=-1)

    def mode(self) -> torch.Tensor:
        """The most likely pre-squash action, squashed: tanh(mean) or mean [B, D]."""
        return self._squashed(self.mean)


class GaussianPolicyHead(nn.Module):
    """Features [B, F] -> `DiagGaussian` over `action_dim` actions.

    The log-std is a free parameter vector (state-independent, as in PPO) or a second output
    of the head (state-dependent, as in SAC); either way it is clamped to `log_std_bounds`.
    With `squash` actions lie in (-1, 1); rescaling to the env's bounds is the agent's job.
    """

    def __init__(
        self,
        in_features: int,
        action_dim: int,
        hidden: Sequence[int] = (),
        state_dependent_std: bool = False,
        log_std_init: float = 0.0,
        log_std_bounds: tuple[float, float] = (-20.0, 2.0),
        squash: bool = False,
    ):
        super().__init__()
        check_positive(action_dim=action_dim)
        low, high = log_std_bounds
        if not low < high:
            raise ValueError(
                f"log_std_bounds must be (low, high) with low < high, got {log_std_bounds}"
            )
        self.action_dim, self.squash = action_dim, squash
        self.log_std_bounds = (float(low), float(high))
        self.state_dependent_std = state_dependent_std
        outputs = 2 * action_dim if state_dependent_std else action_dim
        self.net = _stream(in_features, outputs, hidden, noisy=False)
        self.log_std = (
            None
            if state_dependent_std
            else nn.Parameter(torch.full((action_dim,), float(log_std_init)))
        )

    def forward(self, x: torch.Tensor) -> DiagGaussian:
        out = self.net(x)
        if self.log_std is None:
            mean, log_std = out.split(self.action_dim, dim=-1)
        else:
            mean, log_std = out, self.log_std.expand_as(out)
        return DiagGaussian(mean, log_std.clamp(*self.log_std_bounds), self.squash)


# ----------------------------------------------------------------------------- values


class ValueHead(nn.Module):
    """Features [B, F] -> state values [B]."""

    def __init__(self, in_features: int, hidden: Sequence[int] = ()):
        super().__init__()
        self.net = _stream(in_features, 1, hidden, noisy=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)
