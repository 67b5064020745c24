"""Bottleneck-only blocks: pooled head, positions, mask downsampling (the masked
Transformer blocks themselves are shared, in :mod:`voxcore.plugin_api`).

Masks follow voxcore's convention: bool, ``True`` = a real frame/token.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from voxcore.plugin_api import masked_mean, sinusoidal_positions


def downsample_mask(mask: Tensor, stride: int) -> Tensor:
    """Mask after pooling time by ``stride``: a token is valid if any frame it covers is.

    For a prefix mask of length ``L`` this keeps ``ceil(L / stride)`` tokens.
    """
    batch, length = mask.shape
    padded = F.pad(mask, (0, -length % stride), value=False)
    return padded.view(batch, -1, stride).any(dim=-1)


def pooled_head(dim: int, pooled_dim: int | None) -> PooledHead | None:
    """A :class:`PooledHead` when the generator takes a pooled vector (``pooled_dim``)."""
    return PooledHead(dim, pooled_dim) if pooled_dim is not None else None


class PooledHead(nn.Module):
    """Global vector of a token sequence: masked mean over valid tokens, then a Linear."""

    def __init__(self, dim: int, pooled_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, pooled_dim)

    def forward(self, tokens: Tensor, mask: Tensor) -> Tensor:
        """``tokens`` ``[B, M, C]``, ``mask`` ``[B, M]`` -> ``[B, pooled_dim]``."""
        pooled: Tensor = self.proj(masked_mean(tokens, mask))
        return pooled


class Positions(nn.Module):
    """Adds sinusoidal position codes (or nothing, for ``"none"``); holds no state."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        if kind not in ("sinusoidal", "none"):
            raise ValueError(f"positional must be 'sinusoidal' or 'none', got {kind!r}")
        self.kind = kind

    def forward(self, x: Tensor) -> Tensor:
        """``x`` ``[B, T, C]`` plus the code of each time step."""
        if self.kind == "none":
            return x
        return x + sinusoidal_positions(x.shape[1], x.shape[2], device=x.device, dtype=x.dtype)
