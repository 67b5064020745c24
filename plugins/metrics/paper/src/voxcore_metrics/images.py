"""Checking and batching the images metrics receive."""

from __future__ import annotations

from collections.abc import Iterator

from voxcore.plugin_api import check_images

__all__ = ["check_images", "chunks"]


def chunks(count: int, size: int) -> Iterator[slice]:
    """Slices ``[start, start + size)`` covering ``range(count)``."""
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))
