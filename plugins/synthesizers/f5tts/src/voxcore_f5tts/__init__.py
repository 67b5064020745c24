"""voxcore plugin: the ``f5-tts`` speech synthesizer (F5-TTS, the paper's TTS).

This module is imported whenever voxcore loads its plugins, so it only declares the config
and registers the synthesizer; torch and f5-tts are imported by
:mod:`voxcore_f5tts.synthesizer` when one is built.
"""

from __future__ import annotations

from typing import Any

from voxcore.plugin_api import hookimpl
from voxcore_f5tts.config import (
    ARCHITECTURE_NAMES,
    DEFAULT_MODEL,
    DEFAULT_VOCODER,
    F5Architecture,
    F5TTSConfig,
)

__all__ = ["ARCHITECTURE_NAMES", "DEFAULT_MODEL", "DEFAULT_VOCODER", "F5Architecture",
           "F5TTSConfig", "voxcore_register_synthesizers"]


@hookimpl
def voxcore_register_synthesizers(register: Any) -> None:
    """Register the ``f5-tts`` synthesizer."""
    register("f5-tts", config=F5TTSConfig,
             factory="voxcore_f5tts.synthesizer:F5TTSSynthesizer",
             description="F5-TTS v1 Base: speech imitating a reference voice (24 kHz; weights "
                         "CC-BY-NC)")
