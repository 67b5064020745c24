"""Reading audio files and turning waveforms into padded mono batches.

:func:`load_audio` reads one file (wav, flac, ogg, anything libsndfile reads) into a
:class:`~voxcore.interfaces.Waveform` and rejects files no encoder could use, with a message
that names the file, says what is wrong and how to fix it. :func:`to_mono_batch` is what an
encoder calls first: mix down, resample, zero-pad. :func:`lengths_to_mask` turns the lengths it
returns into the boolean masks that travel with every padded tensor.

This module imports torch, torchaudio and soundfile; nothing in ``voxcore/__init__`` imports it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import soundfile
import torch
import torchaudio

from voxcore.errors import AudioError
from voxcore.interfaces import Waveform

__all__ = ["AudioError", "load_audio", "to_mono_batch", "lengths_to_mask", "DEFAULT_SILENCE"]

#: Peak amplitude below which :func:`load_audio` calls a file silent (about -80 dBFS).
DEFAULT_SILENCE = 1e-4

_FORMATS = "wav, flac or ogg"


def load_audio(
    path: str | os.PathLike[str], *, silence_threshold: float | None = DEFAULT_SILENCE
) -> Waveform:
    """Read an audio file into a float32 ``[channels, time]`` :class:`Waveform`.

    Raises :class:`AudioError` when the file is missing, unreadable or not audio, empty (no
    bytes or no samples), contains NaN or infinite samples, or is silent: its peak absolute
    amplitude is below ``silence_threshold`` (``None`` accepts silent files).
    """
    file = Path(path)
    if not file.exists():
        raise AudioError(f"audio file {file} does not exist; check the path (relative paths are "
                         f"resolved from {Path.cwd()})")
    if not file.is_file():
        raise AudioError(f"audio file {file} is not a file; give the path of a {_FORMATS} file")
    if file.stat().st_size == 0:
        raise AudioError(f"audio file {file} is empty (0 bytes); re-export or re-download it")
    try:
        data, sample_rate = soundfile.read(str(file), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"audio file {file} could not be read as audio ({exc}); it may be "
                         f"corrupt or in an unsupported format: convert it to {_FORMATS}, e.g. "
                         f"'ffmpeg -i {file.name} out.wav'") from exc
    samples = torch.from_numpy(data.T.copy())
    if samples.shape[1] == 0:
        raise AudioError(f"audio file {file} contains no samples (0 frames); record or export "
                         "it again")
    if not bool(torch.isfinite(samples).all()):
        raise AudioError(f"audio file {file} contains NaN or infinite samples; it is corrupt, "
                         "re-export it from the original recording")
    peak = float(samples.abs().max())
    if silence_threshold is not None and peak < silence_threshold:
        raise AudioError(f"audio file {file} is silent (peak amplitude {peak:.2g} is below "
                         f"{silence_threshold:g}); check that it holds the intended recording, "
                         "or lower silence_threshold if it is just very quiet")
    return Waveform(samples=samples, sample_rate=int(sample_rate), source=str(file))


def to_mono_batch(
    waveforms: Sequence[Waveform], sample_rate: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix each waveform down to mono, resample it to ``sample_rate`` and zero-pad the batch.

    Returns ``(batch, lengths)``: float32 ``[B, T]`` with ``T`` the longest resampled length, and
    int64 ``[B]``, the number of real samples in each row (the rest are zeros). The batch is on
    the device of the first waveform. Raises :class:`ValueError` for an empty sequence and
    :class:`AudioError` for a waveform with no samples or with NaN/infinite samples.
    """
    if len(waveforms) == 0:
        raise ValueError("to_mono_batch needs at least one waveform, got an empty sequence")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    device = waveforms[0].samples.device
    rows: list[torch.Tensor] = []
    for index, waveform in enumerate(waveforms):
        if waveform.samples.shape[-1] == 0:
            raise AudioError(f"waveform {index} of the batch has no samples; every utterance "
                             "needs at least one sample")
        # Mixing before resampling does the expensive step once instead of once per channel.
        mono = waveform.samples.to(device=device, dtype=torch.float32).mean(dim=0)
        if not bool(torch.isfinite(mono).all()):
            raise AudioError(f"waveform {index} of the batch contains NaN or infinite samples")
        if waveform.sample_rate != sample_rate:
            mono = torchaudio.functional.resample(mono, waveform.sample_rate, sample_rate)
        rows.append(mono)
    lengths = torch.tensor([row.shape[0] for row in rows], dtype=torch.int64, device=device)
    batch = torch.zeros(len(rows), int(lengths.max()), dtype=torch.float32, device=device)
    for index, row in enumerate(rows):
        batch[index, : row.shape[0]] = row
    return batch, lengths


def lengths_to_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """Boolean ``[B, max_len]`` mask that is ``True`` for the first ``lengths[b]`` positions.

    ``max_len`` defaults to the largest length; lengths beyond it are clipped to it.
    """
    if lengths.dim() != 1:
        raise ValueError(f"lengths must be a 1-D tensor [B], got shape {tuple(lengths.shape)}")
    if max_len is None:
        max_len = int(lengths.max()) if lengths.numel() else 0
    if max_len < 0:
        raise ValueError(f"max_len must not be negative, got {max_len}")
    positions = torch.arange(max_len, device=lengths.device)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)
