"""A trained model as one self-contained folder: ``save_pretrained`` and reading it back.

The folder holds what is needed to rebuild and run the model, and nothing pickled::

    voxcore.json               format, name, source run and step, versions of everything used
    recipe.yaml                the resolved recipe (it names the pretrained parts, e.g. the SD
                               checkpoint, which are loaded again from there)
    bottleneck.safetensors     the trained bottleneck, as its own module
    text_encoder.safetensors   the trained text encoder (text-baseline runs only)
    generator.safetensors      the generator's trained tensors not written in an interop format
    prepared/<section>/        what the parts learned from data before training (a word
                               recogniser, a judge), so nothing needs the training data again

A generator with the :class:`~voxcore.interfaces.SupportsInterop` ability writes some of its
weights in its ecosystem's own format so that other tools read them (the SD generators write
``pytorch_lora_weights.safetensors`` for LoRA runs, which a stock diffusers pipeline's
``load_lora_weights`` reads, and a diffusers ``unet/`` folder for fully trained runs;
``tiny-unet`` writes its UNet as a diffusers ``unet/`` folder too).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxcore.errors import UserError
from voxcore.interfaces import SupportsInterop
from voxcore.io import load_tensors, save_tensors, write_text_atomic
from voxcore.preparation import keep_prepared, prepared_folders
from voxcore.recipe import load_recipe
from voxcore.runs.loaded import LoadedRun

if TYPE_CHECKING:
    import torch

__all__ = ["MANIFEST_FILE", "is_exported", "read_exported", "save_pretrained"]

MANIFEST_FILE = "voxcore.json"
FORMAT = 1
_PARTS = ("bottleneck", "text_encoder", "generator")


def is_exported(folder: Path) -> bool:
    """Whether ``folder`` was written by :func:`save_pretrained`."""
    return (folder / MANIFEST_FILE).is_file()


def save_pretrained(loaded: LoadedRun, folder: str | Path) -> Path:
    """Write ``loaded`` (a trained run, see :func:`voxcore.runs.load`) to ``folder``."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    state = loaded.model.trainable_state()
    by_part: dict[str, dict[str, torch.Tensor]] = {part: {} for part in _PARTS}
    for key, tensor in state.items():
        part, _, local = key.partition(".")
        by_part[part][local] = tensor
    generator = loaded.model.generator
    if isinstance(generator, SupportsInterop):
        with loaded.model.blame("generator", "writing its interop files"):
            by_part["generator"] = generator.save_interop(target, by_part["generator"])
    for part, tensors in by_part.items():
        if tensors:
            save_tensors(target / f"{part}.safetensors", tensors)
    keep_prepared(target, loaded.prepared)
    write_text_atomic(target / "recipe.yaml", loaded.resolved.to_yaml())
    manifest = {"format": FORMAT, "name": loaded.resolved.recipe.name, "source": loaded.source,
                "step": loaded.step, "ema": loaded.used_ema, "versions": loaded.versions}
    write_text_atomic(target / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
    return target


def read_exported(folder: Path, *, device: str = "cpu") -> LoadedRun:
    """Rebuild the model saved in ``folder`` by :func:`save_pretrained`, ready to generate."""
    import torch

    from voxcore.assembly import build_model

    manifest = _read_manifest(folder)
    resolved = load_recipe(folder / "recipe.yaml")
    kept = prepared_folders(folder, [*resolved.model_parts, *resolved.metrics])
    torch.manual_seed(resolved.recipe.seed)
    model = build_model(resolved, prepared=kept, source=str(folder))
    state: dict[str, torch.Tensor] = {}
    generator_state: dict[str, torch.Tensor] = {}
    if isinstance(model.generator, SupportsInterop):
        with model.blame("generator", "reading its interop files"):
            generator_state.update(model.generator.load_interop(folder))
    for part in _PARTS:
        file = folder / f"{part}.safetensors"
        if file.is_file():
            tensors = load_tensors(file)
            if part == "generator":
                tensors = {**generator_state, **tensors}
            state.update({f"{part}.{key}": value for key, value in tensors.items()})
    model.load_trainable_state(state, f"exported folder {folder}")
    model.to(device).eval()
    return LoadedRun(model, resolved, source=str(folder), step=int(manifest["step"]),
                     used_ema=bool(manifest["ema"]), folder=folder, prepared=kept,
                     versions=dict(manifest.get("versions") or {}))


def _read_manifest(folder: Path) -> dict[str, Any]:
    file = folder / MANIFEST_FILE
    if not file.is_file():
        raise UserError(f"{folder} is not a voxcore exported folder (no {MANIFEST_FILE}); "
                        "write one with 'voxcore export RUN_DIR --out FOLDER'")
    try:
        manifest: dict[str, Any] = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{file} is unreadable ({exc}); export the run again") from None
    if manifest.get("format") != FORMAT:
        raise UserError(f"{file} has format {manifest.get('format')!r}; this voxcore reads "
                        f"format {FORMAT}. Export the run again with this version")
    return manifest
