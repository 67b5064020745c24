"""Tests of the mel encoder: the conformance suite plus mel-specific properties."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest
import torch
from pydantic import ValidationError
from voxcore_mel import MelConfig
from voxcore_mel.encoder import MelEncoder

from voxcore.plugin_api import SpeechEncoder, Waveform, get_registry
from voxcore.testing.encoder import EncoderSuite


class TestMelEncoder(EncoderSuite):
    def build_encoder(self) -> SpeechEncoder:
        return MelEncoder(MelConfig())


class TestMelEncoderUnnormalized(EncoderSuite):
    def build_encoder(self) -> SpeechEncoder:
        return MelEncoder(MelConfig(normalize="none", n_mels=40, sample_rate=8000,
                                    n_fft=256, hop_length=80, win_length=200))


def _sine(freq: float, seconds: float = 0.5, rate: int = 16000, amplitude: float = 0.3,
          channels: int = 1) -> Waveform:
    t = torch.arange(round(seconds * rate), dtype=torch.float64) / rate
    tone = (amplitude * torch.sin(2 * math.pi * freq * t)).to(torch.float32)
    return Waveform(tone.unsqueeze(0).repeat(channels, 1), rate)


def _mel_centres(config: MelConfig) -> torch.Tensor:
    """Centre frequency (Hz) of each HTK mel filter, as torchaudio spaces them."""
    def to_mel(hz: float) -> float:
        return 2595.0 * math.log10(1.0 + hz / 700.0)

    top = config.f_max if config.f_max is not None else config.sample_rate / 2
    mels = torch.linspace(to_mel(config.f_min), to_mel(top), config.n_mels + 2, dtype=torch.float64)
    return (700.0 * (10 ** (mels / 2595.0) - 1.0))[1:-1]


# -- frames --------------------------------------------------------------------------------

@pytest.mark.parametrize(("samples", "frames"), [
    (16000, 98),  # 1 + (16000 - 400) // 160
    (400, 1),  # exactly one window
    (559, 1),  # one sample short of a second frame
    (560, 2),
    (100, 1),  # shorter than n_fft: one frame over zero padding
])
def test_number_of_frames(samples: int, frames: int) -> None:
    encoder = MelEncoder(MelConfig())
    out = encoder.encode([Waveform(torch.randn(1, samples), 16000)])
    assert out.mask.sum().item() == frames
    assert out.features.shape == (1, frames, 80)
    assert out.frame_rate == 100.0


def test_padded_frames_are_zero_and_short_batch_is_padded() -> None:
    encoder = MelEncoder(MelConfig(normalize="none"))
    out = encoder.encode([Waveform(torch.randn(1, 100), 16000), _sine(440.0, 0.1)])
    assert out.mask.sum(dim=1).tolist() == [1, 8]
    assert bool((out.features[0, 1:] == 0).all())


# -- what the features mean ----------------------------------------------------------------

@pytest.mark.parametrize("freq", [300.0, 3000.0])
def test_tone_peaks_in_its_mel_bin(freq: float) -> None:
    config = MelConfig(normalize="none")
    out = MelEncoder(config).encode([_sine(freq)])
    peak = int(out.features[0].mean(dim=0).argmax())
    expected = int((_mel_centres(config) - freq).abs().argmin())
    assert abs(peak - expected) <= 1, f"{freq} Hz peaked in bin {peak}, expected {expected}"


def test_low_and_high_tones_use_different_bins() -> None:
    encoder = MelEncoder(MelConfig(normalize="none"))
    out = encoder.encode([_sine(300.0), _sine(3000.0)])
    low, high = (int(row.mean(dim=0).argmax()) for row in out.features)
    assert high > low + 20, f"300 Hz peaked in bin {low}, 3 kHz in bin {high}"


def test_louder_tone_adds_log_power() -> None:
    encoder = MelEncoder(MelConfig(normalize="none"))
    out = encoder.encode([_sine(1000.0, amplitude=0.1), _sine(1000.0, amplitude=0.2)])
    quiet, loud = out.features[0].mean(dim=0), out.features[1].mean(dim=0)
    peak = int(quiet.argmax())
    # Twice the amplitude is four times the power: +log(4) in every bin the tone dominates.
    torch.testing.assert_close(loud[peak] - quiet[peak], torch.tensor(math.log(4.0)),
                               atol=1e-3, rtol=0)


def test_utterance_normalization_removes_gain_and_standardizes() -> None:
    encoder = MelEncoder(MelConfig())
    voice = torch.randn(1, 8000, generator=torch.Generator().manual_seed(0))
    out = encoder.encode([Waveform(0.05 * voice, 16000), Waveform(0.5 * voice, 16000)])
    torch.testing.assert_close(out.features[0], out.features[1], atol=1e-3, rtol=1e-3)
    valid = out.features[0][out.mask[0]]
    torch.testing.assert_close(valid.mean(dim=0), torch.zeros(80), atol=1e-4, rtol=0)
    torch.testing.assert_close(valid.std(dim=0, unbiased=False), torch.ones(80), atol=1e-3,
                               rtol=0)


@pytest.mark.parametrize("normalize", ["utterance", "none"])
def test_silence_is_finite(normalize: str) -> None:
    config = MelConfig.model_validate({"normalize": normalize})
    out = MelEncoder(config).encode([Waveform(torch.zeros(1, 4000), 16000)])
    assert bool(torch.isfinite(out.features).all())


def test_no_learned_parameters() -> None:
    encoder = MelEncoder(MelConfig())
    assert list(encoder.parameters()) == []
    assert set(encoder.state_dict()) == {"mel.spectrogram.window", "mel.mel_scale.fb"}


# -- config --------------------------------------------------------------------------------

def test_config_defaults() -> None:
    config = MelConfig()
    assert (config.sample_rate, config.n_mels, config.n_fft, config.hop_length) == (
        16000, 80, 400, 160)
    assert config.normalize == "utterance" and config.frame_rate == 100.0


@pytest.mark.parametrize(("values", "message"), [
    ({"n_mel": 64}, "Extra inputs are not permitted"),
    ({"n_mels": 0}, "greater than 0"),
    ({"sample_rate": -16000}, "greater than 0"),
    ({"hop_length": 0}, "greater than 0"),
    ({"hop_length": 512}, "hop_length .512. must not exceed n_fft"),
    ({"win_length": 512}, "win_length .512. must not exceed n_fft"),
    ({"f_min": -1.0}, "greater than or equal to 0"),
    ({"f_max": 9000.0}, "must not exceed the Nyquist"),
    ({"f_min": 4000.0, "f_max": 3000.0}, "must be greater than f_min"),
    ({"f_min": 8000.0}, "must be greater than f_min"),
    ({"normalize": "global"}, "'utterance' or 'none'"),
])
def test_config_rejects(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MelConfig.model_validate(values)


# -- plugin --------------------------------------------------------------------------------

def test_registered_as_plugin() -> None:
    entry = get_registry("encoder").get("mel")
    assert entry.distribution == "voxcore-mel"
    assert entry.config_model is MelConfig
    encoder = entry.build({})
    assert isinstance(encoder, MelEncoder)
    assert isinstance(get_registry("encoder").build("voxcore-mel:mel", {"n_mels": 40}),
                      MelEncoder)


def test_registry_build_validates_config() -> None:
    with pytest.raises(ValidationError):
        get_registry("encoder").build("mel", {"hop": 10})


def test_plugin_module_does_not_import_torch() -> None:
    code = "import sys, voxcore_mel; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "False"
