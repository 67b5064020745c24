"""Running a speech encoder on waveforms, with the checks every encoder call needs.

Audio too short for the encoder to give a frame is refused with its duration and the
minimum (declared by the encoder, :class:`~voxcore.interfaces.DeclaresMinimumDuration`, or
found afterwards as an utterance that got no valid frame); an exception inside the plugin
names the encoder (:func:`voxcore.failures.blame`).
"""

from __future__ import annotations

from collections.abc import Sequence

from voxcore.errors import AudioError
from voxcore.failures import PartLabel, blame
from voxcore.interfaces import DeclaresMinimumDuration, SpeechEncoder, SpeechFeatures, Waveform

__all__ = ["encode_waveforms"]


def _name(waveform: Waveform, index: int) -> str:
    return f"audio file {waveform.source}" if waveform.source else f"utterance {index}"


def encode_waveforms(encoder: SpeechEncoder, waveforms: Sequence[Waveform],
                     label: PartLabel | None) -> SpeechFeatures:
    """``encoder.encode(waveforms)``, refusing audio too short to give a frame."""
    what = str(label) if label is not None else f"encoder {type(encoder).__name__}"
    if isinstance(encoder, DeclaresMinimumDuration):
        minimum = float(encoder.min_duration)
        for index, waveform in enumerate(waveforms):
            if waveform.duration < minimum:
                raise AudioError(
                    f"{_name(waveform, index)} is {waveform.duration:.3f} s long, too short for "
                    f"{what}: it needs at least {minimum:.3f} s of audio to give one frame; "
                    "record a longer utterance")
    with blame(label, "encoding speech"):
        features = encoder.encode(waveforms)
    if features.features.device.type != "meta":
        empty = (features.mask.sum(dim=1) == 0).nonzero().flatten().tolist()
        if empty:
            index = int(empty[0])
            waveform = waveforms[index]
            step = 1.0 / features.frame_rate if features.frame_rate > 0 else 0.0
            raise AudioError(
                f"{_name(waveform, index)} is {waveform.duration:.3f} s long and {what} gave "
                f"it no frame (one frame per {step:.3f} s); it needs longer audio")
    return features
