"""A plain Transformer bottleneck: the baseline of the paper's Table 8.

It keeps every frame (no length reduction): input Linear, optional positions, ``num_layers``
pre-norm Transformer layers, then a final LayerNorm at ``output_dim``.
"""

from __future__ import annotations

from torch import nn

from voxcore.plugin_api import (
    BottleneckWidths,
    Condition,
    SpeechFeatures,
    TransformerBlock,
    zero_padding,
)
from voxcore_sib.config import TransformerBottleneckConfig
from voxcore_sib.layers import Positions, pooled_head


class TransformerBottleneck(BottleneckWidths, nn.Module):
    """Speech features ``[B, N, input_dim]`` -> condition tokens ``[B, N, output_dim]``.

    Built from a :class:`~voxcore_sib.config.TransformerBottleneckConfig` whose ``input_dim``
    and ``output_dim`` are set. The layers work at ``width`` (default ``output_dim``); a
    Linear maps back to ``output_dim`` only when the two differ.
    """

    config: TransformerBottleneckConfig

    def __init__(self, config: TransformerBottleneckConfig) -> None:
        super().__init__()
        input_dim, output_dim = self.adopt_widths(config)
        width = config.width if config.width is not None else output_dim

        self.input_proj = nn.Linear(input_dim, width)
        self.positions = Positions(config.positional)
        self.layers = nn.ModuleList(
            TransformerBlock(width, config.num_heads, config.mlp_ratio, config.dropout)
            for _ in range(config.num_layers))
        self.output_proj: nn.Module = (nn.Linear(width, output_dim) if width != output_dim
                                       else nn.Identity())
        self.norm = nn.LayerNorm(output_dim)
        self.pooled = pooled_head(output_dim, config.pooled_dim)

    def forward(self, features: SpeechFeatures) -> Condition:
        """Map ``features`` (and their mask) to as many condition tokens (same mask)."""
        mask = features.mask
        x = self.positions(self.input_proj(zero_padding(features.features, mask)))
        for layer in self.layers:
            x = layer(x, mask)
        tokens = zero_padding(self.norm(self.output_proj(x)), mask)
        pooled = self.pooled(tokens, mask) if self.pooled is not None else None
        return Condition(tokens=tokens, mask=mask, pooled=pooled)
