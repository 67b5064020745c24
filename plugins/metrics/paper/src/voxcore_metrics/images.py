"""Checking and batching the images metrics receive."""

from __future__ import annotations

from collections.abc import Iterator

import torch

__all__ = ["check_images", "chunks"]


def check_images(images: torch.Tensor, what: str = "images") -> None:
    """Raise ``ValueError`` unless ``images`` is a float ``[B, 3, H, W]`` tensor."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"{what} must be [B, 3, H, W], got shape {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(f"{what} must be float in [0, 1], got {images.dtype}")


def chunks(count: int, size: int) -> Iterator[slice]:
    """Slices ``[start, start + size)`` covering ``range(count)``."""
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))
