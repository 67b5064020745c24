"""A trained model as one self-contained folder: ``save_pretrained`` / ``from_pretrained``.

The folder holds what is needed to rebuild and run the model, and nothing pickled::

    voxcore.json               format, name, source run and step, versions of everything used
    recipe.yaml                the resolved recipe (it names the pretrained parts, e.g. the SD
                               checkpoint, which are loaded again from there)
    bottleneck.safetensors     the trained bottleneck, as its own module
    text_encoder.safetensors   the trained text encoder (text-baseline runs only)
    generator.safetensors      the generator's trained tensors not written in an interop format

A generator may write some of its weights in its ecosystem's own format so that other tools
read them: it implements ``save_interop(folder, state) -> remaining state`` and
``load_interop(folder) -> state`` (the SD generators write ``pytorch_lora_weights.safetensors``
for LoRA runs, which a stock diffusers pipeline's ``load_lora_weights`` reads, and a diffusers
``unet/`` folder for fully trained runs).

``voxcore generate`` and ``voxcore evaluate`` accept such a folder wherever they accept a run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxcore.errors import UserError
from voxcore.io import load_tensors, save_tensors, write_text_atomic
from voxcore.recipe import load_recipe

if TYPE_CHECKING:
    import torch

    from voxcore.inference import LoadedRun

__all__ = ["save_pretrained", "from_pretrained", "is_pretrained_folder", "MANIFEST_FILE"]

MANIFEST_FILE = "voxcore.json"
FORMAT = 1
_PARTS = ("bottleneck", "text_encoder", "generator")


def is_pretrained_folder(folder: Path) -> bool:
    """Whether ``folder`` was written by :func:`save_pretrained`."""
    return (folder / MANIFEST_FILE).is_file()


def save_pretrained(loaded: LoadedRun, folder: str | Path) -> Path:
    """Write ``loaded`` (a trained run, see :func:`voxcore.inference.load_run`) to ``folder``."""
    from voxcore.training.run_dir import versions

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    state = loaded.model.trainable_state()
    by_part: dict[str, dict[str, torch.Tensor]] = {part: {} for part in _PARTS}
    for key, tensor in state.items():
        part, _, local = key.partition(".")
        by_part[part][local] = tensor
    generator = loaded.model.generator
    save_interop = getattr(generator, "save_interop", None)
    if callable(save_interop):
        by_part["generator"] = save_interop(target, by_part["generator"])
    for part, tensors in by_part.items():
        if tensors:
            save_tensors(target / f"{part}.safetensors", tensors)
    write_text_atomic(target / "recipe.yaml", loaded.resolved.to_yaml())
    manifest = {"format": FORMAT, "name": loaded.resolved.recipe.name, "source": loaded.source,
                "step": loaded.step, "ema": loaded.used_ema, "versions": versions(loaded.resolved)}
    write_text_atomic(target / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
    return target


def from_pretrained(folder: str | Path, *, device: str = "cpu") -> LoadedRun:
    """Rebuild the model saved in ``folder`` by :func:`save_pretrained`, ready to generate."""
    import torch

    from voxcore.inference import LoadedRun
    from voxcore.model import build_model

    source = Path(folder)
    manifest = _read_manifest(source)
    resolved = load_recipe(source / "recipe.yaml")
    torch.manual_seed(resolved.recipe.seed)
    model = build_model(resolved)
    state: dict[str, torch.Tensor] = {}
    generator_state: dict[str, torch.Tensor] = {}
    load_interop = getattr(model.generator, "load_interop", None)
    if callable(load_interop):
        generator_state.update(load_interop(source))
    for part in _PARTS:
        file = source / f"{part}.safetensors"
        if file.is_file():
            tensors = load_tensors(file)
            if part == "generator":
                tensors = {**generator_state, **tensors}
            state.update({f"{part}.{key}": value for key, value in tensors.items()})
    model.load_trainable_state(state, f"pretrained folder {source}")
    model.to(device).eval()
    return LoadedRun(model, resolved, source=str(source), step=int(manifest["step"]),
                     used_ema=bool(manifest["ema"]))


def _read_manifest(folder: Path) -> dict[str, Any]:
    file = folder / MANIFEST_FILE
    if not file.is_file():
        raise UserError(f"{folder} is not a voxcore pretrained folder (no {MANIFEST_FILE}); "
                        "write one with 'voxcore export RUN_DIR --out FOLDER'")
    manifest: dict[str, Any] = json.loads(file.read_text())
    if manifest.get("format") != FORMAT:
        raise UserError(f"{file} has format {manifest.get('format')!r}; this voxcore reads "
                        f"format {FORMAT}. Export the run again with this version")
    return manifest
