"""A disk cache of frozen speech-encoder features, addressed by content.

A feature file's key is the hash of the audio file's bytes and of the encoder's identity
(distribution, version, name and full config), so the same audio encoded by the same encoder
is computed once and reused by every later run and ablation, and anything that could change
the features (a new config, a new plugin version, an edited wav) misses the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from voxcore.audio import load_audio
from voxcore.interfaces import SpeechEncoder
from voxcore.io import save_tensors
from voxcore.recipe import BoundComponent

log = logging.getLogger(__name__)


def encoder_key(encoder: BoundComponent, fingerprint: str = "") -> str:
    """Hash of everything about an encoder that can change its features.

    ``fingerprint`` is what the built encoder reports as ``weights_fingerprint`` (for an encoder
    that loads weights named in its config, a hash of those files), so that new weights behind
    the same name miss the cache.
    """
    identity = {
        "component": encoder.entry.qualified_name,
        "version": encoder.entry.version,
        "config": encoder.config.model_dump(mode="json"),
    }
    if fingerprint:
        identity["weights"] = fingerprint
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class CachedFeatures:
    """The valid frames ``[n_i, D]`` of each file, their frame rate, and what was reused."""

    features: list[torch.Tensor]
    frame_rate: float
    reused: int
    computed: int

    @property
    def summary(self) -> str:
        """One line for the log."""
        return f"{self.reused} reused from the cache, {self.computed} computed"


class FeatureCache:
    """Features of one encoder under ``root/<encoder key>/``."""

    def __init__(self, root: Path, encoder: BoundComponent) -> None:
        self.root = root
        self.bound = encoder
        self.encoder_name = encoder.entry.qualified_name

    def folder_for(self, encoder: SpeechEncoder) -> Path:
        """The folder of this built ``encoder``'s features (its weights fingerprint included)."""
        fingerprint = str(getattr(encoder, "weights_fingerprint", "") or "")
        return self.root / encoder_key(self.bound, fingerprint)

    def features(
        self, audio_paths: Sequence[Path], encoder: SpeechEncoder, batch_size: int = 16,
        *, log_summary: bool = True,
    ) -> CachedFeatures:
        """Features of each file, computing and storing the ones not cached yet."""
        from safetensors import safe_open

        folder = self.folder_for(encoder)

        def path_for(digest: str) -> Path:
            return folder / digest[:2] / f"{digest}.safetensors"

        digests = [file_digest(path) for path in audio_paths]
        results: dict[str, torch.Tensor] = {}
        missing: dict[str, Path] = {}
        frame_rate: float | None = None
        for digest, path in zip(digests, audio_paths, strict=True):
            if digest in results or digest in missing:
                continue
            cached = path_for(digest)
            if cached.is_file():
                with safe_open(str(cached), framework="pt") as handle:
                    results[digest] = handle.get_tensor("features")
                    frame_rate = float(handle.metadata()["frame_rate"])
            else:
                missing[digest] = path
        reused = len(results)
        pending = list(missing.items())
        for start in range(0, len(pending), batch_size):
            chunk = pending[start:start + batch_size]
            with torch.no_grad():
                encoded = encoder.encode([load_audio(path) for _, path in chunk])
            frame_rate = encoded.frame_rate
            for row, (digest, _) in enumerate(chunk):
                valid = encoded.features[row][encoded.mask[row]].float().cpu()
                save_tensors(path_for(digest), {"features": valid},
                             metadata={"frame_rate": str(encoded.frame_rate),
                                       "encoder": self.encoder_name})
                results[digest] = valid
        if frame_rate is None:
            raise ValueError("no audio files were given to encode")
        cached_features = CachedFeatures([results[d] for d in digests], frame_rate, reused,
                                         len(pending))
        if log_summary:
            log.info("speech features (%s): %s", self.encoder_name, cached_features.summary)
        return cached_features
