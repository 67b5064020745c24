"""emotion2vec's utterance-level scores, computed as FunASR's ``generate`` computes them, batched.

For one utterance FunASR (``Emotion2vec.inference``, ``granularity="utterance"``) takes the
16 kHz waveform, layer-normalises it over all its samples (``normalize: true`` in the
config), runs ``extract_features`` without padding, averages the frames, applies the output
layer, sets the logits of labels named ``unuse*`` to -inf and takes the softmax.

:func:`label_logits` does exactly that for a padded batch, so that every utterance scores as
it would alone:

- each waveform is normalised over its own samples before padding;
- the convolutional feature extractor needs no mask (in ``layer_norm`` mode it normalises
  each frame on its own, and a frame of a shorter utterance sees only its own samples);
- FunASR's padding mask keeps padding out of attention, but not out of the convolutional
  positional encoder, whose kernel would reach from the last real frames into the padding:
  the padding frames are set to zero before each of its convolutions, which is what the
  convolution's own zero padding gives an utterance run alone;
- the frames are averaged over the real ones only.

A checkpoint whose extractor normalises over time (``extractor_mode: default``) cannot be
batched this way; :func:`can_batch` says so and the recognizer then runs one utterance at a
time. An utterance shorter than the extractor's receptive field (400 samples, 25 ms, for the
published models), which FunASR cannot score at all, is zero-padded to it after
normalisation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["SAMPLE_RATE", "can_batch", "frame_lengths", "label_logits", "label_probabilities",
           "normalised_batch", "receptive_field"]

#: The sample rate emotion2vec runs at.
SAMPLE_RATE = 16_000


def _conv_spec(model: Any) -> list[tuple[int, int, int]]:
    """The ``(channels, kernel, stride)`` of each layer of the feature extractor."""
    spec: list[tuple[int, int, int]] = model.modality_encoders["AUDIO"].feature_enc_layers
    return spec


def _audio_config(model: Any) -> Any:
    return model.modality_encoders["AUDIO"].modality_cfg


def can_batch(model: Any) -> bool:
    """Whether padding leaves every utterance's scores unchanged (see the module docstring)."""
    return bool(_audio_config(model).extractor_mode == "layer_norm")


def receptive_field(model: Any) -> int:
    """The fewest samples that make one frame."""
    samples = 1
    for _, kernel, stride in reversed(_conv_spec(model)):
        samples = (samples - 1) * stride + kernel
    return samples


def frame_lengths(model: Any, lengths: torch.Tensor) -> torch.Tensor:
    """The number of frames the feature extractor makes of each of ``lengths`` samples."""
    frames = lengths.clone()
    for _, kernel, stride in _conv_spec(model):
        frames = torch.div(frames - kernel, stride, rounding_mode="floor") + 1
    return frames


def normalised_batch(model: Any, waves: Sequence[torch.Tensor]
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(batch, lengths)``: the mono 16 kHz ``waves``, each layer-normalised over its own
    samples when the config says so (as FunASR does), zero-padded to the longest and to at
    least the receptive field."""
    normalize = bool(model.cfg.get("normalize"))
    rows = [F.layer_norm(wave, wave.shape) if normalize else wave for wave in waves]
    lengths = torch.tensor([max(row.shape[0], receptive_field(model)) for row in rows])
    batch = rows[0].new_zeros(len(rows), int(lengths.max()))
    for index, row in enumerate(rows):
        batch[index, : row.shape[0]] = row
    return batch, lengths


@contextmanager
def _padding_zeroed_before_convs(encoder: torch.nn.Module, keep: torch.Tensor
                                 ) -> Iterator[None]:
    """Within the block, every ``Conv1d`` of ``encoder`` sees zeros at the frames ``keep``
    (``[B, T]``, ``True`` = real frame) leaves out."""
    weights = keep[:, None, :]

    def zero_padding(_: torch.nn.Module, args: tuple[torch.Tensor, ...]
                     ) -> tuple[torch.Tensor, ...]:
        return (args[0] * weights.to(args[0].dtype), *args[1:])

    handles = [module.register_forward_pre_hook(zero_padding)
               for module in encoder.modules() if isinstance(module, torch.nn.Conv1d)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def label_logits(model: Any, batch: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Float32 ``[B, labels]`` logits of a normalised, padded batch (``lengths`` samples
    real in each row), on the model's device."""
    audio = model.modality_encoders["AUDIO"]
    lengths = lengths.cpu()  # sizes are decided here, whatever device the model is on
    counts = frame_lengths(model, lengths)
    frames = counts.to(batch.device)
    keep = torch.arange(int(counts.max()), device=batch.device)[None, :] < frames[:, None]
    padding_mask = None
    masking: AbstractContextManager[None] = nullcontext()
    if bool((lengths != lengths.max()).any()):  # unpadded: FunASR's own path, no mask at all
        samples = torch.arange(batch.shape[1], device=batch.device)
        padding_mask = samples[None, :] >= lengths.to(batch.device)[:, None]
        masking = _padding_zeroed_before_convs(audio.relative_positional_encoder, keep)
    with masking:
        features = model.extract_features(batch, padding_mask=padding_mask)["x"]
    features = features.float()
    weights = keep[:, : features.shape[1], None].to(features.dtype)
    pooled = (features * weights).sum(dim=1) / frames[:, None].to(features.dtype)
    proj = model.proj
    logits: torch.Tensor = F.linear(pooled, proj.weight.float(), proj.bias.float())
    return logits


def label_probabilities(logits: torch.Tensor, unused: Sequence[bool]) -> torch.Tensor:
    """FunASR's scores: the softmax of ``logits`` with the ``unused`` labels given none."""
    mask = torch.tensor(unused, dtype=torch.bool, device=logits.device)
    return torch.softmax(logits.masked_fill(mask, float("-inf")), dim=-1)

