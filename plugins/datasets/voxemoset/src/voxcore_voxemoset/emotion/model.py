"""The classifier of the ``speech-emotion`` recognizer and the log-mel frames it reads."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from voxcore.plugin_api import Waveform

__all__ = ["SAMPLE_RATE", "EmotionNet", "log_mel_batch"]

#: The rate speech is resampled to before its log-mel frames are taken.
SAMPLE_RATE = 16_000
_HOP = 160  # 10 ms at 16 kHz


def log_mel_batch(waveforms: Sequence[Waveform], n_mels: int,
                  max_seconds: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded log-mel frames ``[B, n_mels, T]`` (mono, 16 kHz, cut at ``max_seconds``) and
    their validity mask ``[B, T]``; padding is zero."""
    import torchaudio

    melspec = torchaudio.transforms.MelSpectrogram(sample_rate=SAMPLE_RATE, n_fft=400,
                                                   hop_length=_HOP, n_mels=n_mels)
    frames = []
    for wave in waveforms:
        mono = wave.samples.float().mean(dim=0)
        if wave.sample_rate != SAMPLE_RATE:
            mono = torchaudio.functional.resample(mono, wave.sample_rate, SAMPLE_RATE)
        mono = mono[: int(max_seconds * SAMPLE_RATE)]
        frames.append(torch.log(melspec(mono) + 1e-6))
    longest = max(f.shape[-1] for f in frames)
    batch = torch.zeros(len(frames), n_mels, longest)
    mask = torch.zeros(len(frames), longest, dtype=torch.bool)
    for index, found in enumerate(frames):
        batch[index, :, : found.shape[-1]] = found
        mask[index, : found.shape[-1]] = True
    return batch, mask


class EmotionNet(nn.Module):
    """Log-mel frames -> three masked convolutions -> mean and std over time -> logits.

    Padded frames are zeroed after every layer, so an utterance scores the same alone or in
    a padded batch.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, n_mels: int, channels: int, classes: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_mels, 1))
        self.register_buffer("std", torch.ones(n_mels, 1))
        self.convs = nn.ModuleList([
            nn.Conv1d(n_mels, channels, 5, padding=2),
            nn.Conv1d(channels, channels, 5, stride=2, padding=2),
            nn.Conv1d(channels, channels, 5, stride=2, padding=2),
        ])
        self.head = nn.Linear(2 * channels, classes)

    def forward(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, classes]`` of log-mel ``frames`` ``[B, n_mels, T]`` with ``mask``."""
        x = (frames - self.mean) / self.std
        for conv, stride in zip(self.convs, (1, 2, 2), strict=True):
            x = x * mask.unsqueeze(1)
            x = F.gelu(conv(x))
            mask = mask[:, ::stride]
        weights = mask.unsqueeze(1).to(x.dtype)
        count = weights.sum(dim=2).clamp(min=1.0)
        mean = (x * weights).sum(dim=2) / count
        variance = ((x - mean.unsqueeze(2)).square() * weights).sum(dim=2) / count
        pooled = torch.cat([mean, (variance + 1e-5).sqrt()], dim=1)
        logits: torch.Tensor = self.head(pooled)
        return logits
