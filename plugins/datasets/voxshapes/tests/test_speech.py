"""Tests of the espeak-ng binding and of how each mood sounds."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from voxcore_voxshapes import tts
from voxcore_voxshapes.config import VoxShapesBuildConfig
from voxcore_voxshapes.dsp import resample, trim_silence
from voxcore_voxshapes.moods import MOOD_NAMES, get_mood
from voxcore_voxshapes.plan import SampleSpec, plan_build
from voxcore_voxshapes.tts import SpeechSynthesisError, has_voice, synthesize
from voxcore_voxshapes.worker import speak

TEXT = "there is a circle on the left side"


def median_f0(samples: np.ndarray, rate: int) -> tuple[float, float]:
    """Median F0 (Hz) and its 10-90 % spread over voiced frames, by YIN (de Cheveigne 2002)."""
    longest, shortest = rate // 50, rate // 500
    hop, rms = rate // 100, float(np.sqrt(np.mean(samples**2)))
    found = []
    for start in range(0, samples.size - 2 * longest, hop):
        segment = samples[start:start + 2 * longest].astype(np.float64)
        head = segment[:longest]
        if np.sqrt(np.mean(head**2)) < 0.3 * rms:
            continue
        lags = np.arange(longest + 1)
        energy = np.concatenate([[0.0], np.cumsum(segment**2)])
        window = energy[lags + longest] - energy[lags]
        difference = window[0] + window - 2.0 * np.correlate(segment, head, "valid")
        normalized = difference[1:] * lags[1:] / np.maximum(np.cumsum(difference[1:]), 1e-12)
        below = np.nonzero(normalized[shortest - 1:] < 0.15)[0]
        if below.size:
            lag = shortest + int(below[0])
            while lag < longest and normalized[lag] < normalized[lag - 1]:
                lag += 1
            found.append(rate / lag)
    f0 = np.array(found)
    return float(np.median(f0)), float(np.percentile(f0, 90) - np.percentile(f0, 10))


# -- the binding -------------------------------------------------------------------------------

def test_synthesize_returns_speech_of_a_plausible_length() -> None:
    samples, rate = synthesize(TEXT, "en-us+m3")
    assert rate == 22050 and samples.dtype == np.float32 and samples.ndim == 1
    assert 1.0 < samples.size / rate < 4.0  # 8 words at 175 words per minute
    assert 0.1 < float(np.abs(samples).max()) <= 1.0
    # Speech alternates sound and near-silence (between words); a tone or noise would not.
    frames = samples[: samples.size // 220 * 220].reshape(-1, 220)
    loudness = np.sqrt(np.mean(frames**2, axis=1))
    assert (loudness > 0.3 * loudness.max()).mean() > 0.2
    assert (loudness < 0.05 * loudness.max()).mean() > 0.05


def test_pitch_rate_and_range_do_what_they_say() -> None:
    low, rate = synthesize(TEXT, "en-us+f2", pitch=10)
    high, _ = synthesize(TEXT, "en-us+f2", pitch=90)
    assert median_f0(high, rate)[0] > 1.6 * median_f0(low, rate)[0]
    slow, _ = synthesize(TEXT, "en-us+m3", rate=100)
    fast, _ = synthesize(TEXT, "en-us+m3", rate=300)
    assert slow.size > 2.2 * fast.size
    flat, _ = synthesize(TEXT, "en-us+m3", pitch_range=0)
    wide, _ = synthesize(TEXT, "en-us+m3", pitch_range=100)
    assert median_f0(wide, rate)[1] > 5 * median_f0(flat, rate)[1]
    gaps, _ = synthesize(TEXT, "en-us+m3", word_gap=20)
    assert gaps.size > synthesize(TEXT, "en-us+m3")[0].size + 0.1 * rate * 6


def test_volume_scales_the_signal() -> None:
    quiet, _ = synthesize(TEXT, "en-us+m3", volume=50)
    loud, _ = synthesize(TEXT, "en-us+m3", volume=100)
    ratio = float(np.sqrt(np.mean(loud**2) / np.mean(quiet**2)))
    assert 1.7 < ratio < 2.3


def test_voices_are_checked_against_espeak_s_list() -> None:
    assert has_voice("en-us+m3") and has_voice("en-us+f4") and has_voice("EN-US")
    assert not has_voice("en-us+nosuchvariant") and not has_voice("nosuchvoice")
    with pytest.raises(ValueError, match="no voice 'nosuchvoice'; use a language such as"):
        synthesize(TEXT, "nosuchvoice")


@pytest.mark.parametrize(("settings", "message"), [
    ({"pitch": 101}, r"pitch must be in \[0, 100\], got 101"),
    ({"rate": 10}, r"rate must be in \[80, 450\]"),
    ({"volume": -1}, r"volume must be in \[0, 200\]"),
])
def test_settings_out_of_range_are_rejected(settings: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        synthesize(TEXT, "en-us", **settings)
    with pytest.raises(ValueError, match="empty"):
        synthesize("  ", "en-us")


def test_a_fixed_sequence_in_a_fresh_process_is_reproducible() -> None:
    script = ("import hashlib; from voxcore_voxshapes.tts import synthesize\n"
              "h = hashlib.sha256()\n"
              "for v in ('en-us+m3', 'en-us+f2', 'en-us+m3'):\n"
              "    h.update(synthesize('a star in the middle', v, pitch=70)[0].tobytes())\n"
              "print(h.hexdigest())\n")
    runs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}
    assert len(runs) == 1


def test_a_missing_library_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import espeakng_loader

    monkeypatch.setattr(tts, "_engine", None)
    monkeypatch.setattr(espeakng_loader, "get_library_path", lambda: "/nonexistent/libespeak.so")
    with pytest.raises(SpeechSynthesisError, match="could not load libespeak-ng from "
                                                   "/nonexistent/libespeak.so.*reinstall "
                                                   "'espeakng-loader'"):
        synthesize(TEXT, "en-us")


# -- moods -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spoken() -> dict[tuple[str, str], np.ndarray]:
    """Each mood's mean prosody spoken by a male and a female voice, at 16 kHz."""
    base: SampleSpec = plan_build(VoxShapesBuildConfig(size=1)).samples[0]
    return {(mood, voice): speak(replace(base, mood=mood, voice=voice, transcript=TEXT,
                                         prosody=get_mood(mood).prosody), 16000)
            for mood in MOOD_NAMES for voice in ("en-us+m3", "en-us+f2")}


@pytest.mark.parametrize("voice", ["en-us+m3", "en-us+f2"])
def test_each_mood_sounds_as_described(spoken: dict[tuple[str, str], np.ndarray],
                                       voice: str) -> None:
    seconds = {m: spoken[m, voice].size / 16000 for m in MOOD_NAMES}
    pitch = {m: median_f0(spoken[m, voice], 16000) for m in MOOD_NAMES}
    # Pitch: fear and enjoyment high, anger in the middle, disgust and sadness low.
    assert pitch["enjoyment"][0] > 1.5 * pitch["sadness"][0]
    assert min(pitch["fear"][0], pitch["enjoyment"][0]) > pitch["anger"][0]
    assert pitch["anger"][0] > pitch["disgust"][0] > pitch["sadness"][0]
    # Range: enjoyment and anger lively, fear and sadness flat.
    assert min(pitch["enjoyment"][1], pitch["anger"][1]) > 3 * max(pitch["fear"][1],
                                                                     pitch["sadness"][1])
    # Tempo: fear fastest, then anger and enjoyment, disgust slow, sadness slowest.
    assert seconds["sadness"] > 1.3 * seconds["disgust"] > 1.3 * seconds["enjoyment"]
    assert seconds["fear"] < min(seconds["anger"], seconds["enjoyment"])
    for samples in (spoken[m, voice] for m in MOOD_NAMES):
        assert samples.dtype == np.float32 and float(np.abs(samples).max()) <= 1.0


def test_fear_trembles(spoken: dict[tuple[str, str], np.ndarray]) -> None:
    """Fear's 8 Hz tremolo adds a peak to the spectrum of the loudness envelope."""
    def tremor(samples: np.ndarray) -> float:
        frames = samples[: samples.size // 160 * 160].reshape(-1, 160)
        envelope = np.sqrt(np.mean(frames**2, axis=1))
        spectrum = np.abs(np.fft.rfft(envelope - envelope.mean()))
        hz = np.fft.rfftfreq(envelope.size, 0.01)
        return float(spectrum[(hz > 7.5) & (hz < 8.5)].max() / spectrum[hz > 1].mean())

    prosody = get_mood("fear").prosody
    plain, rate = synthesize(TEXT, "en-us+m3", pitch=prosody.pitch,
                             pitch_range=prosody.pitch_range, rate=prosody.rate,
                             volume=prosody.volume)
    steady = resample(trim_silence(plain, rate), rate, 16000)
    assert tremor(spoken["fear", "en-us+m3"]) > 1.5 * tremor(steady)
