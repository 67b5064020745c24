"""Text handling as f5-tts's inference does it (``f5_tts.infer.utils_infer``).

The reference transcript gets sentence-final punctuation and trailing spaces, a long text is
cut into chunks at punctuation so that reference and chunk fit F5-TTS's ~22 s window, and the
length of each chunk's speech is the reference's length scaled by the ratio of their UTF-8
byte counts. Kept here rather than imported so that the inference module (which imports
transformers, matplotlib and Whisper's pipeline) is not needed.
"""

from __future__ import annotations

import re

__all__ = ["MAX_SECONDS", "chunk_frames", "chunk_text", "max_chunk_bytes", "reference_text",
           "spoken_reference", "tokens"]

#: Reference and generated speech together stay under this many seconds (f5-tts's 22).
MAX_SECONDS = 22.0

#: Chunks shorter than this many UTF-8 bytes are spoken slowly (f5-tts's speed 0.3 rule).
_SHORT_BYTES = 10
_SHORT_SPEED = 0.3

_SENTENCE_END = re.compile(r"(?<=[;:,.!?])\s+|(?<=[；：，。！？])")


def reference_text(transcript: str) -> str:
    """The transcript as f5-tts's preprocessing leaves it: ending ``". "`` (or ``"。"``).

    Surrounding whitespace is removed first (f5-tts keeps it; a corpus's trailing newline is
    not speech)."""
    text = transcript.strip()
    if not text.endswith(". ") and not text.endswith("。"):
        text += " " if text.endswith(".") else ". "
    return text


def max_chunk_bytes(reference: str, reference_seconds: float, speed: float) -> int:
    """The longest chunk (UTF-8 bytes) that fits the window beside the reference (f5-tts's
    rule; ``reference`` as :func:`reference_text` leaves it, before the extra space)."""
    return int(len(reference.encode("utf-8")) / reference_seconds
               * (MAX_SECONDS - reference_seconds) * speed)


def chunk_text(text: str, max_chars: int) -> list[str]:
    """``text`` cut after punctuation into chunks of at most ``max_chars`` UTF-8 bytes where
    sentences allow (f5-tts's ``chunk_text``)."""
    chunks: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        if not sentence:
            continue
        joiner = " " if len(sentence[-1].encode("utf-8")) == 1 else ""
        if len(current.encode("utf-8")) + len(sentence.encode("utf-8")) <= max_chars:
            current += sentence + joiner
        else:
            if current:
                chunks.append(current.strip())
            current = sentence + joiner
    if current:
        chunks.append(current.strip())
    return chunks


def spoken_reference(reference: str) -> str:
    """The reference text as ``infer_batch_process`` prefixes it: a space after a one-byte
    final character."""
    return reference + " " if len(reference[-1].encode("utf-8")) == 1 else reference


def chunk_frames(reference_frames: int, reference: str, chunk: str, speed: float) -> int:
    """Mel frames of reference plus chunk: the reference's frames per UTF-8 byte times the
    chunk's bytes, over ``speed`` (0.3 for chunks under 10 bytes), as f5-tts estimates."""
    local_speed = _SHORT_SPEED if len(chunk.encode("utf-8")) < _SHORT_BYTES else speed
    reference_bytes = len(reference.encode("utf-8"))
    return reference_frames + int(reference_frames / reference_bytes
                                  * len(chunk.encode("utf-8")) / local_speed)


def tokens(text: str, vocab: dict[str, int]) -> list[int]:
    """Token ids of ``text``: f5-tts's ``convert_char_to_pinyin`` (pinyin for Chinese, the
    characters otherwise), then the vocabulary (unknown symbols are 0, as in f5-tts)."""
    from f5_tts.model.utils import convert_char_to_pinyin  # type: ignore[import-untyped]

    symbols: list[str] = convert_char_to_pinyin([text])[0]
    return [vocab.get(symbol, 0) for symbol in symbols]
