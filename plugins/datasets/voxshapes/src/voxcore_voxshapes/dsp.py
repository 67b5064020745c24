"""Small signal operations on synthesized speech: resampling, trimming, tremolo (numpy only)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["resample", "trim_silence", "apply_tremolo"]


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample a mono signal from ``rate_in`` to ``rate_out`` Hz (float32 out).

    Works in the frequency domain: the spectrum is cut (or zero-padded) at the new Nyquist
    frequency, which is an ideal low-pass filter. It treats the signal as periodic, which is
    harmless for speech that starts and ends in silence.
    """
    if rate_in <= 0 or rate_out <= 0:
        raise ValueError(f"sample rates must be positive, got {rate_in} and {rate_out}")
    x = np.asarray(samples, dtype=np.float64)
    if rate_in == rate_out or x.size == 0:
        return x.astype(np.float32)
    length = round(x.size * rate_out / rate_in)
    # Zero-pad to q * 2**k samples (q = rate_in / gcd) so both FFT sizes are whole and have
    # only small prime factors: an arbitrary length can be ten times slower.
    g = math.gcd(rate_in, rate_out)
    step_in, step_out = rate_in // g, rate_out // g
    blocks = 1 << max(0, math.ceil(math.log2(max(1.0, x.size / step_in))))
    size_in, size_out = step_in * blocks, step_out * blocks
    spectrum = np.fft.rfft(x, n=size_in)
    bins = size_out // 2 + 1
    if bins <= spectrum.size:
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - spectrum.size, spectrum.dtype)])
    y = np.fft.irfft(spectrum, n=size_out) * (size_out / size_in)
    return y[: max(1, length)].astype(np.float32)


def trim_silence(samples: np.ndarray, sample_rate: int, *, threshold_db: float = -40.0,
                 margin: float = 0.05) -> np.ndarray:
    """Cut leading and trailing silence, keeping ``margin`` seconds around the speech.

    A 10 ms frame is speech when its RMS is within ``threshold_db`` of the loudest frame's.
    A signal with no speech frame is returned unchanged.
    """
    frame = max(1, sample_rate // 100)
    count = samples.size // frame
    if count == 0:
        return samples
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    if rms.max() <= 0.0:
        return samples
    loud = np.nonzero(rms >= rms.max() * 10.0 ** (threshold_db / 20.0))[0]
    keep = round(margin * sample_rate)
    start = max(0, int(loud[0]) * frame - keep)
    end = min(samples.size, (int(loud[-1]) + 1) * frame + keep)
    return samples[start:end]


def apply_tremolo(samples: np.ndarray, sample_rate: int, hz: float, depth: float,
                  phase: float = 0.0) -> np.ndarray:
    """Modulate the amplitude by ``1 - depth * (1 + sin(2 pi hz t + phase)) / 2``.

    ``depth`` 0 leaves the signal unchanged; 1 silences it at each trough.
    """
    if not 0.0 <= depth <= 1.0:
        raise ValueError(f"tremolo depth must be in [0, 1], got {depth}")
    if depth == 0.0 or hz <= 0.0:
        return samples
    t = np.arange(samples.size, dtype=np.float64) / sample_rate
    gain = 1.0 - depth * 0.5 * (1.0 + np.sin(2.0 * np.pi * hz * t + phase))
    return (samples * gain).astype(samples.dtype)
