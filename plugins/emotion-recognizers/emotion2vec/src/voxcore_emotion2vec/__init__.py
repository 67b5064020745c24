"""voxcore plugin: the ``emotion2vec`` speech emotion recognizer (the paper's emotion check).

emotion2vec+ (FunASR; default ``emotion2vec/emotion2vec_plus_large``) scores how angry,
disgusted, fearful, happy, neutral, sad or surprised an utterance sounds; dataset builders
such as VoxEmoset use it to make weak utterances again.

This module is imported whenever voxcore loads its plugins, so it only declares the config
and registers the recognizer; torch and FunASR are imported by
:mod:`voxcore_emotion2vec.recognizer` when one is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from voxcore.plugin_api import hookimpl
from voxcore_emotion2vec.config import DEFAULT_MODEL, Emotion2vecConfig
from voxcore_emotion2vec.labels import CANONICAL_OF, OTHER, PLUS_LABELS, canonical_emotion

if TYPE_CHECKING:
    from voxcore_emotion2vec.recognizer import Emotion2vecRecognizer
    from voxcore_emotion2vec.tiny import write_tiny_checkpoint

__all__ = ["CANONICAL_OF", "DEFAULT_MODEL", "OTHER", "PLUS_LABELS", "Emotion2vecConfig",
           "Emotion2vecRecognizer", "canonical_emotion", "voxcore_register_emotion_recognizers",
           "write_tiny_checkpoint"]

_LAZY = {"Emotion2vecRecognizer": "voxcore_emotion2vec.recognizer",
         "write_tiny_checkpoint": "voxcore_emotion2vec.tiny"}


def __getattr__(name: str) -> Any:
    # Names that import torch and FunASR, for code that uses this plugin directly.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'voxcore_emotion2vec' has no attribute {name!r}")


@hookimpl
def voxcore_register_emotion_recognizers(register: Any) -> None:
    """Register the ``emotion2vec`` recognizer."""
    register("emotion2vec", config=Emotion2vecConfig,
             factory="voxcore_emotion2vec.recognizer:build_emotion2vec_recognizer",
             description="emotion2vec+ utterance emotion scores (FunASR; default "
                         "emotion2vec/emotion2vec_plus_large, the paper's emotion check)")
