"""The ``mel`` speech encoder: log-mel filterbank energies of each utterance."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
import torchaudio

from voxcore.plugin_api import SpeechFeatures, Waveform, lengths_to_mask, to_mono_batch
from voxcore_mel import MelConfig

__all__ = ["MelEncoder"]

#: Power floor before the log (-100 dB), so digital silence gives a finite value.
LOG_FLOOR = 1e-10
#: Added to the variance in utterance normalization, so a constant bin does not divide by 0.
NORM_EPS = 1e-5


class MelEncoder(torch.nn.Module):
    """Log-mel features ``[B, N, n_mels]`` at ``sample_rate / hop_length`` frames per second.

    Frames are not centred (``center=False``): frame ``i`` covers samples
    ``[i * hop, i * hop + n_fft)``, and an utterance has ``1 + (length - n_fft) // hop`` valid
    frames (one, over zero padding, if it is shorter than ``n_fft``). A valid frame therefore
    never sees another utterance's padding, which is what makes batched and single results
    equal. The filterbank and window are buffers; there are no learned weights.
    """

    def __init__(self, config: MelConfig | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else MelConfig()
        self.sample_rate: int = self.config.sample_rate
        self.output_dim: int = self.config.n_mels
        self.frame_rate: float = self.config.sample_rate / self.config.hop_length
        # The filterbank is computed, not loaded: it is built on the CPU even when a recipe
        # is assembled on the meta device (torchaudio checks its values while building it).
        with torch.device("cpu"):
            self.mel = torchaudio.transforms.MelSpectrogram(
                sample_rate=self.config.sample_rate,
                n_fft=self.config.n_fft,
                win_length=self.config.win_length,
                hop_length=self.config.hop_length,
                f_min=self.config.f_min,
                f_max=self.config.f_max,
                n_mels=self.config.n_mels,
                center=False,
                power=2.0,
            )

    def num_frames(self, lengths: torch.Tensor) -> torch.Tensor:
        """Valid frames of utterances of ``lengths`` samples (at ``sample_rate``)."""
        n_fft, hop = self.config.n_fft, self.config.hop_length
        return 1 + (lengths.clamp_min(n_fft) - n_fft) // hop

    def encode(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        """Encode utterances of any lengths, rates and channel counts."""
        device = self.mel.mel_scale.fb.device
        batch, lengths = to_mono_batch(waveforms, self.sample_rate)
        batch, lengths = batch.to(device), lengths.to(device)
        if batch.shape[1] < self.config.n_fft:
            batch = F.pad(batch, (0, self.config.n_fft - batch.shape[1]))
        power = self.mel(batch)  # [B, n_mels, N]
        features = torch.log(power.clamp_min(LOG_FLOOR)).transpose(1, 2)  # [B, N, n_mels]
        mask = lengths_to_mask(self.num_frames(lengths), features.shape[1])
        if self.config.normalize == "utterance":
            features = _normalize_valid(features, mask)
        features = features.masked_fill(~mask.unsqueeze(-1), 0.0)
        return SpeechFeatures(features=features, mask=mask, frame_rate=self.frame_rate)

    def extra_repr(self) -> str:
        return (f"sample_rate={self.sample_rate}, n_mels={self.output_dim}, "
                f"frame_rate={self.frame_rate:g}, normalize={self.config.normalize!r}")


def _normalize_valid(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance per utterance and bin, statistics over valid frames only."""
    weight = mask.unsqueeze(-1).to(features.dtype)
    count = weight.sum(dim=1, keepdim=True)
    mean = (features * weight).sum(dim=1, keepdim=True) / count
    # Padded positions are zeroed before squaring so they add nothing to the variance.
    centered = (features - mean) * weight
    variance = centered.square().sum(dim=1, keepdim=True) / count
    return centered / torch.sqrt(variance + NORM_EPS)
