"""The ``whisper`` speech encoder: hidden states of a Whisper encoder, 50 frames per second.

Audio goes through Whisper's own log-mel front end (:class:`transformers.WhisperFeatureExtractor`,
80 or 128 bins, 30 s windows), then through the encoder's convolutions, positional embeddings
and Transformer layers, up to the layer the config asks for. The loop over the layers is ours
rather than ``WhisperEncoder.forward`` so that it can stop early and, with ``trim_padding``, run
on the real frames only with the padding masked out of attention; without trimming it gives
exactly what ``WhisperEncoder(..., output_hidden_states=True).hidden_states[layer]`` gives.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from transformers import WhisperConfig, WhisperFeatureExtractor
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from voxcore.plugin_api import (
    AudioError,
    SpeechFeatures,
    Waveform,
    checking,
    layer_index,
    lengths_to_mask,
    to_mono_batch,
)
from voxcore_whisper import WhisperEncoderConfig
from voxcore_whisper.loading import architecture_for_check, load_pretrained_encoder

__all__ = ["WhisperSpeechEncoder", "load_whisper_encoder", "encoder_from_architecture",
           "valid_frames"]

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def valid_frames(num_samples: torch.Tensor, hop_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mel frames and encoder frames that hold real audio, for utterances of ``num_samples``.

    The feature extractor's frame ``i`` is real when sample ``i * hop_length`` is (its own
    attention mask keeps every ``hop_length``-th sample), and the second convolution halves the
    rate: encoder frame ``j`` is real when mel frame ``2 j`` is.
    """
    mel_frames = torch.div(num_samples + hop_length - 1, hop_length, rounding_mode="floor")
    mel_frames = mel_frames.clamp_min(1)
    return mel_frames, torch.div(mel_frames + 1, 2, rounding_mode="floor")


class WhisperSpeechEncoder(torch.nn.Module):
    """A frozen Whisper encoder that returns per-frame hidden states ``[B, N, d_model]``.

    ``encoder`` is a transformers :class:`WhisperEncoder` (its weights are this module's state
    under ``encoder.``); ``feature_extractor`` computes its log-mel input. Utterances longer than
    Whisper's 30 s window are rejected rather than cut.
    """

    def __init__(self, config: WhisperEncoderConfig, encoder: WhisperEncoder,
                 feature_extractor: WhisperFeatureExtractor, fingerprint: str = "") -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder
        self.feature_extractor = feature_extractor
        self.num_layers = len(encoder.layers)
        self.layer = layer_index(config.layer, self.num_layers, "Whisper encoder")
        self.sample_rate: int = int(feature_extractor.sampling_rate)
        self.output_dim: int = int(encoder.config.d_model)
        self.hop_length = int(feature_extractor.hop_length)
        stride = int(encoder.conv1.stride[0]) * int(encoder.conv2.stride[0])
        self.frame_rate: float = self.sample_rate / (self.hop_length * stride)
        self.window_samples = int(feature_extractor.n_samples)
        #: Changes when the weights behind ``config.model`` change (used by feature caches).
        self.weights_fingerprint = fingerprint
        encoder.to(_DTYPES[config.dtype])

    @property
    def device(self) -> torch.device:
        weight: torch.Tensor = self.encoder.conv1.weight
        return weight.device

    def encode(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        """Encode utterances of up to 30 s, of any rate and channel count."""
        batch, lengths = to_mono_batch(waveforms, self.sample_rate)
        refuse_too_long(lengths, self.window_samples, self.sample_rate, "Whisper encodes")
        mel = self._log_mel(batch, lengths)
        # Frame counts stay on the CPU: they size tensors, and the encoder may be on 'meta'.
        mel_valid, valid = valid_frames(lengths.cpu(), self.hop_length)
        hidden = self._hidden_states(mel, mel_valid, valid)
        frames = int(valid.max())
        mask = lengths_to_mask(valid, frames).to(hidden.device)
        features = hidden[:, :frames].float().masked_fill(~mask.unsqueeze(-1), 0.0)
        return SpeechFeatures(features=features, mask=mask, frame_rate=self.frame_rate)

    def _log_mel(self, batch: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Whisper's log-mel input ``[B, n_mels, 3000]`` for each utterance on its own."""
        arrays = [row[:n].cpu().numpy() for row, n in zip(batch, lengths.tolist(), strict=True)]
        inputs = self.feature_extractor(arrays, sampling_rate=self.sample_rate,
                                        return_tensors="pt", padding="max_length")
        features: torch.Tensor = inputs["input_features"]
        return features.to(device=self.device, dtype=self.encoder.conv1.weight.dtype)

    def _hidden_states(self, mel: torch.Tensor, mel_valid: torch.Tensor,
                       valid: torch.Tensor) -> torch.Tensor:
        """Hidden states ``[B, frames, D]`` of the configured layer."""
        encoder = self.encoder
        key_mask: torch.Tensor | None = None
        if self.config.trim_padding:
            frames = int(valid.max())
            real_mel = _time_mask(mel_valid, 2 * frames, mel.dtype, mel.device)
            mel = mel[..., : 2 * frames] * real_mel
            # Zeroing what lies past each utterance makes the convolutions see what they would
            # see at the end of an unpadded input, so batching does not change any valid frame.
            hidden = F.gelu(encoder.conv1(mel)) * real_mel
            hidden = F.gelu(encoder.conv2(hidden))
            mask = lengths_to_mask(valid, frames).to(hidden.device)
            key_mask = torch.zeros(mask.shape, dtype=hidden.dtype, device=hidden.device)
            key_mask = key_mask.masked_fill(~mask, torch.finfo(hidden.dtype).min)[:, None, None, :]
        else:
            hidden = F.gelu(encoder.conv2(F.gelu(encoder.conv1(mel))))
        hidden = hidden.permute(0, 2, 1)
        hidden = hidden + encoder.embed_positions.weight[: hidden.shape[1]]
        for layer in encoder.layers[: self.layer]:
            hidden = layer(hidden, key_mask, layer_head_mask=None)[0]
        if self.layer == self.num_layers:
            hidden = encoder.layer_norm(hidden)
        states: torch.Tensor = hidden
        return states

    def extra_repr(self) -> str:
        return (f"model={self.config.model!r}, layer={self.layer}/{self.num_layers}, "
                f"output_dim={self.output_dim}, trim_padding={self.config.trim_padding}, "
                f"dtype={self.config.dtype}")


def refuse_too_long(lengths: torch.Tensor, window_samples: int, sample_rate: int, doing: str,
                    offset: int = 0) -> None:
    """Raise :class:`AudioError` for the first utterance longer than Whisper's window.

    ``doing`` completes the message ("Whisper encodes", "the asr encoder transcribes");
    ``offset`` is the batch's position in a longer list, so the utterance is named correctly.
    """
    too_long = [i for i, n in enumerate(lengths.tolist()) if n > window_samples]
    if too_long:
        seconds = lengths[too_long[0]].item() / sample_rate
        raise AudioError(f"utterance {offset + too_long[0]} of the batch is {seconds:.1f} s "
                         f"long; {doing} at most {window_samples / sample_rate:g} s at a time. "
                         "Split or trim longer recordings first")


def _time_mask(valid: torch.Tensor, frames: int, dtype: torch.dtype,
               device: torch.device) -> torch.Tensor:
    """``[B, 1, frames]`` of ones on the first ``valid[b]`` frames and zeros after."""
    return lengths_to_mask(valid, frames).unsqueeze(1).to(device=device, dtype=dtype)


def load_whisper_encoder(config: WhisperEncoderConfig) -> WhisperSpeechEncoder:
    """Build the ``whisper`` encoder of a recipe: load the checkpoint ``config.model`` names
    (for ``voxcore recipe check``: only its architecture, on the meta device)."""
    if checking():
        return encoder_from_architecture(architecture_for_check(config), config, device="meta")
    encoder, feature_extractor, fingerprint = load_pretrained_encoder(config)
    return WhisperSpeechEncoder(config, encoder, feature_extractor, fingerprint)


def encoder_from_architecture(whisper_config: WhisperConfig,
                              config: WhisperEncoderConfig | None = None,
                              device: str | torch.device = "cpu") -> WhisperSpeechEncoder:
    """An encoder with fresh weights built from a transformers ``WhisperConfig``.

    For tests (tiny configs) and for counting a published architecture's parameters and FLOPs
    on the ``meta`` device, where no weights are needed.
    """
    settings = config if config is not None else WhisperEncoderConfig()
    with torch.device(device):
        encoder = WhisperEncoder(whisper_config)
    extractor = WhisperFeatureExtractor(feature_size=whisper_config.num_mel_bins)
    return WhisperSpeechEncoder(settings, encoder.eval(), extractor)

