"""Tests of voxcore.audio: reading files, mono batches, masks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from voxcore.audio import AudioError, lengths_to_mask, load_audio, to_mono_batch
from voxcore.errors import UserError
from voxcore.interfaces import Waveform


def _tone(seconds: float, rate: int, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * math.pi * freq * t)).astype(np.float32)


def _write(path: Path, data: np.ndarray, rate: int, **kwargs: str) -> Path:
    soundfile.write(str(path), data, rate, **kwargs)
    return path


# -- load_audio ----------------------------------------------------------------------------

def test_load_stereo_wav_keeps_channels_and_rate(tmp_path: Path) -> None:
    left, right = _tone(0.25, 44100, 440.0), _tone(0.25, 44100, 880.0, 0.25)
    path = _write(tmp_path / "stereo.wav", np.stack([left, right], axis=1), 44100)
    waveform = load_audio(path)
    assert waveform.sample_rate == 44100
    assert waveform.samples.dtype == torch.float32
    assert tuple(waveform.samples.shape) == (2, len(left))
    # 16-bit PCM quantization step is 2**-15.
    torch.testing.assert_close(waveform.samples[1], torch.from_numpy(right), atol=1e-4, rtol=0)


def test_load_mono_flac(tmp_path: Path) -> None:
    data = _tone(0.5, 8000)
    waveform = load_audio(_write(tmp_path / "mono.flac", data, 8000))
    assert waveform.sample_rate == 8000
    assert tuple(waveform.samples.shape) == (1, 4000)
    torch.testing.assert_close(waveform.samples[0], torch.from_numpy(data), atol=1e-4, rtol=0)


def test_load_ogg_and_str_path(tmp_path: Path) -> None:
    path = _write(tmp_path / "speech.ogg", _tone(0.5, 16000), 16000)
    waveform = load_audio(str(path))
    assert waveform.sample_rate == 16000
    assert waveform.samples.shape[0] == 1
    assert abs(waveform.duration - 0.5) < 0.01


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"nowhere\.wav does not exist"):
        load_audio(tmp_path / "nowhere.wav")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "clips.wav").mkdir()
    with pytest.raises(AudioError, match=r"clips\.wav is not a file"):
        load_audio(tmp_path / "clips.wav")


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.wav"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(AudioError, match=r"corrupt\.wav could not be read as audio") as info:
        load_audio(path)
    assert "ffmpeg" in str(info.value)


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.flac"
    path.write_text("not audio at all\n" * 50)
    with pytest.raises(AudioError, match=r"notes\.flac could not be read as audio"):
        load_audio(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.touch()
    with pytest.raises(AudioError, match=r"empty\.wav is empty \(0 bytes\)"):
        load_audio(path)


def test_zero_sample_wav(tmp_path: Path) -> None:
    path = _write(tmp_path / "nothing.wav", np.zeros((0, 1), dtype=np.float32), 16000)
    assert path.stat().st_size > 0  # a valid header, just no frames
    with pytest.raises(AudioError, match=r"nothing\.wav contains no samples"):
        load_audio(path)


def test_silent_wav(tmp_path: Path) -> None:
    path = _write(tmp_path / "silence.wav", np.zeros(16000, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match=r"silence\.wav is silent"):
        load_audio(path)
    waveform = load_audio(path, silence_threshold=None)
    assert float(waveform.samples.abs().max()) == 0.0


def test_quiet_but_not_silent_passes_threshold(tmp_path: Path) -> None:
    path = _write(tmp_path / "quiet.wav", _tone(0.1, 16000, amplitude=1e-3), 16000,
                  subtype="FLOAT")
    assert load_audio(path).samples.abs().max() > 5e-4
    with pytest.raises(AudioError, match=r"quiet\.wav is silent"):
        load_audio(path, silence_threshold=1e-2)


def test_non_finite_samples(tmp_path: Path) -> None:
    data = _tone(0.1, 16000)
    data[10] = np.nan
    path = _write(tmp_path / "broken.wav", data, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"broken\.wav contains NaN or infinite samples"):
        load_audio(path)


def test_audio_error_is_a_user_error() -> None:
    assert issubclass(AudioError, UserError)
    assert issubclass(AudioError, ValueError)


# -- to_mono_batch -------------------------------------------------------------------------

def test_mono_batch_pads_and_reports_lengths() -> None:
    a = Waveform(torch.ones(1, 100), 16000)
    b = Waveform(torch.full((1, 250), 0.5), 16000)
    batch, lengths = to_mono_batch([a, b], 16000)
    assert batch.dtype == torch.float32 and tuple(batch.shape) == (2, 250)
    assert lengths.dtype == torch.int64 and lengths.tolist() == [100, 250]
    assert bool((batch[0, :100] == 1).all()) and bool((batch[0, 100:] == 0).all())
    assert bool((batch[1] == 0.5).all())


def test_mono_batch_mixes_channels_down_by_mean() -> None:
    samples = torch.stack([torch.full((50,), 0.2), torch.full((50,), -0.6)])
    batch, lengths = to_mono_batch([Waveform(samples, 8000)], 8000)
    assert tuple(batch.shape) == (1, 50) and lengths.tolist() == [50]
    torch.testing.assert_close(batch[0], torch.full((50,), -0.2))


@pytest.mark.parametrize(("rate", "length", "expected"), [
    (44100, 44100, 16000),  # 1 s stays 1 s
    (8000, 4000, 8000),  # 0.5 s at 8 kHz
    (22050, 11025, 8000),
    (8000, 8001, 16002),  # a partial sample rounds up
])
def test_mono_batch_resamples_to_target_length(rate: int, length: int, expected: int) -> None:
    waveform = Waveform(torch.from_numpy(_tone(length / rate, rate)).unsqueeze(0), rate)
    batch, lengths = to_mono_batch([waveform], 16000)
    assert lengths.tolist() == [expected]
    assert batch.shape[1] == expected


def test_resampling_keeps_the_tone() -> None:
    waveform = Waveform(torch.from_numpy(_tone(1.0, 44100, freq=1000.0)).unsqueeze(0), 44100)
    batch, _ = to_mono_batch([waveform], 16000)
    spectrum = torch.fft.rfft(batch[0]).abs()
    # 1 s at 16 kHz: bin k is k Hz.
    assert int(spectrum.argmax()) == 1000


def test_mixed_rates_and_channels_in_one_batch() -> None:
    stereo = Waveform(torch.from_numpy(np.stack([_tone(0.5, 44100)] * 2)), 44100)
    mono = Waveform(torch.from_numpy(_tone(1.0, 8000)).unsqueeze(0), 8000)
    batch, lengths = to_mono_batch([stereo, mono], 16000)
    assert lengths.tolist() == [8000, 16000]
    assert tuple(batch.shape) == (2, 16000)
    assert bool((batch[0, 8000:] == 0).all())


def test_mono_batch_accepts_float64() -> None:
    batch, _ = to_mono_batch([Waveform(torch.ones(1, 10, dtype=torch.float64), 16000)], 16000)
    assert batch.dtype == torch.float32


def test_mono_batch_rejects_empty_list() -> None:
    with pytest.raises(ValueError, match="at least one waveform"):
        to_mono_batch([], 16000)


def test_mono_batch_rejects_zero_length() -> None:
    good = Waveform(torch.ones(1, 10), 16000)
    with pytest.raises(AudioError, match="waveform 1 of the batch has no samples"):
        to_mono_batch([good, Waveform(torch.ones(1, 0), 16000)], 16000)


def test_mono_batch_rejects_non_finite() -> None:
    samples = torch.ones(1, 10)
    samples[0, 3] = math.inf
    with pytest.raises(AudioError, match="waveform 0 of the batch contains NaN"):
        to_mono_batch([Waveform(samples, 16000)], 16000)


# -- lengths_to_mask -----------------------------------------------------------------------

def test_lengths_to_mask() -> None:
    mask = lengths_to_mask(torch.tensor([0, 2, 4]), 4)
    assert mask.dtype == torch.bool
    assert mask.tolist() == [[False] * 4, [True, True, False, False], [True] * 4]


def test_lengths_to_mask_default_and_clipped_length() -> None:
    assert tuple(lengths_to_mask(torch.tensor([3, 5])).shape) == (2, 5)
    assert lengths_to_mask(torch.tensor([5]), 3).tolist() == [[True, True, True]]


def test_lengths_to_mask_rejects_2d() -> None:
    with pytest.raises(ValueError, match="1-D"):
        lengths_to_mask(torch.ones(2, 2, dtype=torch.int64), 3)
