"""The synthesizer's fingerprint: everything its speech depends on, as one short hash."""

from __future__ import annotations

import hashlib
import json

from voxcore.plugin_api import file_digest, folder_fingerprint
from voxcore_f5tts.config import F5Architecture, F5TTSConfig
from voxcore_f5tts.sources import VOCODER_FILES, F5Files

__all__ = ["synthesizer_fingerprint"]

#: Settings that change no sample (batching is masked, see :mod:`voxcore_f5tts.sampling`)
#: or are covered by the files' own fingerprints.
_NOT_SPEECH = {"batch_size", "revision", "cache_dir", "model", "vocoder", "vocab",
               "architecture"}


def synthesizer_fingerprint(config: F5TTSConfig, architecture: F5Architecture,
                            files: F5Files) -> str:
    """Hash of the weight files (names, sizes, modification times, as voxcore's
    ``folder_fingerprint``), the vocabulary's content, the DiT's dimensions and the sampling
    and preprocessing settings."""
    settings = config.model_dump(exclude=_NOT_SPEECH)
    parts = {
        "checkpoint": folder_fingerprint(files.checkpoint.parent, [files.checkpoint.name]),
        "vocab": file_digest(files.vocab),
        "vocoder": folder_fingerprint(files.vocoder, VOCODER_FILES),
        "architecture": architecture.model_dump(),
        "settings": settings,
    }
    text = json.dumps(parts, sort_keys=True)
    return "f5-tts-" + hashlib.sha256(text.encode()).hexdigest()[:16]
