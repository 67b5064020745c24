"""The ``tiny-unet`` denoiser: a conditional pixel-space UNet in plain torch.

It computes what diffusers' ``UNet2DConditionModel`` computes for the configurations
``tiny-unet`` builds (positional time embedding, an optional ``"projection"`` class embedding
of the pooled vector, ``DownBlock2D`` / ``CrossAttnDownBlock2D`` levels, a
``UNetMidBlock2DCrossAttn`` middle, the mirrored up levels), with the same weight names and
shapes, so a state dict moves between the two unchanged. Importing it costs only torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from voxcore_tiny_unet import TinyUnetConfig
from voxcore_tiny_unet.attention import Transformer2DModel, mask_bias

__all__ = ["ResnetBlock2D", "TinyUNet", "attending_levels", "build_unet", "norm_groups",
           "timestep_embedding"]

TimeScaleShift = Literal["default", "scale_shift"]
#: A skip connection's feature map, passed from a down level to its up level.
Skips = list[torch.Tensor]


def timestep_embedding(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding ``[B, dim]`` (float32) of ``timesteps`` ``[B]``: cosines first.

    diffusers' ``Timesteps(dim, flip_sin_to_cos=True, downscale_freq_shift=0)``.
    """
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32,
                                               device=timesteps.device) / half
    angles = timesteps[:, None].float() * torch.exp(exponent)[None, :]
    embedding = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
    return F.pad(embedding, (0, 1)) if dim % 2 else embedding


class TimestepEmbedding(nn.Module):
    """Linear -> SiLU -> Linear (of the time embedding, or of the pooled vector)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear_1 = nn.Linear(in_features, out_features)
        self.linear_2 = nn.Linear(out_features, out_features)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``[B, in_features]`` to ``[B, out_features]``."""
        output: torch.Tensor = self.linear_2(F.silu(self.linear_1(features)))
        return output


class ResnetBlock2D(nn.Module):
    """GroupNorm -> SiLU -> conv, the time embedding added (``"default"``) or scaling and
    shifting the second normalisation (``"scale_shift"``), GroupNorm -> SiLU -> conv, plus the
    input (through a 1x1 conv where the channel count changes)."""

    def __init__(self, in_channels: int, out_channels: int, temb_channels: int, groups: int,
                 time_embedding_norm: TimeScaleShift) -> None:
        super().__init__()
        self.time_embedding_norm = time_embedding_norm
        self.norm1 = nn.GroupNorm(groups, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        projected = 2 * out_channels if time_embedding_norm == "scale_shift" else out_channels
        self.time_emb_proj = nn.Linear(temb_channels, projected)
        self.norm2 = nn.GroupNorm(groups, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.conv_shortcut = (nn.Conv2d(in_channels, out_channels, kernel_size=1)
                              if in_channels != out_channels else None)

    def forward(self, hidden_states: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        """``[B, in, H, W]`` to ``[B, out, H, W]``; ``temb`` is the time embedding after SiLU."""
        residual = hidden_states
        hidden_states = self.conv1(F.silu(self.norm1(hidden_states)))
        time = self.time_emb_proj(temb)[:, :, None, None]
        if self.time_embedding_norm == "scale_shift":
            scale, shift = time.chunk(2, dim=1)
            hidden_states = self.norm2(hidden_states) * (1 + scale) + shift
        else:
            hidden_states = self.norm2(hidden_states + time)
        hidden_states = self.conv2(F.silu(hidden_states))
        if self.conv_shortcut is not None:
            residual = self.conv_shortcut(residual)
        return residual + hidden_states


class Downsample2D(nn.Module):
    """Halve the resolution with a strided 3x3 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, stride=2, padding=1)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` to ``[B, C, H / 2, W / 2]``."""
        output: torch.Tensor = self.conv(hidden_states)
        return output


class Upsample2D(nn.Module):
    """Double the resolution (nearest neighbour), then a 3x3 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` to ``[B, C, 2H, 2W]``."""
        output: torch.Tensor = self.conv(F.interpolate(hidden_states, scale_factor=2.0,
                                                       mode="nearest"))
        return output


@dataclass(frozen=True, slots=True)
class Context:
    """What every block reads besides its feature map: the time embedding (after SiLU) and
    the condition tokens with their attention bias."""

    temb: torch.Tensor
    tokens: torch.Tensor
    bias: torch.Tensor | None


class _Shared:
    """The settings every ResNet and attention layer of one UNet shares.

    Layers are created in the order diffusers creates them (each ResNet layer, then its
    attention), so a UNet built after ``torch.manual_seed(s)`` starts from the same random
    weights as diffusers' would have.
    """

    def __init__(self, temb_channels: int, groups: int, time_scale_shift: TimeScaleShift,
                 cross_attention_dim: int) -> None:
        self.temb_channels, self.groups = temb_channels, groups
        self.time_scale_shift, self.cross_attention_dim = time_scale_shift, cross_attention_dim

    def resnet(self, in_channels: int, out_channels: int) -> ResnetBlock2D:
        return ResnetBlock2D(in_channels, out_channels, self.temb_channels, self.groups,
                             self.time_scale_shift)

    def transformer(self, channels: int, heads: int) -> Transformer2DModel:
        return Transformer2DModel(channels, heads, self.cross_attention_dim, self.groups)

    def layers(self, in_channels: Sequence[int], out_channels: int, heads: int | None
               ) -> tuple[nn.ModuleList, nn.ModuleList | None]:
        """One ResNet layer per entry of ``in_channels``, each followed by attention when
        ``heads`` is set: ``(resnets, attentions or None)``."""
        resnets, attentions = nn.ModuleList(), nn.ModuleList()
        for channels in in_channels:
            resnets.append(self.resnet(channels, out_channels))
            if heads is not None:
                attentions.append(self.transformer(out_channels, heads))
        return resnets, attentions if heads is not None else None


class DownBlock(nn.Module):
    """One down level: ResNet layers (each followed by attention when ``heads`` is set), then
    a downsampler unless it is the last level. Its outputs are the skips of the up path.

    Weight names follow diffusers' ``DownBlock2D`` / ``CrossAttnDownBlock2D``.
    """

    def __init__(self, in_channels: int, out_channels: int, layers: int, heads: int | None,
                 downsample: bool, shared: _Shared) -> None:
        super().__init__()
        inputs = [in_channels] + [out_channels] * (layers - 1)
        self.resnets, self.attentions = shared.layers(inputs, out_channels, heads)
        self.downsamplers = nn.ModuleList([Downsample2D(out_channels)]) if downsample else None

    def forward(self, hidden_states: torch.Tensor, context: Context,
                skips: Skips) -> torch.Tensor:
        """Run the level, appending each layer's output (and the downsampled one) to
        ``skips``."""
        for i, resnet in enumerate(self.resnets):
            hidden_states = resnet(hidden_states, context.temb)
            if self.attentions is not None:
                hidden_states = self.attentions[i](hidden_states, context.tokens, context.bias)
            skips.append(hidden_states)
        if self.downsamplers is not None:
            hidden_states = self.downsamplers[0](hidden_states)
            skips.append(hidden_states)
        return hidden_states


class UpBlock(nn.Module):
    """One up level: ResNet layers over the feature map concatenated with a skip (each
    followed by attention when ``heads`` is set), then an upsampler unless it is the last.

    Weight names follow diffusers' ``UpBlock2D`` / ``CrossAttnUpBlock2D``.
    """

    def __init__(self, in_channels: int, out_channels: int, skip_channels: Sequence[int],
                 heads: int | None, upsample: bool, shared: _Shared) -> None:
        super().__init__()
        inputs = [in_channels] + [out_channels] * (len(skip_channels) - 1)
        self.resnets, self.attentions = shared.layers(
            [i + s for i, s in zip(inputs, skip_channels, strict=True)], out_channels, heads)
        self.upsamplers = nn.ModuleList([Upsample2D(out_channels)]) if upsample else None

    def forward(self, hidden_states: torch.Tensor, context: Context,
                skips: Skips) -> torch.Tensor:
        """Run the level, taking its skips from the end of ``skips``."""
        for i, resnet in enumerate(self.resnets):
            hidden_states = resnet(torch.cat([hidden_states, skips.pop()], dim=1), context.temb)
            if self.attentions is not None:
                hidden_states = self.attentions[i](hidden_states, context.tokens, context.bias)
        if self.upsamplers is not None:
            hidden_states = self.upsamplers[0](hidden_states)
        return hidden_states


class MidBlock(nn.Module):
    """ResNet, attention, ResNet at the coarsest level (diffusers' ``UNetMidBlock2DCrossAttn``)."""

    def __init__(self, channels: int, heads: int, shared: _Shared) -> None:
        super().__init__()
        first = shared.resnet(channels, channels)  # created in diffusers' order (see _Shared)
        self.attentions = nn.ModuleList([shared.transformer(channels, heads)])
        self.resnets = nn.ModuleList([first, shared.resnet(channels, channels)])

    def forward(self, hidden_states: torch.Tensor, context: Context) -> torch.Tensor:
        """``[B, C, H, W]`` to ``[B, C, H, W]``."""
        hidden_states = self.resnets[0](hidden_states, context.temb)
        hidden_states = self.attentions[0](hidden_states, context.tokens, context.bias)
        output: torch.Tensor = self.resnets[1](hidden_states, context.temb)
        return output


class TinyUNet(nn.Module):
    """A conditional UNet on ``in_channels``-channel images.

    One level per entry of ``block_out_channels`` (finest first), each with
    ``layers_per_block`` ResNet layers (``+ 1`` on the way up); the levels where ``attends``
    is true, and the middle, add a transformer block after each ResNet layer, attending to
    the condition tokens (``cross_attention_dim`` wide) with ``head_dim`` channels per head.
    The time embedding is ``4 * block_out_channels[0]`` wide; with ``pooled_dim`` set, an MLP
    of the pooled vector is added to it.
    """

    def __init__(self, *, block_out_channels: Sequence[int], attends: Sequence[bool],
                 layers_per_block: int, cross_attention_dim: int, head_dim: int,
                 norm_num_groups: int, pooled_dim: int | None = None,
                 time_scale_shift: TimeScaleShift = "default", in_channels: int = 3,
                 out_channels: int = 3) -> None:
        super().__init__()
        channels = list(block_out_channels)
        if len(attends) != len(channels):
            raise ValueError(f"attends has {len(attends)} entries for {len(channels)} levels")
        levels = len(channels)
        heads = [c // head_dim if a else None for c, a in zip(channels, attends, strict=True)]
        self.time_channels = channels[0]
        temb_channels = 4 * channels[0]
        shared = _Shared(temb_channels, norm_num_groups, time_scale_shift, cross_attention_dim)

        self.conv_in = nn.Conv2d(in_channels, channels[0], kernel_size=3, padding=1)
        self.time_embedding = TimestepEmbedding(channels[0], temb_channels)
        self.class_embedding = (TimestepEmbedding(pooled_dim, temb_channels)
                                if pooled_dim is not None else None)
        self.down_blocks = nn.ModuleList(
            [DownBlock(channels[max(i - 1, 0)], channels[i], layers_per_block, heads[i],
                       downsample=i < levels - 1, shared=shared) for i in range(levels)])
        self.mid_block = MidBlock(channels[-1], channels[-1] // head_dim, shared)
        # The skips of level i, in the order its up level takes them: the downsampled output
        # of the level above (or the input convolution) last.
        skip_channels = [[channels[i]] * layers_per_block + [channels[max(i - 1, 0)]]
                         for i in range(levels)]
        self.up_blocks = nn.ModuleList(
            [UpBlock(channels[min(i + 1, levels - 1)], channels[i], skip_channels[i], heads[i],
                     upsample=i > 0, shared=shared) for i in reversed(range(levels))])
        self.conv_norm_out = nn.GroupNorm(norm_num_groups, channels[0])
        self.conv_out = nn.Conv2d(channels[0], out_channels, kernel_size=3, padding=1)

    def forward(self, sample: torch.Tensor, timesteps: torch.Tensor, tokens: torch.Tensor,
                mask: torch.Tensor | None = None,
                pooled: torch.Tensor | None = None) -> torch.Tensor:
        """Predict from ``sample`` ``[B, C, H, W]`` at ``timesteps`` (``[B]`` or one for all).

        ``tokens`` ``[B, N, cross_attention_dim]`` are attended to where ``mask`` (bool
        ``[B, N]``) is true; ``pooled`` ``[B, pooled_dim]`` is required when the UNet has a
        pooled input.
        """
        dtype = sample.dtype
        timesteps = timesteps.reshape(-1).to(sample.device).expand(sample.shape[0])
        # The sinusoids are computed in float32, then cast, as diffusers does.
        temb = self.time_embedding(timestep_embedding(timesteps, self.time_channels).to(dtype))
        if self.class_embedding is not None:
            if pooled is None:
                raise ValueError("this UNet adds a pooled vector to its time embedding; "
                                 "pass pooled")
            temb = temb + self.class_embedding(pooled).to(dtype)
        # Every ResNet layer reads the time embedding through a SiLU: apply it once here.
        context = Context(F.silu(temb), tokens,
                          None if mask is None else mask_bias(mask, dtype))

        hidden_states = self.conv_in(sample)
        skips: Skips = [hidden_states]
        for down in self.down_blocks:
            hidden_states = down(hidden_states, context, skips)
        hidden_states = self.mid_block(hidden_states, context)
        for up in self.up_blocks:
            hidden_states = up(hidden_states, context, skips)
        output: torch.Tensor = self.conv_out(F.silu(self.conv_norm_out(hidden_states)))
        return output


def attending_levels(levels: int) -> list[bool]:
    """Which of ``levels`` levels have attention: all but the first (full-resolution) one,
    where attention is dearest, unless it is the only one."""
    return [levels == 1 or i > 0 for i in range(levels)]


def norm_groups(channels: Sequence[int]) -> int:
    """The GroupNorm group count: every channel count must be divisible by it."""
    return math.gcd(32, *channels)


def build_unet(config: TinyUnetConfig) -> TinyUNet:
    """The UNet described by ``config``, with random weights.

    Every level but the first (full resolution) has attention, as does the middle block.
    """
    channels = config.block_out_channels
    return TinyUNet(block_out_channels=channels, attends=attending_levels(len(channels)),
                    layers_per_block=config.layers_per_block,
                    cross_attention_dim=config.cross_attention_dim,
                    head_dim=config.attention_head_dim, norm_num_groups=norm_groups(channels),
                    pooled_dim=config.pooled_dim, time_scale_shift=config.time_scale_shift)
