"""voxcore plugin: ``tiny-unet``, a small pixel-space diffusion UNet that trains on a CPU.

This module is imported whenever voxcore loads its plugins, so it only declares the
config and registers the generator; torch is imported by :mod:`voxcore_tiny_unet.generator`
when the generator is built. The UNet and samplers are plain torch with diffusers' weight
names and arithmetic (diffusers itself is needed only by the tests that compare them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voxcore.plugin_api import hookimpl

__all__ = ["TinyUnetConfig", "voxcore_register_generators"]


class TinyUnetConfig(BaseModel):
    """Architecture, noise schedule and loss of the ``tiny-unet`` generator.

    The UNet works directly on RGB pixels (no VAE). It has one resolution level per entry
    of ``block_out_channels``; every level but the first (full-resolution) one, and the
    middle block, has self- and cross-attention, so the condition enters at the coarser
    scales where attention is cheap.
    """

    model_config = ConfigDict(extra="forbid")

    resolution: int = Field(32, gt=0, description="side of the square images, in pixels")
    block_out_channels: list[int] = Field(
        default_factory=lambda: [32, 64, 64],
        description="channels of each resolution level, from the finest to the coarsest")
    layers_per_block: int = Field(1, gt=0, description="ResNet layers per level")
    cross_attention_dim: int = Field(128, gt=0, description="width of the condition tokens")
    attention_head_dim: int = Field(8, gt=0, description="channels per attention head")
    num_train_timesteps: int = Field(1000, gt=1, description="steps of the training noise schedule")
    beta_schedule: Literal["linear", "scaled_linear", "squaredcos_cap_v2"] = "squaredcos_cap_v2"
    prediction_type: Literal["epsilon", "v_prediction"] = Field(
        "v_prediction", description="what the UNet predicts; v_prediction samples the right "
        "colours from pure noise where epsilon drifts (measured on the two-colour test)")
    snr_gamma: float | None = Field(
        None, gt=0, description="Min-SNR-gamma loss weighting (5.0 is the usual value); "
                                "None = plain MSE")
    null_length: int = Field(1, gt=0, description="tokens in the learned null condition")
    pooled_dim: int | None = Field(
        None, gt=0, description="width of Condition.pooled, added to the time embedding; "
                                "None = no pooled vector")
    time_scale_shift: Literal["default", "scale_shift"] = Field(
        "default", description="how the time (+ pooled) embedding enters each ResNet block: "
                               "'default' adds it, 'scale_shift' scales and shifts the "
                               "normalised features with it (diffusers' "
                               "resnet_time_scale_shift)")

    @model_validator(mode="after")
    def _check_architecture(self) -> TinyUnetConfig:
        channels = self.block_out_channels
        if not channels:
            raise ValueError("block_out_channels must list at least one level")
        if any(c <= 0 for c in channels):
            raise ValueError(f"block_out_channels must be positive, got {channels}")
        uneven = [c for c in channels if c % self.attention_head_dim]
        if uneven:
            raise ValueError(f"every entry of block_out_channels must be a multiple of "
                             f"attention_head_dim={self.attention_head_dim}; {uneven} are not")
        factor = 2 ** (len(channels) - 1)
        if self.resolution % factor:
            raise ValueError(f"resolution {self.resolution} must be divisible by {factor} "
                             f"(it is halved {len(channels) - 1} times by {len(channels)} levels)")
        return self


@hookimpl
def voxcore_register_generators(register: Callable[..., None]) -> None:
    """Register the ``tiny-unet`` generator."""
    register("tiny-unet", config=TinyUnetConfig,
             factory="voxcore_tiny_unet.generator:TinyUnetGenerator",
             description="small pixel-space UNet with cross-attention, trains on a CPU")
