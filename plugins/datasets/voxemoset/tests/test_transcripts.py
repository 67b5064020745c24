"""References without transcripts (MEAD) and a synthesizer that needs them (F5-TTS): the
build's ``asr`` transcribes them once each, or the build stops before any work.

The synthesizer and transcriber here are registered stand-ins, named as such: espeak that
insists on transcripts, and a "transcriber" that reads a file's length; the real ones
(``f5-tts``, ``asr``) are tested in their own plugins.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict
from voxcore_voxemoset import EspeakSynthesizerConfig, VoxEmosetBuildConfig
from voxcore_voxemoset.builder import VoxEmosetBuilder
from voxcore_voxemoset.espeak import EspeakSynthesizer
from voxcore_voxemoset.testing import write_captions, write_emoset
from voxcore_voxemoset.voices.testing import write_mead

from voxcore.plugin_api import SynthesisRequest, UserError, Waveform
from voxcore.testing import register_for_test, reset_plugins

HEARD: list[str] = []


class StandInConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TranscriptNeedingEspeak(EspeakSynthesizer):
    """Stand-in for F5-TTS: espeak that refuses a reference without its transcript."""

    needs_reference_transcripts = True

    def __init__(self, config: StandInConfig) -> None:
        super().__init__(EspeakSynthesizerConfig())

    def synthesize(self, requests: Sequence[SynthesisRequest]) -> list[Waveform]:
        for request in requests:
            assert request.reference.transcript, f"{request.reference.id} has no transcript"
        return super().synthesize(requests)


class LengthTranscriber:
    """Stand-in for Whisper: 'transcribes' an utterance as its length in samples."""

    transcriber_fingerprint = "stand-in"
    output_dim = 4

    def __init__(self, config: StandInConfig) -> None:
        pass

    def transcribe(self, waveforms: Sequence[Waveform]) -> list[str]:
        HEARD.extend(str(w.source) for w in waveforms)
        return [f"{w.samples.shape[-1]} samples" for w in waveforms]

    def encode_text(self, texts: Sequence[str]) -> object:
        raise NotImplementedError


@pytest.fixture
def stand_ins() -> Iterator[None]:
    reset_plugins()
    register_for_test("synthesizer", "transcript-needing-espeak", config=StandInConfig,
                      factory=TranscriptNeedingEspeak)
    register_for_test("encoder", "length-transcriber", config=StandInConfig,
                      factory=LengthTranscriber)
    yield
    reset_plugins()


def options(tmp_path: Path, **extra: object) -> VoxEmosetBuildConfig:
    ids = write_emoset(tmp_path / "EmoSet", per_split={"train": 1},
                       categories=("amusement", "anger", "disgust", "fear", "sadness"))
    captions = write_captions(tmp_path / "captions.jsonl", ids["train"])
    write_mead(tmp_path / "MEAD")
    return VoxEmosetBuildConfig.model_validate({
        "images": {"root": str(tmp_path / "EmoSet"), "splits": ["train"]},
        "voices": [f"mead={tmp_path / 'MEAD'}"],
        "captioner": {"name": "captions-file", "config": {"path": str(captions)}},
        "synthesizer": "transcript-needing-espeak",
        "emotion_check": {"threshold": 0.0,
                          "recognizer": {"name": "speech-emotion",
                                         "config": {"cache_dir": str(tmp_path / "cache"),
                                                    "epochs": 2}}},
        "progress": False, **extra})


@pytest.mark.slow
def test_references_without_transcripts_are_transcribed_once_each(
        tmp_path: Path, stand_ins: None) -> None:
    HEARD.clear()
    config = options(tmp_path, asr="length-transcriber")
    summary = VoxEmosetBuilder(config).run(tmp_path / "out")
    assert summary is not None and summary.utterances["train"] == 15
    assert HEARD and len(HEARD) == len(set(HEARD)), "a reference was transcribed twice"
    cached = list((tmp_path / "out" / ".build" / "transcripts").glob("*.json"))
    assert len(cached) == len(HEARD)
    HEARD.clear()
    VoxEmosetBuilder(config).run(tmp_path / "out")
    assert HEARD == [], "a re-run transcribed again"


def test_without_an_asr_the_build_stops_before_any_work(tmp_path: Path,
                                                        stand_ins: None) -> None:
    with pytest.raises(UserError, match="mead come without one; set asr"):
        VoxEmosetBuilder(options(tmp_path)).run(tmp_path / "out")
    assert not (tmp_path / "out").exists()
