"""Emotion words of emotional-speech corpora, and the canonical names they map to."""

from __future__ import annotations

from voxcore.plugin_api import CANONICAL_EMOTIONS

__all__ = ["EMOTION_WORDS", "canonical_emotion"]

#: Lower-case words corpora use for emotions -> :data:`CANONICAL_EMOTIONS`.
EMOTION_WORDS: dict[str, str] = {
    **{name: name for name in CANONICAL_EMOTIONS},
    "happy": "enjoyment", "happiness": "enjoyment", "joy": "enjoyment", "hap": "enjoyment",
    "angry": "anger", "ang": "anger",
    "disgusted": "disgust", "dis": "disgust",
    "fearful": "fear", "fea": "fear",
    "sad": "sadness",
    "neu": "neutral",
    "surprised": "surprise", "sur": "surprise",
}


def canonical_emotion(word: str) -> str | None:
    """The canonical name of a corpus's emotion word (any case), ``None`` if it has none."""
    return EMOTION_WORDS.get(word.strip().lower())
