"""Loading a trained run and sampling images from speech (or, for the text baseline, text)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from voxcore.errors import UserError
from voxcore.interfaces import SpeechFeatures, Waveform
from voxcore.io import load_tensors
from voxcore.model import VoxModel, build_model
from voxcore.recipe import ResolvedRecipe
from voxcore.recipe.schema import GenerateSection
from voxcore.training.run_dir import RunDir


@dataclass(frozen=True)
class LoadedRun:
    """A trained model with the recipe it was built from.

    ``source`` is the checkpoint folder (or pretrained folder) its weights came from, ``step``
    the training step they were saved at, ``used_ema`` whether they are the EMA weights.
    """

    model: VoxModel
    resolved: ResolvedRecipe
    source: str
    step: int
    used_ema: bool


def load_run(run_dir: Path, *, use_ema: bool = True, device: str = "cpu") -> LoadedRun:
    """Build a run's model and load its newest checkpoint (EMA weights when there are some).

    ``run_dir`` may also be a folder written by :func:`voxcore.pretrained.save_pretrained`
    (``voxcore export``); it holds one set of weights, so ``use_ema`` does not apply there.
    """
    from voxcore.pretrained import from_pretrained, is_pretrained_folder

    if is_pretrained_folder(run_dir):
        return from_pretrained(run_dir, device=device)
    run = RunDir(run_dir)
    resolved = run.load_recipe()
    checkpoint = run.latest()
    if checkpoint is None:
        raise UserError(f"{run_dir} has no checkpoint yet; train it first "
                        f"('voxcore train {run.recipe_file} --run-dir {run_dir}')")
    torch.manual_seed(resolved.recipe.seed)
    model = build_model(resolved)
    state = load_tensors(checkpoint.model_file)
    used_ema = use_ema and checkpoint.ema_file.is_file()
    if used_ema:
        ema = load_tensors(checkpoint.ema_file)
        state.update({k: v for k, v in ema.items() if k in state})
    model.load_trainable_state(state, f"checkpoint {checkpoint.path}")
    model.to(device).eval()
    return LoadedRun(model, resolved, str(checkpoint.path), checkpoint.step, used_ema)


def settings_with(
    base: GenerateSection,
    steps: int | None = None,
    guidance_scale: float | None = None,
    scheduler: str | None = None,
) -> GenerateSection:
    """The recipe's ``generate`` section with the given values replaced."""
    updates = {key: value for key, value in (("steps", steps), ("guidance_scale", guidance_scale),
                                             ("scheduler", scheduler)) if value is not None}
    return GenerateSection.model_validate({**base.model_dump(), **updates})


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
    precomputed ``features``.
    """
    if sum(x is not None for x in (waveforms, texts, features)) != 1:
        raise ValueError("give exactly one of waveforms, texts or features")
    count = len(waveforms or texts or []) if features is None else features.features.shape[0]
    device = next(model.parameters()).device
    images = []
    for number, start in enumerate(range(0, count, settings.batch_size)):
        chunk = slice(start, start + settings.batch_size)
        if waveforms is not None:
            batch_features = model.encode_speech(waveforms[chunk])
        elif texts is not None:
            batch_features = model.encode_text(texts[chunk])
        else:
            assert features is not None
            batch_features = SpeechFeatures(features.features[chunk], features.mask[chunk],
                                            features.frame_rate)
        batch_features = SpeechFeatures(batch_features.features.to(device),
                                        batch_features.mask.to(device), batch_features.frame_rate)
        images.append(model.generator_part.generate(
            model.condition(batch_features),
            num_inference_steps=settings.steps,
            guidance_scale=settings.guidance_scale,
            scheduler=settings.scheduler,
            generator=torch.Generator().manual_seed(seed + number),
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
    a text-baseline run). Needs a generator with an ``edit`` method (``sd15``, ``sdxl``,
    ``tiny-unet``); others raise :class:`UserError`.
    """
    edit = getattr(model.generator, "edit", None)
    if not callable(edit):
        raise UserError(f"generator {type(model.generator).__name__} cannot edit images (it has "
                        "no edit method); use a run whose generator supports editing")
    if (waveforms is None) == (texts is None):
        raise ValueError("give exactly one of waveforms or texts")
    count = len(waveforms if waveforms is not None else texts or [])
    if images.shape[0] != count:
        raise ValueError(f"{images.shape[0]} images but {count} utterances; give one each")
    device = next(model.parameters()).device
    edited = []
    for number, start in enumerate(range(0, count, settings.batch_size)):
        chunk = slice(start, start + settings.batch_size)
        features = (model.encode_speech(waveforms[chunk]) if waveforms is not None
                    else model.encode_text((texts or [])[chunk]))
        features = SpeechFeatures(features.features.to(device), features.mask.to(device),
                                  features.frame_rate)
        edited.append(edit(
            images[chunk].to(device), model.condition(features), strength=strength,
            num_inference_steps=settings.steps, guidance_scale=settings.guidance_scale,
            scheduler=settings.scheduler,
            generator=torch.Generator().manual_seed(seed + number)).cpu())
    return torch.cat(edited)
