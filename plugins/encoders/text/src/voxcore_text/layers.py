"""Transformer pieces for the text encoder: positions and masked pre-norm layers.

Masks follow voxcore's convention: bool, ``True`` = a real token.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["TransformerLayer", "sinusoidal_positions", "zero_padding"]


def zero_padding(x: Tensor, mask: Tensor) -> Tensor:
    """``x`` ``[B, N, C]`` with the rows where ``mask`` ``[B, N]`` is False set to zero.

    ``torch.where`` rather than a product, so that inf/NaN in padding cannot leak either.
    """
    return torch.where(mask.unsqueeze(-1), x, x.new_zeros(()))


def sinusoidal_positions(length: int, dim: int, *, device: torch.device,
                         dtype: torch.dtype) -> Tensor:
    """Fixed sine/cosine position codes ``[length, dim]`` (sines in the first half)."""
    half = dim // 2
    position = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    frequency = torch.exp(torch.arange(half, device=device, dtype=torch.float32)
                          * (-math.log(10000.0) / max(half, 1)))
    angle = position * frequency
    codes = torch.cat([angle.sin(), angle.cos()], dim=1)
    # An odd width leaves one channel over; it gets no position signal.
    return F.pad(codes, (0, dim - 2 * half)).to(dtype)


class SelfAttention(nn.Module):
    """Multi-head self-attention whose keys are restricted to valid tokens."""

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"num_heads={num_heads} must divide the width {dim}")
        self.num_heads = num_heads
        self.dropout = dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """Attend over ``x`` ``[B, N, C]`` with keys where ``mask`` ``[B, N]`` is True.

        Every text has at least its BOS and EOS tokens, so no row is without keys.
        """
        batch, length, dim = x.shape
        q, k, v = (self.qkv(x).view(batch, length, 3, self.num_heads, dim // self.num_heads)
                   .permute(2, 0, 3, 1, 4).unbind(0))
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask[:, None, None, :],
            dropout_p=self.dropout if self.training else 0.0)
        merged: Tensor = self.out(out.transpose(1, 2).reshape(batch, length, dim))
        return merged


class TransformerLayer(nn.Module):
    """Pre-norm Transformer encoder layer: masked self-attention then an MLP, both residual."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0,
                 dropout: float = 0.0) -> None:
        super().__init__()
        hidden = max(1, round(dim * mlp_ratio))
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, num_heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """``x`` ``[B, N, C]`` -> ``[B, N, C]``; only valid tokens are attended to."""
        x = x + self.drop(self.attn(self.norm1(x), mask))
        out: Tensor = x + self.drop(self.mlp(self.norm2(x)))
        return out
