"""Transcripts of reference voices whose corpus does not say what they say (MEAD).

A synthesizer that imitates a reference (F5-TTS) needs its transcript. References without
one are transcribed by the build's ``asr`` component (any registered encoder that can
transcribe, such as ``asr``: Whisper), only when first used, and cached by audio content and
the transcriber's fingerprint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from voxcore.plugin_api import BuiltComponent, ReferenceVoice, blame, load_audio
from voxcore_voxemoset.store import BuildStore, content_key, file_key

__all__ = ["ReferenceTranscripts"]


@dataclass
class ReferenceTranscripts:
    """Fills in missing reference transcripts with a transcriber."""

    transcriber: BuiltComponent
    store: BuildStore
    #: Each reference's cache key, computed once (a reference speaks many captions).
    _keys: dict[str, str] = field(default_factory=dict)

    def fill(self, references: Sequence[ReferenceVoice]) -> list[ReferenceVoice]:
        """``references``, each with a transcript (transcribing those without one)."""
        fingerprint = str(self.transcriber.component.transcriber_fingerprint)
        for reference in references:
            if reference.transcript is None and reference.id not in self._keys:
                self._keys[reference.id] = content_key(fingerprint, file_key(reference.audio))
        keys = {r.id: self._keys[r.id] for r in references if r.transcript is None}
        known: dict[str, str] = {}
        missing: list[ReferenceVoice] = []
        for reference in references:
            if reference.id not in keys or reference.id in known:
                continue
            record = self.store.read(self.store.transcript_path(keys[reference.id]))
            if record is not None:
                known[reference.id] = str(record["transcript"])
            elif reference not in missing:
                missing.append(reference)
        if missing:
            waves = [load_audio(r.audio) for r in missing]
            with blame(self.transcriber.label, "transcribing reference voices"):
                texts = self.transcriber.component.transcribe(waves)
            for reference, text in zip(missing, texts, strict=True):
                known[reference.id] = " ".join(str(text).split())
                self.store.write(self.store.transcript_path(keys[reference.id]),
                                 {"reference": reference.id, "transcript": known[reference.id]})
        return [replace(r, transcript=known[r.id]) if r.id in keys else r for r in references]
