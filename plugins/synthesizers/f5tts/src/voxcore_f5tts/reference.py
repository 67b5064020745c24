"""Reference audio prepared as f5-tts prepares it (``preprocess_ref_audio_text`` and the
start of ``infer_batch_process``).

The recording is clipped to at most ``max_seconds`` at a silence (first at long pauses, then
at short ones, else cut), its leading and trailing silence removed and 50 ms of silence
appended, using pydub on 16-bit samples as f5-tts does; then it is mixed to mono, raised to
the target RMS when quieter, and resampled to 24 kHz.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from voxcore.plugin_api import AudioError, load_audio
from voxcore_f5tts.architectures import SAMPLE_RATE

__all__ = ["PreparedReference", "clip_reference", "prepare_reference"]

# f5-tts's thresholds (dBFS) and lengths (ms).
_LONG_PAUSE = {"min_silence_len": 1000, "silence_thresh": -50, "keep_silence": 1000,
               "seek_step": 10}
_SHORT_PAUSE = {"min_silence_len": 100, "silence_thresh": -40, "keep_silence": 1000,
                "seek_step": 10}
_EDGE_SILENCE = -42
_TAIL_MS = 50
_INT16 = 32768.0


@dataclass(frozen=True)
class PreparedReference:
    """A reference ready for F5-TTS: ``audio`` mono ``[1, T]`` at 24 kHz (raised to the target
    RMS when quieter), ``rms`` its loudness before that, ``seconds`` its length once clipped."""

    audio: torch.Tensor
    rms: float
    seconds: float


def _pydub() -> Any:
    with warnings.catch_warnings():
        # pydub warns at import when ffmpeg is absent (only in-memory 16-bit audio is used
        # here) and that Python 3.13 drops audioop (pydub then uses audioop-lts).
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import pydub  # type: ignore[import-untyped]
        import pydub.silence  # type: ignore[import-untyped]
    return pydub


def _join_until(segments: list[Any], max_ms: int) -> Any:
    """f5-tts's loop: add pause-separated segments while the result stays under ``max_ms``
    (a segment may overshoot only while the result is under half of it)."""
    audio_segment = _pydub().AudioSegment
    joined = audio_segment.silent(duration=0)
    for segment in segments:
        if len(joined) > max_ms // 2 and len(joined + segment) > max_ms:
            break
        joined += segment
    return joined


def _trim_edges(segment: Any) -> Any:
    silence = _pydub().silence
    segment = segment[silence.detect_leading_silence(segment, silence_threshold=_EDGE_SILENCE):]
    end = silence.detect_leading_silence(segment.reverse(), silence_threshold=_EDGE_SILENCE)
    return segment[:len(segment) - end] if end > 0 else segment


def clip_reference(samples: torch.Tensor, sample_rate: int,
                   max_seconds: float) -> tuple[torch.Tensor, int]:
    """``samples`` ``[C, T]`` clipped as f5-tts clips references: ``[C', T']`` and its rate
    (pydub may change both when it joins segments, as in f5-tts)."""
    pydub = _pydub()
    max_ms = round(max_seconds * 1000)
    channels = int(samples.shape[0])
    pcm = np.clip(np.round(samples.double().numpy().T * _INT16), -_INT16, _INT16 - 1)
    segment = pydub.AudioSegment(data=pcm.astype("<i2").tobytes(), sample_width=2,
                                 frame_rate=sample_rate, channels=channels)
    clipped = _join_until(pydub.silence.split_on_silence(segment, **_LONG_PAUSE), max_ms)
    if len(clipped) > max_ms:
        clipped = _join_until(pydub.silence.split_on_silence(segment, **_SHORT_PAUSE), max_ms)
    if len(clipped) > max_ms:
        clipped = clipped[:max_ms]
    clipped = _trim_edges(clipped) + pydub.AudioSegment.silent(duration=_TAIL_MS)
    data = np.frombuffer(clipped.raw_data, dtype="<i2").reshape(-1, clipped.channels)
    return torch.from_numpy(data.T / _INT16).float(), int(clipped.frame_rate)


def prepare_reference(path: Path, *, max_seconds: float, target_rms: float) -> PreparedReference:
    """Read ``path`` and prepare it as f5-tts does; :class:`AudioError` when nothing of it is
    louder than f5-tts's silence threshold."""
    import torchaudio.functional as audio_functional

    waveform = load_audio(path)
    clipped, rate = clip_reference(waveform.samples, waveform.sample_rate, max_seconds)
    seconds = clipped.shape[-1] / rate
    if seconds * 1000 <= _TAIL_MS + 1:
        raise AudioError(f"reference {path} is quieter than {_LONG_PAUSE['silence_thresh']} "
                         "dBFS throughout: F5-TTS's preprocessing finds no speech in it")
    mono = clipped.mean(dim=0, keepdim=True)
    rms = float(torch.sqrt(torch.mean(torch.square(mono))))
    if rms < target_rms:
        mono = mono * target_rms / rms
    if rate != SAMPLE_RATE:
        mono = audio_functional.resample(mono, rate, SAMPLE_RATE)
    return PreparedReference(audio=mono, rms=rms, seconds=seconds)
