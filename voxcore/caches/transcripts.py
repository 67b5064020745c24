"""A disk cache of what a cascade's speech recognizer heard in each audio file.

A cascade encoder (:class:`voxcore.interfaces.Transcriber`) trains on transcripts of the
training audio, not on the datasets' reference transcripts, so that training sees the same
recognition errors as inference. Recognition is slow and frozen, so each file is transcribed
once: entries are ``<cache root>/transcripts/<key>/<digest[:2]>/<digest>.txt``, keyed by the
audio's bytes and the transcriber's identity (component, version, ``transcriber_fingerprint``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from voxcore.audio import load_audio
from voxcore.caches.content import DigestMemo
from voxcore.failures import blame
from voxcore.interfaces import Transcriber
from voxcore.io import write_text_atomic
from voxcore.recipe import BoundComponent

log = logging.getLogger(__name__)

__all__ = ["TranscriptCache"]


class TranscriptCache:
    """Transcripts of one transcriber under ``root/transcripts/<key>/``."""

    def __init__(self, root: Path, encoder: BoundComponent, transcriber: Transcriber) -> None:
        identity = {"component": encoder.entry.qualified_name, "version": encoder.entry.version,
                    "transcriber": transcriber.transcriber_fingerprint}
        key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:20]
        self.root = root
        self.folder = root / "transcripts" / key
        self.transcriber = transcriber
        self.label = encoder.label
        self.name = encoder.entry.qualified_name

    def transcripts(self, audio_paths: Sequence[Path], batch_size: int = 16, *,
                    log_summary: bool = True) -> list[str]:
        """The transcript of each file, transcribing the ones not cached yet."""
        memo = DigestMemo(self.root / "file-digests.json")
        try:
            digests = memo.digests(audio_paths)
        finally:
            memo.save()
        known: dict[str, str] = {}
        missing: dict[str, Path] = {}
        for digest, path in zip(digests, audio_paths, strict=True):
            entry = self._entry(digest)
            if digest in known or digest in missing:
                continue
            if entry.is_file():
                known[digest] = entry.read_text(encoding="utf-8")
            else:
                missing[digest] = path
        reused = len(known)
        pending = list(missing.items())
        for start in range(0, len(pending), batch_size):
            chunk = pending[start:start + batch_size]
            with blame(self.label, "transcribing speech"):
                heard = self.transcriber.transcribe([load_audio(path) for _, path in chunk])
            for (digest, _), text in zip(chunk, heard, strict=True):
                write_text_atomic(self._entry(digest), text)
                known[digest] = text
        if log_summary:
            log.info("transcripts (%s): %d reused from the cache, %d transcribed", self.name,
                     reused, len(pending))
        return [known[d] for d in digests]

    def _entry(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.txt"
