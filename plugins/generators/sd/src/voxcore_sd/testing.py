"""Tiny random-weight Stable Diffusion parts with SD1.5's and SDXL's block types, for tests.

The sizes follow diffusers' own pipeline tests (``get_dummy_components``): the same block
types, attention layouts and, for SDXL, ``text_time`` added conditioning, at a few channels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel

SD15_UNET: dict[str, Any] = {
    "block_out_channels": (8, 16), "layers_per_block": 1, "sample_size": 4,
    "in_channels": 4, "out_channels": 4,
    "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
    "cross_attention_dim": 16, "attention_head_dim": 4, "norm_num_groups": 4,
}

SDXL_UNET: dict[str, Any] = {
    "block_out_channels": (8, 16), "layers_per_block": 1, "sample_size": 4,
    "in_channels": 4, "out_channels": 4,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
    "attention_head_dim": (2, 4), "use_linear_projection": True,
    "addition_embed_type": "text_time", "addition_time_embed_dim": 4,
    "transformer_layers_per_block": (1, 2), "projection_class_embeddings_input_dim": 24 + 12,
    "cross_attention_dim": 24, "norm_num_groups": 4,
}

VAE: dict[str, Any] = {
    "block_out_channels": [8, 8], "in_channels": 3, "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 2, "up_block_types": ["UpDecoderBlock2D"] * 2,
    "latent_channels": 4, "norm_num_groups": 4, "sample_size": 16,
}

SCHEDULE: dict[str, Any] = {
    "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000, "clip_sample": False, "prediction_type": "epsilon",
    "steps_offset": 1,
}

#: Pixels per side of the tiny models' images (the VAE halves it once: 8x8 latents).
RESOLUTION = 16


def tiny_parts(xl: bool, seed: int = 0, prediction_type: str = "epsilon"
               ) -> tuple[UNet2DConditionModel, AutoencoderKL, DDPMScheduler]:
    """A tiny UNet (SD1.5 or SDXL block types), VAE and scheduler, seeded."""
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**(SDXL_UNET if xl else SD15_UNET))
    vae = AutoencoderKL(**VAE)
    scheduler = DDPMScheduler(**{**SCHEDULE, "prediction_type": prediction_type})
    return unet, vae, scheduler


def save_tiny_checkpoint(folder: Path, xl: bool, seed: int = 0) -> Path:
    """A tiny checkpoint laid out as a diffusers pipeline's ``save_pretrained`` lays it out."""
    unet, vae, scheduler = tiny_parts(xl, seed)
    unet.save_pretrained(folder / "unet")
    vae.save_pretrained(folder / "vae")
    scheduler.save_pretrained(folder / "scheduler")
    pipeline = "StableDiffusionXLPipeline" if xl else "StableDiffusionPipeline"
    (folder / "model_index.json").write_text(json.dumps({
        "_class_name": pipeline, "_diffusers_version": "0.36.0",
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
        "scheduler": ["diffusers", "DDPMScheduler"]}))
    return folder
