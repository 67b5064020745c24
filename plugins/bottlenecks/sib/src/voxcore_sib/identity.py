"""The ``identity`` bottleneck: the encoder's features are the generator's condition tokens.

With the frozen ``clip-text`` encoder and a frozen ``sd15`` generator it reproduces Stable
Diffusion's own text-to-image path ("SD (T2I)"), since the CLIP states reach the UNet
untouched. It projects the tokens with a Linear only when the widths differ (or when asked
to), and with ``pooled_dim`` set adds a pooled vector (masked mean of the tokens, then a
Linear) for SDXL's added conditioning.
"""

from __future__ import annotations

from torch import nn

from voxcore.plugin_api import (
    BottleneckWidths,
    Condition,
    ConfigProblem,
    SpeechFeatures,
    zero_padding,
)
from voxcore_sib import IdentityConfig
from voxcore_sib.layers import pooled_head

__all__ = ["IdentityBottleneck"]


class IdentityBottleneck(BottleneckWidths, nn.Module):
    """Features ``[B, N, input_dim]`` -> condition tokens ``[B, N, output_dim]``, same mask.

    ``proj`` is a Linear when ``config.project`` is ``"always"``, or ``"auto"`` with
    ``input_dim != output_dim``; otherwise the tokens are the features themselves (with
    padded positions zeroed). ``pooled`` (with ``pooled_dim``) is a masked mean of the tokens
    followed by a Linear. Without either it has no parameters at all.
    """

    config: IdentityConfig

    def __init__(self, config: IdentityConfig) -> None:
        super().__init__()
        input_dim, output_dim = self.adopt_widths(config)
        project = config.project == "always" or (config.project == "auto"
                                                 and input_dim != output_dim)
        if not project and input_dim != output_dim:
            raise ConfigProblem("project", f"project='never', but the encoder's width "
                                           f"({input_dim}) differs from the generator's "
                                           f"cross-attention width ({output_dim}); use "
                                           "project='auto' to add a Linear")
        self.proj: nn.Linear | None = nn.Linear(input_dim, output_dim) if project else None
        self.pooled = pooled_head(output_dim, config.pooled_dim)

    def forward(self, features: SpeechFeatures) -> Condition:
        """The features (projected if configured) and their mask as the condition."""
        mask = features.mask
        tokens = zero_padding(features.features, mask)
        if self.proj is not None:
            tokens = zero_padding(self.proj(tokens), mask)
        pooled = self.pooled(tokens, mask) if self.pooled is not None else None
        return Condition(tokens=tokens, mask=mask, pooled=pooled)

    def extra_repr(self) -> str:
        return (f"input_dim={self.input_dim}, output_dim={self.output_dim}, "
                f"pooled_dim={self.pooled_dim}, project={self.proj is not None}")
