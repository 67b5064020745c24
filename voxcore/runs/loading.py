"""Loading a trained model from a run directory or an exported folder: :func:`load`."""

from __future__ import annotations

from pathlib import Path

from voxcore.errors import UserError
from voxcore.io import load_tensors
from voxcore.preparation import prepared_folders
from voxcore.runs.exported import is_exported, read_exported
from voxcore.runs.folders import RunDir
from voxcore.runs.loaded import LoadedRun

__all__ = ["LoadedRun", "load"]


def load(path: str | Path, *, use_ema: bool = True, device: str = "cpu") -> LoadedRun:
    """A run's model with its newest checkpoint (EMA weights when there are some), or the
    model of a folder written by ``voxcore export`` (one set of weights: ``use_ema`` does not
    apply). Building it prepares nothing: prepared artefacts come from the folder."""
    import torch

    from voxcore.assembly import build_model

    folder = Path(path)
    if is_exported(folder):
        return read_exported(folder, device=device)
    run = RunDir(folder)
    resolved = run.load_recipe()
    checkpoint = run.latest()
    if checkpoint is None:
        raise UserError(f"{folder} has no checkpoint yet; train it first "
                        f"('voxcore train {run.recipe_file} --run-dir {folder}')")
    kept = prepared_folders(folder, [*resolved.model_parts, *resolved.metrics])
    torch.manual_seed(resolved.recipe.seed)
    model = build_model(resolved, prepared=kept, source=str(run.recipe_file))
    state = load_tensors(checkpoint.model_file)
    used_ema = use_ema and checkpoint.ema_file.is_file()
    if used_ema:
        ema = load_tensors(checkpoint.ema_file)
        state.update({k: v for k, v in ema.items() if k in state})
    model.load_trainable_state(state, f"checkpoint {checkpoint.path}")
    model.to(device).eval()
    return LoadedRun(model, resolved, str(checkpoint.path), checkpoint.step, used_ema,
                     folder=folder, prepared=kept, versions=run.read_versions())
