"""voxcore plugin: build VoxEmoset, the paper's emotional speech-image dataset.

Registers the ``voxemoset`` dataset builder (``voxcore data voxemoset``) and the offline
components it runs by default, so a whole build needs no downloaded weights: reference-voice
corpora read from their released layouts (``crema-d``, ``ravdess``, ``mead``,
``voice-table``), captions made elsewhere (``captions-file``), espeak-ng speech with mood
prosody (``espeak``) and a small speech emotion classifier voxcore trains (``speech-emotion``).

This module is imported whenever voxcore loads its plugins, so it only declares configs and
registers factories by ``"module:attribute"`` name.
"""

from __future__ import annotations

from typing import Any

from voxcore.plugin_api import hookimpl
from voxcore_voxemoset.captions_file import CaptionsFileConfig
from voxcore_voxemoset.config import EmotionCheckConfig, ImagesConfig, VoxEmosetBuildConfig
from voxcore_voxemoset.emotion.config import SpeechEmotionConfig
from voxcore_voxemoset.espeak_config import EspeakSynthesizerConfig
from voxcore_voxemoset.voices.config import (
    CremaDConfig,
    MeadConfig,
    RavdessConfig,
    VoiceCorpusConfig,
    VoiceTableConfig,
)

__all__ = ["CaptionsFileConfig", "CremaDConfig", "EmotionCheckConfig", "EspeakSynthesizerConfig",
           "ImagesConfig", "MeadConfig", "RavdessConfig", "SpeechEmotionConfig",
           "VoiceCorpusConfig", "VoiceTableConfig", "VoxEmosetBuildConfig",
           "voxcore_register_captioners", "voxcore_register_dataset_builders",
           "voxcore_register_emotion_recognizers", "voxcore_register_synthesizers",
           "voxcore_register_voice_corpora"]


@hookimpl
def voxcore_register_dataset_builders(register: Any) -> None:
    """Register the ``voxemoset`` builder (``voxcore data voxemoset``)."""
    register("voxemoset", config=VoxEmosetBuildConfig,
             factory="voxcore_voxemoset.builder:VoxEmosetBuilder",
             description="build VoxEmoset from EmoSet (or any labelled images) and emotional "
                         "reference voices: captions, speech, emotion check")


@hookimpl
def voxcore_register_captioners(register: Any) -> None:
    """Register ``captions-file`` (captions made elsewhere)."""
    register("captions-file", config=CaptionsFileConfig,
             factory="voxcore_voxemoset.captions_file:CaptionsFile",
             description="captions read from a JSONL/CSV file (made elsewhere), no model")


@hookimpl
def voxcore_register_synthesizers(register: Any) -> None:
    """Register ``espeak`` (the offline stand-in for F5-TTS)."""
    register("espeak", config=EspeakSynthesizerConfig,
             factory="voxcore_voxemoset.espeak:EspeakSynthesizer",
             description="espeak-ng with the reference's mood prosody (offline, no weights)")


@hookimpl
def voxcore_register_emotion_recognizers(register: Any) -> None:
    """Register ``speech-emotion`` (a small classifier trained on reference voices)."""
    register("speech-emotion", config=SpeechEmotionConfig,
             factory="voxcore_voxemoset.emotion.recognizer:SpeechEmotionClassifier",
             prepare="voxcore_voxemoset.emotion.train:speech_emotion_preparation",
             description="small log-mel classifier voxcore trains on the reference voices "
                         "(offline stand-in for emotion2vec)")


@hookimpl
def voxcore_register_voice_corpora(register: Any) -> None:
    """Register the reference-voice corpora ``crema-d``, ``ravdess``, ``mead`` and
    ``voice-table`` (each read from its released layout; see the README)."""
    register("crema-d", config=CremaDConfig,
             factory="voxcore_voxemoset.voices.crema_d:CremaDCorpus",
             description="CREMA-D: AudioWAV/<Actor>_<Sentence>_<Emotion>_<Level>.wav, 91 actors")
    register("ravdess", config=RavdessConfig,
             factory="voxcore_voxemoset.voices.ravdess:RavdessCorpus",
             description="RAVDESS speech: Actor_NN/03-01-EE-II-SS-RR-AA.wav, 24 actors")
    register("mead", config=MeadConfig,
             factory="voxcore_voxemoset.voices.mead:MeadCorpus",
             description="MEAD audio: <Speaker>/audio/<emotion>/level_<n>/<nnn>.wav (.wav "
                         "copies of the .m4a files), 48 speakers")
    register("voice-table", config=VoiceTableConfig,
             factory="voxcore_voxemoset.voices.table:VoiceTableCorpus",
             description="any CSV/JSONL of audio,emotion,speaker[,transcript][,split] rows")
