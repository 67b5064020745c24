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
from voxcore.caches.content import (
    CachedRows,
    CacheFill,
    ContentCache,
    entry_metadata,
    file_digest,
)
from voxcore.encoding import encode_waveforms
from voxcore.interfaces import HasWeightsFingerprint, SpeechEncoder
from voxcore.recipe import BoundComponent

__all__ = ["CachedFeatures", "FeatureCache", "encoder_key", "file_digest"]

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
        fingerprint = (str(encoder.weights_fingerprint or "")
                       if isinstance(encoder, HasWeightsFingerprint) else "")
        return self.root / encoder_key(self.bound, fingerprint)

    def fill(
        self, audio_paths: Sequence[Path], encoder: SpeechEncoder, batch_size: int = 16,
        *, log_summary: bool = True,
    ) -> tuple[CacheFill, float]:
        """The cache entry of each file (computing missing ones) and the features' frame rate.

        Each entry holds the valid frames ``[n_i, D]`` of one file as tensor ``"features"``.
        """
        cache = ContentCache(self.root, self.folder_for(encoder), "features")
        rates: list[float] = []

        def compute(paths: Sequence[Path]) -> list[tuple[torch.Tensor, dict[str, str]]]:
            encoded = encode_waveforms(encoder, [load_audio(path) for path in paths],
                                       self.bound.label)
            rates.append(encoded.frame_rate)
            metadata = {"frame_rate": str(encoded.frame_rate), "encoder": self.encoder_name}
            return [(encoded.features[row][encoded.mask[row]].float().cpu(), metadata)
                    for row in range(len(paths))]

        if not audio_paths:
            raise ValueError("no audio files were given to encode")
        filled = cache.fill(audio_paths, compute, batch_size)
        frame_rate = rates[0] if rates else float(
            entry_metadata(filled.entries[0])["frame_rate"])
        if log_summary:
            log.info("speech features (%s): %s", self.encoder_name, filled.summary)
        return filled, frame_rate

    def features(
        self, audio_paths: Sequence[Path], encoder: SpeechEncoder, batch_size: int = 16,
        *, log_summary: bool = True,
    ) -> CachedFeatures:
        """Features of each file, computing and storing the ones not cached yet."""
        filled, frame_rate = self.fill(audio_paths, encoder, batch_size, log_summary=log_summary)
        rows = CachedRows(filled.entries, "features", preload_bytes=0)
        return CachedFeatures(rows.rows(range(len(rows))), frame_rate, filled.reused,
                              filled.computed)
