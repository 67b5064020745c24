"""Checks of what components receive: image batches, text batches, layer indices.

Each raises an exception with a message that says what was expected; none imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from voxcore.errors import ConfigProblem

if TYPE_CHECKING:
    import torch

__all__ = ["check_images", "check_texts", "layer_index"]


def check_images(images: torch.Tensor, what: str = "images") -> None:
    """Raise ``ValueError`` unless ``images`` is a float ``[B, 3, H, W]`` tensor."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"{what} must be [B, 3, H, W], got shape {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(f"{what} must be float in [0, 1], got {images.dtype}")


def check_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list, or a :class:`TypeError` for one string or a non-string item."""
    if isinstance(texts, str):
        raise TypeError("encode_text takes a sequence of texts, not one string; wrap it in a "
                        f"list: [{texts[:20]!r}]")
    bad = [type(text).__name__ for text in texts if not isinstance(text, str)]
    if bad:
        raise TypeError(f"encode_text takes strings, got {', '.join(sorted(set(bad)))}")
    return list(texts)


def layer_index(layer: int, num_layers: int, what: str, key: str = "layer") -> int:
    """Hidden-state index ``layer`` (``0`` = embeddings, ``k`` = after layer k, negative from
    the end, ``-1`` = the last) as a non-negative index; :class:`ConfigProblem` at ``key``
    when a model with ``num_layers`` layers has no such state."""
    if not -(num_layers + 1) <= layer <= num_layers:
        raise ConfigProblem(key, f"{key}={layer} is out of range: this {what} has "
                                 f"{num_layers} layers, so {key} must be in "
                                 f"[{-(num_layers + 1)}, {num_layers}] (-1 = the last)")
    return layer % (num_layers + 1)
