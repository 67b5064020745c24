"""Flow-matching sampling of F5-TTS mels for a batch, each item with its own noise.

The steps are those of f5-tts's ``CFM.sample`` (reference mel kept where it is given, Euler
steps on its empirically pruned, sway-sampled time grid, classifier-free guidance with the
text and audio dropped together), but the noise comes with each item instead of from one
``torch.manual_seed`` for the whole batch: an item drawn from its own seed gives what
``CFM.sample(seed=...)`` gives it alone, whatever else is in the batch.

Two things keep a batch from changing an item: padding is masked in attention and in the
convolutions (the DiT is built so, :mod:`voxcore_f5tts.architectures`), and each item's text
embedding is made alone, at its own length, and handed to the DiT through its text cache: the
text's ConvNeXt V2 blocks normalise over the whole sequence (GRN), padding included, so a text
embedded in a padded batch would differ from the same text embedded alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn.utils.rnn import pad_sequence

__all__ = ["MAX_FRAMES", "FlowItem", "Guidance", "frames_to_sample", "sample_mels"]

#: f5-tts's cap on the frames of one item (about 11 minutes).
MAX_FRAMES = 65536


@dataclass(frozen=True)
class FlowItem:
    """One utterance to sample: ``reference`` mel ``[F, C]``, ``tokens`` of reference text and
    text ``[L]``, and ``noise`` ``[N, C]``, whose length is the item's total frames
    (:func:`frames_to_sample`)."""

    reference: torch.Tensor
    tokens: torch.Tensor
    noise: torch.Tensor


@dataclass(frozen=True)
class Guidance:
    """The sampler's settings (f5-tts's names)."""

    nfe_step: int
    cfg_strength: float
    sway_sampling_coef: float | None


def frames_to_sample(estimate: int, tokens: int, reference_frames: int) -> int:
    """The frames ``CFM.sample`` makes for an estimated total: at least one more than the
    tokens and the reference, at most :data:`MAX_FRAMES`."""
    return min(max(max(tokens, reference_frames) + 1, estimate), MAX_FRAMES)


def _time_grid(steps: int, sway: float | None, device: torch.device,
               dtype: torch.dtype) -> torch.Tensor:
    from f5_tts.model.utils import get_epss_timesteps  # type: ignore[import-untyped]

    t: torch.Tensor = get_epss_timesteps(steps, device=device, dtype=dtype)
    if sway is not None:
        t = t + sway * (torch.cos(torch.pi / 2 * t) - 1 + t)
    return t


def _lengths_mask(lengths: torch.Tensor, length: int) -> torch.Tensor:
    return torch.arange(length, device=lengths.device)[None, :] < lengths[:, None]


def _text_embeddings(transformer: Any, items: Sequence[FlowItem], *,
                     drop_text: bool) -> torch.Tensor:
    """Each item's text embedding as the DiT makes it for that item alone, padded."""
    device = next(transformer.parameters()).device
    rows = [transformer.text_embed(item.tokens[None].to(device), seq_len=item.noise.shape[0],
                                   drop_text=drop_text)[0] for item in items]
    return pad_sequence(rows, batch_first=True)


@torch.inference_mode()
def sample_mels(cfm: Any, items: Sequence[FlowItem],
                guidance: Guidance) -> list[torch.Tensor]:
    """Each item's mel ``[N, C]`` (float32, on the model's device), reference part included;
    ``cfm`` is f5-tts's ``CFM``."""
    from torchdiffeq import odeint  # type: ignore[import-untyped]

    transformer = cfm.transformer
    parameter = next(transformer.parameters())
    device, dtype = parameter.device, parameter.dtype
    lengths = torch.tensor([item.reference.shape[0] for item in items], device=device)
    frames = torch.tensor([item.noise.shape[0] for item in items], device=device)
    longest = int(frames.max())

    reference_mask = _lengths_mask(lengths, longest).unsqueeze(-1)
    reference = pad_sequence([item.reference for item in items], batch_first=True)
    reference = torch.nn.functional.pad(reference.to(device, dtype),
                                        (0, 0, 0, longest - reference.shape[1]))
    text = pad_sequence([item.tokens for item in items], batch_first=True,
                        padding_value=-1).to(device)
    noise = pad_sequence([item.noise for item in items], batch_first=True).to(device, dtype)
    # Alone, f5-tts passes no mask (nothing is padded); in a batch the padding is masked.
    mask = _lengths_mask(frames, longest) if len(items) > 1 else None

    def flow(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if guidance.cfg_strength < 1e-5:
            plain: torch.Tensor = transformer(x=x, cond=reference, text=text, time=t, mask=mask,
                                              drop_audio_cond=False, drop_text=False, cache=True)
            return plain
        both = transformer(x=x, cond=reference, text=text, time=t, mask=mask, cfg_infer=True,
                           cache=True)
        conditional, unconditional = torch.chunk(both, 2, dim=0)
        guided: torch.Tensor = conditional + (conditional - unconditional) * guidance.cfg_strength
        return guided

    try:
        transformer.text_cond = _text_embeddings(transformer, items, drop_text=False)
        transformer.text_uncond = _text_embeddings(transformer, items, drop_text=True)
        times = _time_grid(guidance.nfe_step, guidance.sway_sampling_coef, device, dtype)
        sampled = odeint(flow, noise, times, method="euler")[-1]
    finally:
        transformer.clear_cache()
    out = torch.where(reference_mask, reference, sampled).float()
    return [out[index, :int(count)] for index, count in enumerate(frames.tolist())]
