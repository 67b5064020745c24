"""Image encodings (a latent-diffusion generator's VAE posteriors) cached on disk.

A generator that works in a latent space can let the trainer cache what its frozen image
encoder makes of each training image, so the VAE runs once per image instead of once per
step. It opts in with two methods:

- ``image_cache_key() -> str``: the identity of its image encoder and input size (empty when
  it cannot tell, which turns caching off);
- ``encode_for_cache(images) -> Tensor``: a deterministic encoding of ``[B, 3, R, R]`` images
  (for a VAE: posterior mean and standard deviation), which its
  ``training_loss_from_encoded`` turns into the same loss ``training_loss`` gives on the images.

Files live under ``<cache root>/latents/<key>/<image digest>.safetensors``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from voxcore.io import save_tensors
from voxcore.training.feature_cache import file_digest

log = logging.getLogger(__name__)

__all__ = ["LatentCache", "supports_latent_cache"]

_BATCH = 8


def supports_latent_cache(generator: object) -> str:
    """The generator's image cache key, or ``""`` when it does not cache encodings."""
    key = getattr(generator, "image_cache_key", None)
    has_methods = all(callable(getattr(generator, name, None)) for name in
                      ("encode_for_cache", "training_loss_from_encoded"))
    return str(key()) if callable(key) and has_methods else ""


class LatentCache:
    """Encodings of one generator's image encoder under ``root/latents/<key>/``."""

    def __init__(self, root: Path, key: str) -> None:
        self.folder = root / "latents" / key

    def encodings(self, paths: Sequence[Path], load: Callable[[Path], torch.Tensor],
                  encode: Callable[[torch.Tensor], torch.Tensor], name: str) -> torch.Tensor:
        """The encoding of each image file, computing (``load`` then ``encode``) missing ones."""
        from safetensors import safe_open

        digests = [file_digest(path) for path in paths]
        found: dict[str, torch.Tensor] = {}
        missing: dict[str, Path] = {}
        for digest, path in zip(digests, paths, strict=True):
            if digest in found or digest in missing:
                continue
            file = self._path(digest)
            if file.is_file():
                with safe_open(str(file), framework="pt") as handle:
                    found[digest] = handle.get_tensor("encoding")
            else:
                missing[digest] = path
        reused = len(found)
        pending = list(missing.items())
        for start in range(0, len(pending), _BATCH):
            chunk = pending[start:start + _BATCH]
            with torch.no_grad():
                encoded = encode(torch.stack([load(path) for _, path in chunk])).float().cpu()
            for row, (digest, _) in enumerate(chunk):
                save_tensors(self._path(digest), {"encoding": encoded[row]})
                found[digest] = encoded[row]
        log.info("image latents (%s): %d reused from the cache, %d computed", name, reused,
                 len(pending))
        return torch.stack([found[d] for d in digests])

    def _path(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.safetensors"
