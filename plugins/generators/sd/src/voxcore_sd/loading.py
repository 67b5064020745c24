"""Loading the UNet, VAE and noise schedule of a diffusers Stable Diffusion checkpoint.

Only the three parts voxcore uses are read (and, from the hub, downloaded): ``unet/``,
``vae/`` and ``scheduler/``; the text encoders are replaced by the speech condition. Weights
are read from safetensors only. For ``voxcore recipe check`` the architectures are built on
the meta device from the checkpoint folder's ``config.json`` files, or, for the published
checkpoints, from :mod:`voxcore_sd.architectures`, without reading any weights.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="User provided device_type of 'cuda'")
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel

from voxcore.plugin_api import (
    CannotCheck,
    UserError,
    checking,
    folder_fingerprint,
    resolve_pretrained,
)
from voxcore_sd import SD15_MODEL, SDXL_MODEL, StableDiffusionConfig
from voxcore_sd.architectures import SD15_UNET, SD_VAE, SDXL_UNET, SDXL_VAE

__all__ = ["load_checkpoint", "CHECKPOINT_FILES"]

#: What is read from a checkpoint (and fetched from the hub when it is not cached).
CHECKPOINT_FILES = ("model_index.json", "scheduler/*.json", "unet/*.json", "vae/*.json",
                    "unet/*.safetensors", "vae/*.safetensors")


def load_checkpoint(config: StableDiffusionConfig, *, xl: bool
                    ) -> tuple[UNet2DConditionModel, AutoencoderKL, DDPMScheduler, str]:
    """The UNet, the VAE, a DDPM scheduler with the checkpoint's noise schedule, and a
    fingerprint of the VAE's files (for caching image latents)."""
    if checking():
        return _architecture(config, xl=xl)
    what = "SDXL checkpoint" if xl else "Stable Diffusion checkpoint"
    folder = resolve_pretrained(config.model, what=what, allow_patterns=CHECKPOINT_FILES,
                                revision=config.revision, cache_dir=config.cache_dir,
                                recipe_key="generator.config.model")
    for part in ("unet", "vae", "scheduler"):
        if not (folder / part).is_dir():
            raise UserError(f"{what} {folder} has no {part}/ folder; set generator.config.model "
                            "to a diffusers checkpoint folder (unet/, vae/, scheduler/), as "
                            "save_pretrained() of a diffusers pipeline writes it")
    unet = _load(UNet2DConditionModel, folder, "unet", config.variant)
    vae = _load(AutoencoderKL, folder, "vae", config.variant)
    scheduler = DDPMScheduler.from_pretrained(folder, subfolder="scheduler")
    return unet, vae, scheduler, folder_fingerprint(folder / "vae")


def _load(model_class: Any, folder: Path, part: str, variant: str | None) -> Any:
    try:
        return model_class.from_pretrained(folder, subfolder=part, use_safetensors=True,
                                           variant=variant)
    except OSError as exc:
        pickled = sorted(p.name for p in (folder / part).glob("*.bin"))
        hint = (f" It has {', '.join(pickled)}: voxcore loads only safetensors; convert with "
                "diffusers (from_pretrained(...).save_pretrained(..., safe_serialization=True))"
                if pickled else "")
        raise UserError(f"could not load {part}/ of {folder} ({exc}).{hint}") from exc



def _architecture(config: StableDiffusionConfig, *, xl: bool
                  ) -> tuple[UNet2DConditionModel, AutoencoderKL, DDPMScheduler, str]:
    """The checkpoint's UNet, VAE and schedule without weights (under the meta device)."""
    folder = Path(config.model).expanduser()
    if (folder / "unet" / "config.json").is_file() and (folder / "vae" / "config.json").is_file():
        unet_config = json.loads((folder / "unet" / "config.json").read_text())
        vae_config = json.loads((folder / "vae" / "config.json").read_text())
    elif config.model == (SDXL_MODEL if xl else SD15_MODEL):
        unet_config, vae_config = (SDXL_UNET, SDXL_VAE) if xl else (SD15_UNET, SD_VAE)
    else:
        raise CannotCheck(f"the architecture of checkpoint {config.model!r} is only known from "
                          "its unet/ and vae/ config.json files, and it is not a local folder")
    unet = UNet2DConditionModel.from_config(unet_config)
    vae = AutoencoderKL.from_config(vae_config)
    return unet, vae, DDPMScheduler(), ""
