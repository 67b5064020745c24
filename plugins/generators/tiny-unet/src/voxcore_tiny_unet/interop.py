"""The ``tiny-unet`` UNet as a diffusers ``UNet2DConditionModel`` folder, without diffusers.

:class:`~voxcore_tiny_unet.unet.TinyUNet` has the weight names and shapes of diffusers'
``UNet2DConditionModel`` built with :func:`diffusers_unet_config`, so its state dict, saved
beside that config, is a folder that ``UNet2DConditionModel.from_pretrained`` reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from voxcore.plugin_api import load_tensors, save_tensors, write_text_atomic
from voxcore_tiny_unet import TinyUnetConfig
from voxcore_tiny_unet.unet import attending_levels, norm_groups

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "diffusers_unet_config", "load_unet_folder",
           "save_unet_folder"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "diffusion_pytorch_model.safetensors"
#: The diffusers release whose ``UNet2DConditionModel`` this UNet matches.
DIFFUSERS_VERSION = "0.36.0"


def diffusers_unet_config(config: TinyUnetConfig) -> dict[str, Any]:
    """The ``UNet2DConditionModel`` arguments of the UNet ``config`` describes."""
    channels = config.block_out_channels
    attends = attending_levels(len(channels))
    extra: dict[str, Any] = {}
    if config.pooled_dim is not None:
        extra = {"class_embed_type": "projection",
                 "projection_class_embeddings_input_dim": config.pooled_dim}
    return {
        "sample_size": config.resolution,
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ["CrossAttnDownBlock2D" if a else "DownBlock2D" for a in attends],
        "up_block_types": ["CrossAttnUpBlock2D" if a else "UpBlock2D"
                           for a in reversed(attends)],
        "block_out_channels": list(channels),
        "layers_per_block": config.layers_per_block,
        "cross_attention_dim": config.cross_attention_dim,
        # diffusers reads `attention_head_dim` as the number of heads (diffusers issue #2011).
        "attention_head_dim": [c // config.attention_head_dim for c in channels],
        "norm_num_groups": norm_groups(channels),
        "resnet_time_scale_shift": config.time_scale_shift,
        **extra,
    }


def save_unet_folder(folder: Path, config: TinyUnetConfig,
                     state: dict[str, torch.Tensor]) -> None:
    """Write the UNet weights ``state`` and their config as a diffusers model folder."""
    folder.mkdir(parents=True, exist_ok=True)
    header = {"_class_name": "UNet2DConditionModel", "_diffusers_version": DIFFUSERS_VERSION}
    write_text_atomic(folder / CONFIG_FILE,
                      json.dumps({**header, **diffusers_unet_config(config)}, indent=2) + "\n")
    save_tensors(folder / WEIGHTS_FILE, state, metadata={"format": "pt"})


def load_unet_folder(folder: Path) -> dict[str, torch.Tensor]:
    """The UNet weights :func:`save_unet_folder` wrote into ``folder``."""
    return load_tensors(folder / WEIGHTS_FILE)
