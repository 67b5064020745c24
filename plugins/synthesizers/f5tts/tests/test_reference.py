"""References and texts prepared as f5-tts prepares them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
from voxcore_f5tts.reference import clip_reference, prepare_reference
from voxcore_f5tts.text import chunk_text, max_chunk_bytes, reference_text, spoken_reference

from voxcore.plugin_api import AudioError, load_audio
from voxcore.testing.encoder import synthetic_waveform


def long_reference(path: Path, rate: int = 16_000) -> Path:
    """26 s of chirps with pauses of 0.2-2 s and faint noise, as 16-bit PCM."""
    parts = []
    for index, (speech, pause) in enumerate([(2.5, 1.5), (3.0, 0.3), (4.0, 1.2), (3.0, 0.2),
                                             (4.0, 2.0), (2.0, 0.0)]):
        parts.append(0.8 * synthetic_waveform(speech, rate, seed=index).samples[0].numpy())
        noise = np.random.default_rng(index).standard_normal(int(pause * rate))
        parts.append((0.0005 * noise).astype(np.float32))
    soundfile.write(path, np.concatenate(parts), rate, subtype="PCM_16")
    return path


@pytest.mark.slow
def test_clipping_equals_f5tts_preprocessing(tmp_path: Path) -> None:
    from f5_tts.infer.utils_infer import preprocess_ref_audio_text

    path = long_reference(tmp_path / "long.wav")
    theirs_path, theirs_text = preprocess_ref_audio_text(str(path), "hello there",
                                                         show_info=lambda *_: None)
    theirs, rate = soundfile.read(theirs_path, dtype="float32", always_2d=True)
    waveform = load_audio(path)
    ours, our_rate = clip_reference(waveform.samples, waveform.sample_rate, 12.0)
    assert our_rate == rate
    assert 6.0 < ours.shape[-1] / rate <= 12.05
    torch.testing.assert_close(ours, torch.from_numpy(theirs.T.copy()), atol=0, rtol=0)
    assert reference_text("hello there") == theirs_text


def test_prepared_reference_is_mono_24khz_and_loud_enough(tmp_path: Path) -> None:
    path = tmp_path / "quiet_stereo.wav"
    wave = 0.05 * synthetic_waveform(1.5, 22_050, channels=2).samples
    soundfile.write(path, wave.T.numpy(), 22_050)
    prepared = prepare_reference(path, max_seconds=12.0, target_rms=0.1)
    assert prepared.audio.shape[0] == 1
    assert prepared.rms < 0.1
    rms = float(prepared.audio.square().mean().sqrt())
    assert rms == pytest.approx(0.1, rel=0.05)
    assert prepared.audio.shape[-1] == pytest.approx(prepared.seconds * 24_000, abs=2)


def test_reference_without_speech_is_refused(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.wav"
    soundfile.write(quiet, 0.002 * torch.randn(24_000).numpy(), 24_000)
    with pytest.raises(AudioError, match="quieter than"):
        prepare_reference(quiet, max_seconds=12.0, target_rms=0.1)


def test_reference_text_ends_as_f5tts_expects() -> None:
    assert reference_text("Some call me nature") == "Some call me nature. "
    assert reference_text("Some call me nature.\n") == "Some call me nature. "
    assert reference_text("我们。") == "我们。"
    assert spoken_reference("Some call me nature. ") == "Some call me nature.  "
    assert spoken_reference("我们。") == "我们。"


def test_chunks_break_after_punctuation_within_the_limit() -> None:
    text = "One red ball. Two blue boats, three old men! Four cats?"
    assert chunk_text(text, 1000) == [text]
    chunks = chunk_text(text, 20)
    assert chunks == ["One red ball.", "Two blue boats,", "three old men!", "Four cats?"]
    assert max_chunk_bytes("a short test sentence. ", 2.0, 1.0) == int(23 / 2.0 * 20.0)
