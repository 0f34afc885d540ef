"""Multi-head self-attention over a set of entities with a presence mask.

For driving (the other vehicles) and dialogue (slots, candidate entities): entities
[B, N, F] and a mask [B, N] (True = present) give one embedding per entity [B, N, D] and a
pooled embedding [B, D]. An absent entity takes part in nothing: its features are replaced by
zeros before anything reads them, no present entity attends to it, its own output is zero, and
pooling skips it, so changing it (even to NaN) cannot change any output. A row with no present
entity gives zeros throughout, without NaNs.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
from torch import nn

from rlcourse.nn.layers import check_positive

Pooling = Literal["mean", "max", "first"]


class EntityEncoding(NamedTuple):
    pooled: torch.Tensor  # [B, D]
    entities: torch.Tensor  # [B, N, D], zero for absent entities


class AttentionBlock(nn.Module):
    """A pre-norm Transformer encoder layer: x + MHA(LN(x)), then x + FF(LN(x))."""

    def __init__(self, dim: int, num_heads: int, ff_hidden: int, dropout: float):
        super().__init__()
        self.attn_norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True)
        self.ff_norm = nn.LayerNorm(dim)
        self.ff = nn.Sequential(
            nn.Linear(dim, ff_hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff_hidden, dim)
        )

    def forward(self, x: torch.Tensor, ignore: torch.Tensor) -> torch.Tensor:
        """x [B, N, D]; `ignore` [B, N] True for keys no query may attend to."""
        h = self.attn_norm(x)
        attended, _ = self.attn(h, h, h, key_padding_mask=ignore, need_weights=False)
        x = x + attended
        return x + self.ff(self.ff_norm(x))


class EntityAttentionEncoder(nn.Module):
    """Entities [B, N, F] + mask [B, N] -> `EntityEncoding(pooled [B, D], entities [B, N, D])`.

    Each entity is embedded by a linear layer to D = `embed_dim`, passes `num_layers`
    self-attention blocks and a final LayerNorm. `pooling` combines the present entities:
    their mean, their element-wise max, or the first entity (e.g. the ego vehicle) alone.
    """

    def __init__(
        self,
        entity_features: int,
        embed_dim: int = 64,
        num_heads: int = 4,
        num_layers: int = 1,
        ff_hidden: int | None = None,
        pooling: Pooling = "mean",
        dropout: float = 0.0,
    ):
        super().__init__()
        check_positive(entity_features=entity_features, embed_dim=embed_dim, num_heads=num_heads)
        if embed_dim % num_heads:
            raise ValueError(
                f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        if num_layers < 0:
            raise ValueError(f"num_layers must be >= 0, got {num_layers}")
        if pooling not in ("mean", "max", "first"):
            raise ValueError(f"pooling must be 'mean', 'max' or 'first', got {pooling!r}")
        self.embed = nn.Linear(entity_features, embed_dim)
        self.blocks = nn.ModuleList(
            AttentionBlock(embed_dim, num_heads, ff_hidden or 2 * embed_dim, dropout)
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(embed_dim)
        self.pooling = pooling
        self.entity_features = entity_features
        self.out_features = embed_dim

    def forward(self, entities: torch.Tensor, mask: torch.Tensor | None = None) -> EntityEncoding:
        """Encode entities [B, N, F]; `mask` [B, N] is True where an entity is present."""
        if entities.dim() != 3 or entities.shape[-1] != self.entity_features:
            raise ValueError(
                f"expected entities [B, N, {self.entity_features}], got {list(entities.shape)}"
            )
        if mask is None:
            mask = torch.ones(entities.shape[:2], dtype=torch.bool, device=entities.device)
        if mask.shape != entities.shape[:2]:
            raise ValueError(
                f"mask must have shape [B, N] = {list(entities.shape[:2])}, got {list(mask.shape)}"
            )
        present = mask.to(torch.bool).unsqueeze(-1)  # [B, N, 1]
        x = self.embed(torch.where(present, entities, 0.0))
        # A row with nobody present attends over its zeroed entities instead (all keys masked
        # would give NaN); its outputs are zeroed below.
        nobody = ~present.any(dim=1)  # [B, 1]
        ignore = ~present.squeeze(-1) & ~nobody
        for block in self.blocks:
            x = block(x, ignore)
        x = torch.where(present, self.norm(x), 0.0)
        return EntityEncoding(self._pool(x, present), x)

    def _pool(self, x: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """[B, N, D] (absent rows already zero), present [B, N, 1] -> [B, D]."""
        if self.pooling == "mean":
            return x.sum(dim=1) / present.sum(dim=1).clamp(min=1)
        if self.pooling == "max":
            pooled = torch.where(present, x, float("-inf")).amax(dim=1)
            return torch.where(present.any(dim=1), pooled, 0.0)
        return x[:, 0]
