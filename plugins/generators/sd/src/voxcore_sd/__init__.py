"""voxcore plugin: Stable Diffusion 1.5 (``sd15``) and SDXL (``sdxl``) as image generators.

The speech condition replaces the text encoder: the bottleneck's tokens enter the UNet's
cross-attention (768 wide for SD1.5, 2048 for SDXL), and for SDXL the bottleneck's pooled
vector (1280) plus the usual size/crop ``time_ids`` feed the added conditioning, so the
pretrained UNet is used exactly as it was trained. The UNet trains ``frozen`` (only the
bottleneck learns), with ``lora`` adapters (peft) on its attention, or ``full``.

This module is imported whenever voxcore loads its plugins, so it only declares the configs
and registers the generators; torch and diffusers are imported by :mod:`voxcore_sd.generator`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from voxcore.plugin_api import Precision, PretrainedSource, hookimpl

__all__ = ["LoraSettings", "StableDiffusionConfig", "Sd15Config", "SdxlConfig",
           "voxcore_register_generators", "SD15_MODEL", "SDXL_MODEL"]

SD15_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
SDXL_MODEL = "stabilityai/stable-diffusion-xl-base-1.0"


class LoraSettings(BaseModel):
    """LoRA adapters on the UNet (used when ``train_mode`` is ``lora``)."""

    model_config = ConfigDict(extra="forbid")

    rank: int = Field(default=4, gt=0, description="rank of each adapter")
    alpha: float | None = Field(default=None, gt=0, description="scaling numerator; None = rank")
    targets: list[str] = Field(
        default_factory=lambda: ["to_q", "to_k", "to_v", "to_out.0"],
        description="UNet module names that get adapters (peft target_modules)")


class StableDiffusionConfig(PretrainedSource):
    """What both Stable Diffusion generators share."""

    model: str = Field(description="hub id of a diffusers Stable Diffusion checkpoint, or a "
                                   "local folder with its unet/, vae/ and scheduler/")
    variant: str | None = Field(None, description="weights variant to load, e.g. 'fp16'")
    resolution: int = Field(description="side of the square images, in pixels (multiple of 8)")
    train_mode: Literal["frozen", "lora", "full"] = Field(
        "frozen", description="frozen: the UNet does not train; lora: adapters on its attention "
                              "train; full: every UNet weight trains")
    lora: LoraSettings = Field(default_factory=LoraSettings)
    frozen_dtype: Precision = Field(
        "float32", description="precision of the weights that do not train (VAE, frozen UNet); "
                               "trainable weights always stay float32")
    snr_gamma: float | None = Field(None, gt=0, description="Min-SNR-gamma loss weighting; "
                                                            "None = plain MSE")
    null_length: int = Field(1, gt=0, description="tokens in the learned null condition")
    cache_latents: bool = Field(
        True, description="let the trainer cache each training image's VAE posterior on disk "
                          "(under data.cache_dir/latents), so the VAE runs once per image")


class Sd15Config(StableDiffusionConfig):
    """Settings of the ``sd15`` generator (a recipe's ``generator.config``)."""

    model: str = Field(SD15_MODEL, description=StableDiffusionConfig.model_fields["model"]
                       .description)
    resolution: int = Field(512, gt=0, multiple_of=8,
                            description="side of the square images, in pixels")


class SdxlConfig(StableDiffusionConfig):
    """Settings of the ``sdxl`` generator (a recipe's ``generator.config``)."""

    model: str = Field(SDXL_MODEL, description=StableDiffusionConfig.model_fields["model"]
                       .description)
    resolution: int = Field(1024, gt=0, multiple_of=8,
                            description="side of the square images, in pixels")


@hookimpl
def voxcore_register_generators(register: Callable[..., None]) -> None:
    """Register ``sd15`` and ``sdxl``."""
    register("sd15", config=Sd15Config, factory="voxcore_sd.generator:load_sd15",
             description="Stable Diffusion 1.5 UNet + VAE (diffusers); frozen, LoRA or full")
    register("sdxl", config=SdxlConfig, factory="voxcore_sd.generator:load_sdxl",
             description="SDXL base UNet + VAE (diffusers), pooled + time_ids added "
                         "conditioning; frozen, LoRA or full")
