"""The attention layers of the ``tiny-unet`` UNet, in plain torch.

They compute what diffusers' ``Transformer2DModel`` (continuous input, 1x1-conv projections)
with one ``BasicTransformerBlock`` (self-attention, cross-attention, GEGLU feed-forward)
computes, under the same weight names, so trained weights move between the two unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Attention", "BasicTransformerBlock", "FeedForward", "Transformer2DModel",
           "mask_bias"]


def mask_bias(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The additive attention bias of a bool key mask ``[B, N]``: ``[B, 1, 1, N]``.

    0 where the mask is true and -10000 where it is false, exactly as diffusers'
    ``UNet2DConditionModel`` turns ``encoder_attention_mask`` into a bias (not -inf: a row
    whose keys are all masked then attends evenly to all of them instead of giving NaN).
    """
    return ((1 - mask.to(dtype)) * -10000.0)[:, None, None, :]


class Attention(nn.Module):
    """Multi-head attention of ``query_dim`` channels over keys of ``key_dim`` channels."""

    def __init__(self, query_dim: int, heads: int, key_dim: int | None = None) -> None:
        super().__init__()
        self.heads = heads
        self.inner_dim = query_dim
        key_dim = query_dim if key_dim is None else key_dim
        self.to_q = nn.Linear(query_dim, query_dim, bias=False)
        self.to_k = nn.Linear(key_dim, query_dim, bias=False)
        self.to_v = nn.Linear(key_dim, query_dim, bias=False)
        # diffusers' output projection is followed by a dropout at index 1 (p = 0 here); the
        # placeholder keeps the weight name `to_out.0`.
        self.to_out = nn.ModuleList([nn.Linear(query_dim, query_dim), nn.Identity()])

    def forward(self, hidden_states: torch.Tensor, context: torch.Tensor | None = None,
                bias: torch.Tensor | None = None) -> torch.Tensor:
        """Attend from ``hidden_states`` ``[B, L, C]`` to ``context`` ``[B, N, K]`` (itself
        when None); ``bias`` (``[B, 1, 1, N]``) is added to the attention scores."""
        batch = hidden_states.shape[0]
        context = hidden_states if context is None else context
        query = self._split_heads(self.to_q(hidden_states), batch)
        key = self._split_heads(self.to_k(context), batch)
        value = self._split_heads(self.to_v(context), batch)
        attended = F.scaled_dot_product_attention(query, key, value, attn_mask=bias)
        merged = attended.transpose(1, 2).reshape(batch, -1, self.inner_dim)
        output: torch.Tensor = self.to_out[0](merged)
        return output

    def _split_heads(self, tensor: torch.Tensor, batch: int) -> torch.Tensor:
        return tensor.view(batch, -1, self.heads, self.inner_dim // self.heads).transpose(1, 2)


class GEGLU(nn.Module):
    """A linear projection to twice ``dim_out`` channels, one half gating the other by GELU."""

    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """``[..., dim_in]`` to ``[..., dim_out]``."""
        projected: torch.Tensor = self.proj(hidden_states)
        values, gate = projected.chunk(2, dim=-1)
        return values * F.gelu(gate)


class FeedForward(nn.Module):
    """GEGLU to four times the width, then back."""

    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        inner = dim * mult
        # Index 1 is diffusers' dropout (p = 0): kept so the weight names stay `net.0`, `net.2`.
        self.net = nn.ModuleList([GEGLU(dim, inner), nn.Identity(), nn.Linear(inner, dim)])

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """``[..., dim]`` to ``[..., dim]``."""
        output: torch.Tensor = self.net[2](self.net[0](hidden_states))
        return output


class BasicTransformerBlock(nn.Module):
    """Pre-norm self-attention, cross-attention to the condition, feed-forward; each residual."""

    def __init__(self, dim: int, heads: int, cross_attention_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, key_dim=cross_attention_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)

    def forward(self, hidden_states: torch.Tensor, context: torch.Tensor,
                context_bias: torch.Tensor | None) -> torch.Tensor:
        """``[B, L, dim]`` tokens attending to ``context`` ``[B, N, cross_attention_dim]``."""
        hidden_states = hidden_states + self.attn1(self.norm1(hidden_states))
        hidden_states = hidden_states + self.attn2(self.norm2(hidden_states), context,
                                                   context_bias)
        result: torch.Tensor = hidden_states + self.ff(self.norm3(hidden_states))
        return result


class Transformer2DModel(nn.Module):
    """A transformer block over the pixels of a feature map, with a residual around it."""

    def __init__(self, channels: int, heads: int, cross_attention_dim: int,
                 norm_groups: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(norm_groups, channels, eps=1e-6)
        self.proj_in = nn.Conv2d(channels, channels, kernel_size=1)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(channels, heads, cross_attention_dim)])
        self.proj_out = nn.Conv2d(channels, channels, kernel_size=1)

    def forward(self, hidden_states: torch.Tensor, context: torch.Tensor,
                context_bias: torch.Tensor | None) -> torch.Tensor:
        """``[B, C, H, W]`` to ``[B, C, H, W]``, conditioned on ``context``."""
        batch, channels, height, width = hidden_states.shape
        residual = hidden_states
        tokens = self.proj_in(self.norm(hidden_states))
        tokens = tokens.permute(0, 2, 3, 1).reshape(batch, height * width, channels)
        for block in self.transformer_blocks:
            tokens = block(tokens, context, context_bias)
        tokens = tokens.reshape(batch, height, width, channels).permute(0, 3, 1, 2).contiguous()
        result: torch.Tensor = self.proj_out(tokens) + residual
        return result
