"""Image encodings (a latent-diffusion generator's VAE posteriors) cached on disk.

A generator that works in a latent space can let the trainer cache what its frozen image
encoder makes of each training image, so the VAE runs once per image instead of once per
step. It opts in with the :class:`~voxcore.interfaces.SupportsLatentCache` ability:

- ``image_cache_key() -> str``: the identity of its image encoder and input size (empty when
  it cannot tell, which turns caching off);
- ``encode_for_cache(images) -> Tensor``: a deterministic encoding of ``[B, 3, R, R]`` images
  (for a VAE: posterior mean and standard deviation), which its
  ``training_loss_from_encoded`` turns into the same loss ``training_loss`` gives on the images.

Files live under ``<cache root>/latents/<key>/<image digest>.safetensors`` (see
:mod:`voxcore.caches.content`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from voxcore.caches.content import CacheFill, ContentCache
from voxcore.interfaces import SupportsLatentCache

log = logging.getLogger(__name__)

__all__ = ["LatentCache", "supports_latent_cache"]

_BATCH = 8


def supports_latent_cache(generator: object) -> str:
    """The generator's image cache key, or ``""`` when it does not cache encodings."""
    if not isinstance(generator, SupportsLatentCache):
        return ""
    return str(generator.image_cache_key())


class LatentCache:
    """Encodings of one generator's image encoder under ``root/latents/<key>/``."""

    def __init__(self, root: Path, key: str) -> None:
        self.root = root
        self.folder = root / "latents" / key

    def fill(self, paths: Sequence[Path], load: Callable[[Path], torch.Tensor],
             encode: Callable[[torch.Tensor], torch.Tensor], name: str) -> CacheFill:
        """The entry of each image file, computing (``load`` then ``encode``) missing ones.

        Each entry holds one image's encoding as tensor ``"encoding"``.
        """
        def compute(chunk: Sequence[Path]) -> list[tuple[torch.Tensor, dict[str, str]]]:
            encoded = encode(torch.stack([load(path) for path in chunk])).float().cpu()
            return [(row, {}) for row in encoded]

        filled = ContentCache(self.root, self.folder, "encoding").fill(paths, compute, _BATCH)
        log.info("image latents (%s): %s", name, filled.summary)
        return filled
