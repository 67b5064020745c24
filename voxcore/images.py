"""Reading, writing and tiling images as float tensors ``[3, H, W]`` in ``[0, 1]``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, UnidentifiedImageError

from voxcore.errors import UserError
from voxcore.io import atomic_path


class ImageError(UserError, ValueError):
    """An image file that cannot be used; the message names it and says what to do."""


def load_image(
    path: str | os.PathLike[str],
    resolution: int,
    *,
    crop_position: float = 0.5,
    flip: bool = False,
) -> torch.Tensor:
    """Read an image, scale its shorter side to ``resolution`` and crop it square.

    ``crop_position`` places the square along the longer side (0 = left/top, 0.5 = center,
    1 = right/bottom; a random crop draws it); ``flip`` mirrors the result left to right.
    Returns float32 ``[3, resolution, resolution]`` in ``[0, 1]``.
    """
    file = Path(path)
    if not file.is_file():
        raise ImageError(f"image file {file} does not exist; check the dataset's paths")
    try:
        with Image.open(file) as opened:
            image = opened.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageError(f"image file {file} could not be read ({exc}); it may be corrupt, "
                         "re-export it as PNG or JPEG") from exc
    width, height = image.size
    scale = resolution / min(width, height)
    size = (max(resolution, round(width * scale)), max(resolution, round(height * scale)))
    if size != image.size:
        image = image.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)
    left = int((size[0] - resolution) * crop_position)
    top = int((size[1] - resolution) * crop_position)
    image = image.crop((left, top, left + resolution, top + resolution))
    if flip:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    array = np.asarray(image, dtype=np.float32) / 255.0
    return torch.from_numpy(array.copy()).permute(2, 0, 1).contiguous()


def to_pil(image: torch.Tensor) -> Image.Image:
    """``[3, H, W]`` in ``[0, 1]`` to an RGB PIL image."""
    array = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
    return Image.fromarray(array.permute(1, 2, 0).cpu().numpy())  # uint8 [H, W, 3]: RGB


def save_image(image: torch.Tensor | Image.Image, path: str | os.PathLike[str]) -> None:
    """Write an image as PNG, atomically."""
    pil = image if isinstance(image, Image.Image) else to_pil(image)
    with atomic_path(path) as tmp:
        pil.save(tmp, format="PNG")


def image_grid(
    images: Sequence[torch.Tensor],
    columns: int,
    *,
    scale: int = 1,
    padding: int = 2,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
) -> Image.Image:
    """Tile images (row by row) into one picture, optionally enlarged and labelled."""
    if not images:
        raise ValueError("image_grid needs at least one image")
    tiles = [to_pil(image) for image in images]
    if scale != 1:
        tiles = [t.resize((t.width * scale, t.height * scale), Image.Resampling.NEAREST)
                 for t in tiles]
    width, height = tiles[0].size
    rows = (len(tiles) + columns - 1) // columns
    left = 8 + 7 * max((len(label) for label in row_labels), default=0) if row_labels else 0
    top = 18 if column_labels else 0
    canvas = Image.new("RGB", (left + columns * (width + padding) + padding,
                               top + rows * (height + padding) + padding), "white")
    draw = ImageDraw.Draw(canvas)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        canvas.paste(tile, (left + padding + column * (width + padding),
                            top + padding + row * (height + padding)))
    for row, label in enumerate(row_labels or []):
        draw.text((4, top + padding + row * (height + padding) + height // 2 - 5), label,
                  fill="black")
    for column, label in enumerate(column_labels or []):
        draw.text((left + padding + column * (width + padding) + 2, 3), label, fill="black")
    return canvas
