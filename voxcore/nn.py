"""Masked Transformer building blocks shared by plugins (bottlenecks, text encoders, ...).

Masks follow voxcore's convention: bool ``[B, T]``, ``True`` = a real frame/token. Every
block here keeps padding from changing a result at a valid position.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["SelfAttention", "TransformerBlock", "masked_mean", "sinusoidal_positions",
           "zero_padding"]


def zero_padding(x: Tensor, mask: Tensor) -> Tensor:
    """``x`` ``[B, T, C]`` with the rows where ``mask`` ``[B, T]`` is False set to zero.

    ``torch.where`` rather than a product, so that inf/NaN in padding cannot leak either.
    """
    return torch.where(mask.unsqueeze(-1), x, x.new_zeros(()))


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``x`` ``[B, T, C]`` over the valid rows of each item, ``[B, C]`` (0 if none)."""
    total = zero_padding(x, mask).sum(dim=1)
    count = mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)
    return total / count


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
    codes = F.pad(codes, (0, dim - 2 * half))
    return codes.to(dtype)


class SelfAttention(nn.Module):
    """Multi-head self-attention that never attends to padded keys."""

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"num_heads={num_heads} must divide the width {dim}")
        self.num_heads = num_heads
        self.dropout = dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """Attend over ``x`` ``[B, T, C]`` with keys restricted to ``mask`` ``[B, T]``."""
        batch, length, dim = x.shape
        q, k, v = (self.qkv(x).view(batch, length, 3, self.num_heads, dim // self.num_heads)
                   .permute(2, 0, 3, 1, 4).unbind(0))
        # An item with no valid frame would softmax over nothing (NaN); let it attend to
        # everything instead: its outputs are all padding and masked downstream anyway.
        keys = mask | ~mask.any(dim=1, keepdim=True)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=keys[:, None, None, :],
            dropout_p=self.dropout if self.training else 0.0)
        merged: Tensor = self.out(out.transpose(1, 2).reshape(batch, length, dim))
        return merged


class TransformerBlock(nn.Module):
    """Pre-norm Transformer layer: masked self-attention then an MLP, both residual."""

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
        """``x`` ``[B, T, C]`` -> ``[B, T, C]``; padded rows are zeroed on the way in."""
        x = zero_padding(x, mask)
        x = x + self.drop(self.attn(self.norm1(x), mask))
        out: Tensor = x + self.drop(self.mlp(self.norm2(x)))
        return out
