"""The speech information bottleneck (SIB) of VoxStudio, Sec. 3.2.

Each stage is a pre-norm Transformer block followed by a strided Conv1d along time; stages
repeat, shortening the sequence step by step (as PiT does for images) until it is ``ratio``
times shorter, and the last conv maps to the generator's cross-attention width.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from voxcore.plugin_api import (
    BottleneckWidths,
    Condition,
    SpeechFeatures,
    TransformerBlock,
    zero_padding,
)
from voxcore_sib.config import SibConfig
from voxcore_sib.layers import Positions, downsample_mask, pooled_head


class StridedTimeConv(nn.Module):
    """Conv1d along time, kernel ``2 * stride``, that turns ``T`` frames into ``ceil(T / stride)``.

    The sequence is right-padded with zeros to a multiple of ``stride`` and then padded by
    ``stride`` more frames split around it, so each output sees its own ``stride`` frames
    plus half a stride of context on each side.
    """

    def __init__(self, in_dim: int, out_dim: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv1d(in_dim, out_dim, kernel_size=2 * stride, stride=stride)

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """``x`` ``[B, T, C]``, ``mask`` ``[B, T]`` -> ``[B, ceil(T/s), C']`` and its mask."""
        x = zero_padding(x, mask).transpose(1, 2)
        left = self.stride // 2
        right = self.stride - left + (-x.shape[-1] % self.stride)
        y = self.conv(F.pad(x, (left, right)))
        return y.transpose(1, 2), downsample_mask(mask, self.stride)


class SpeechInformationBottleneck(BottleneckWidths, nn.Module):
    """SIB: speech features ``[B, N, input_dim]`` -> condition tokens ``[B, N/ratio, output_dim]``.

    Built from a :class:`~voxcore_sib.config.SibConfig` whose ``input_dim`` and ``output_dim``
    are set. With ``pooled_dim`` set it also returns a pooled vector (masked mean of the
    tokens, then a Linear), as SDXL's added conditioning needs.
    """

    config: SibConfig

    def __init__(self, config: SibConfig) -> None:
        super().__init__()
        input_dim, output_dim = self.adopt_widths(config)
        strides = config.stage_strides
        widths = config.widths if config.widths is not None else [input_dim] * len(strides)

        self.input_proj: nn.Module = (nn.Linear(input_dim, widths[0]) if widths[0] != input_dim
                                      else nn.Identity())
        self.positions = Positions(config.positional)
        self.blocks = nn.ModuleList(
            TransformerBlock(w, config.num_heads, config.mlp_ratio, config.dropout)
            for w in widths)
        self.pools = nn.ModuleList(
            StridedTimeConv(w, next_w, s)
            for w, next_w, s in zip(widths, [*widths[1:], output_dim], strides, strict=True))
        self.norm = nn.LayerNorm(output_dim)
        self.pooled = pooled_head(output_dim, config.pooled_dim)

    def forward(self, features: SpeechFeatures) -> Condition:
        """Compress ``features`` (and their mask) into condition tokens (and their mask)."""
        mask = features.mask
        x = self.positions(self.input_proj(zero_padding(features.features, mask)))
        for block, pool in zip(self.blocks, self.pools, strict=True):
            x, mask = pool(block(x, mask), mask)
        tokens = zero_padding(self.norm(x), mask)
        pooled = self.pooled(tokens, mask) if self.pooled is not None else None
        return Condition(tokens=tokens, mask=mask, pooled=pooled)
