"""Reading image files and bringing images to the judge's resolution.

Real (training) images and generated images go through the same :func:`resize_images`, so the
classifier never sees a resampling difference between the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from voxcore.plugin_api import check_images

__all__ = ["check_images", "load_images", "resize_images"]


def resize_images(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Float ``[B, 3, H, W]`` -> float32 ``[B, 3, resolution, resolution]`` (antialiased)."""
    check_images(images)
    images = images.float()
    if tuple(images.shape[-2:]) == (resolution, resolution):
        return images
    return F.interpolate(images, size=(resolution, resolution), mode="bilinear",
                         antialias=True, align_corners=False).clamp(0, 1)


def load_images(paths: Sequence[Path], resolution: int) -> torch.Tensor:
    """Read image files as RGB into float32 ``[N, 3, resolution, resolution]`` in ``[0, 1]``."""
    out = torch.empty(len(paths), 3, resolution, resolution)
    for index, path in enumerate(paths):
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        tensor = torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0)
        out[index] = resize_images(tensor, resolution)[0]
    return out
