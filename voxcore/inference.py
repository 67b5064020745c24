"""Sampling images from speech (or, for the text baseline, text) with a built model, and
editing images with it. Load a model with :func:`voxcore.runs.load`."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from voxcore.conditioning import seeded_generators
from voxcore.interfaces import SpeechFeatures, Waveform
from voxcore.model import VoxModel
from voxcore.recipe.schema import GenerateSection

__all__ = ["edit_images", "generate_images", "settings_with"]


def settings_with(
    base: GenerateSection,
    steps: int | None = None,
    guidance_scale: float | None = None,
    scheduler: str | None = None,
    batch_size: int | None = None,
) -> GenerateSection:
    """The recipe's ``generate`` section with the given values (those not ``None``) replaced."""
    given = {"steps": steps, "guidance_scale": guidance_scale, "scheduler": scheduler,
             "batch_size": batch_size}
    updates = {key: value for key, value in given.items() if value is not None}
    return GenerateSection.model_validate({**base.model_dump(), **updates})


def _to(features: SpeechFeatures, device: torch.device) -> SpeechFeatures:
    return SpeechFeatures(features.features.to(device), features.mask.to(device),
                          features.frame_rate)


@torch.no_grad()
def generate_images(
    model: VoxModel,
    settings: GenerateSection,
    seed: int,
    *,
    waveforms: Sequence[Waveform] | None = None,
    texts: Sequence[str] | None = None,
    features: SpeechFeatures | None = None,
) -> torch.Tensor:
    """One image per input, ``[B, 3, H, W]`` in ``[0, 1]``, in batches of ``settings.batch_size``.

    Give exactly one of ``waveforms`` (speech models), ``texts`` (text baseline) or
    precomputed ``features``. Input ``i``'s noise comes from its own seed, ``seed + i``, so its
    image does not depend on the batch size or on the other inputs.
    """
    if sum(x is not None for x in (waveforms, texts, features)) != 1:
        raise ValueError("give exactly one of waveforms, texts or features")
    count = len(waveforms or texts or []) if features is None else features.features.shape[0]
    device = next(model.parameters()).device
    images = []
    for start in range(0, count, settings.batch_size):
        chunk = slice(start, start + settings.batch_size)
        if waveforms is not None:
            batch_features = model.encode_speech(waveforms[chunk])
        elif texts is not None:
            batch_features = model.encode_text(texts[chunk])
        else:
            assert features is not None
            batch_features = SpeechFeatures(features.features[chunk], features.mask[chunk],
                                            features.frame_rate)
        images.append(model.sample(
            model.condition(_to(batch_features, device)),
            num_inference_steps=settings.steps,
            guidance_scale=settings.guidance_scale,
            scheduler=settings.scheduler,
            generator=seeded_generators(seed + start, batch_features.features.shape[0]),
        ).cpu())
    return torch.cat(images)


@torch.no_grad()
def edit_images(
    model: VoxModel,
    settings: GenerateSection,
    seed: int,
    images: torch.Tensor,
    strength: float,
    *,
    waveforms: Sequence[Waveform] | None = None,
    texts: Sequence[str] | None = None,
) -> torch.Tensor:
    """Each of ``images`` (``[B, 3, R, R]`` in ``[0, 1]``) redrawn under its own utterance.

    Speech-driven image editing (the paper's Fig. B8): the generator noises each image to
    ``strength`` and denoises it under the condition of ``waveforms[i]`` (or ``texts[i]`` for
    a text-baseline run), with its own seed ``seed + i``. Needs a generator with the editing ability
    (:class:`~voxcore.interfaces.SupportsEditing`: ``sd15``, ``sdxl``, ``tiny-unet``); others
    raise :class:`~voxcore.errors.UserError`.
    """
    model.require_editing()
    if (waveforms is None) == (texts is None):
        raise ValueError("give exactly one of waveforms or texts")
    count = len(waveforms if waveforms is not None else texts or [])
    if images.shape[0] != count:
        raise ValueError(f"{images.shape[0]} images but {count} utterances; give one each")
    device = next(model.parameters()).device
    edited = []
    for start in range(0, count, settings.batch_size):
        chunk = slice(start, start + settings.batch_size)
        features = (model.encode_speech(waveforms[chunk]) if waveforms is not None
                    else model.encode_text((texts or [])[chunk]))
        edited.append(model.edit(
            images[chunk].to(device), model.condition(_to(features, device)), strength=strength,
            num_inference_steps=settings.steps, guidance_scale=settings.guidance_scale,
            scheduler=settings.scheduler,
            generator=seeded_generators(seed + start, features.features.shape[0])).cpu())
    return torch.cat(edited)
