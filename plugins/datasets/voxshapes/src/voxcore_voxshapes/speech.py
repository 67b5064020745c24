"""One utterance in a mood: jittered mood prosody, espeak-ng, trimming, tremolo, resampling.

Public (:func:`mood_utterance`) for plugins that speak other sentences the VoxShapes way, such
as the VoxEmoset builder's offline ``espeak`` synthesizer.
"""

from __future__ import annotations

import numpy as np

from voxcore_voxshapes.dsp import apply_tremolo, resample, trim_silence
from voxcore_voxshapes.moods import Mood, Prosody, get_mood
from voxcore_voxshapes.tts import RATE_RANGE, VOLUME_RANGE, synthesize

__all__ = ["jittered_prosody", "mood_utterance"]


def jittered_prosody(mood: Mood, rng: np.random.Generator) -> Prosody:
    """``mood``'s prosody with each setting moved uniformly within its jitter."""
    mean, half = mood.prosody, mood.jitter
    return Prosody(
        pitch=_jitter(rng, mean.pitch, half.pitch, 0, 100),
        pitch_range=_jitter(rng, mean.pitch_range, half.pitch_range, 0, 100),
        rate=_jitter(rng, mean.rate, half.rate, *RATE_RANGE),
        volume=_jitter(rng, mean.volume, half.volume, *VOLUME_RANGE),
        word_gap=_jitter(rng, mean.word_gap, half.word_gap, 0, 100),
    )


def mood_utterance(text: str, mood: str, *, voice: str, seed: int,
                   sample_rate: int) -> np.ndarray:
    """``text`` spoken by espeak-ng ``voice`` with ``mood``'s prosody (jittered by ``seed``)
    and tremolo, silence trimmed, at ``sample_rate``: float32 mono in ``[-1, 1]``.

    espeak-ng carries state between utterances (:mod:`voxcore_voxshapes.tts`): the samples are
    reproducible only for the first utterance a process speaks.
    """
    chosen = get_mood(mood)
    rng = np.random.default_rng(seed)
    prosody = jittered_prosody(chosen, rng)
    samples, native_rate = synthesize(
        text, voice, pitch=prosody.pitch, pitch_range=prosody.pitch_range, rate=prosody.rate,
        volume=prosody.volume, word_gap=prosody.word_gap)
    samples = trim_silence(samples, native_rate)
    samples = apply_tremolo(samples, native_rate, chosen.tremolo_hz, chosen.tremolo_depth,
                            float(rng.uniform(0.0, 2.0 * np.pi)))
    resampled = resample(samples, native_rate, sample_rate)
    return np.clip(resampled, -1.0, 1.0, out=resampled)


def _jitter(rng: np.random.Generator, mean: int, half: int, low: int, high: int) -> int:
    value = mean + float(rng.uniform(-1.0, 1.0)) * half
    return int(min(high, max(low, round(value))))
