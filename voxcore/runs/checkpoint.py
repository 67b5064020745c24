"""Training checkpoints: safetensors files in a folder that appears whole or not at all.

``checkpoints/step-000250/`` holds ``model.safetensors`` (the trained parts), optionally
``ema.safetensors``, ``optimizer.safetensors`` with ``optimizer.json`` (the optimizer's
tensors, and its hyper-parameters and scalars), and ``state.json`` (step, scheduler). The
folder is written under a temporary name and renamed, so a run killed mid-save leaves the
previous checkpoints intact and never a partial one that looks complete.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxcore.io import load_tensors, save_tensors

if TYPE_CHECKING:
    import torch

_STEP_DIR = re.compile(r"^step-(\d+)$")


@dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint folder and its step."""

    path: Path
    step: int

    @property
    def model_file(self) -> Path:
        return self.path / "model.safetensors"

    @property
    def ema_file(self) -> Path:
        return self.path / "ema.safetensors"


def list_checkpoints(folder: Path) -> list[Checkpoint]:
    """Complete checkpoints in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        match = _STEP_DIR.match(child.name)
        if match and (child / "state.json").is_file():
            found.append(Checkpoint(child, int(match.group(1))))
    return sorted(found, key=lambda c: c.step)


def latest_checkpoint(folder: Path) -> Checkpoint | None:
    """The newest complete checkpoint, or ``None``."""
    checkpoints = list_checkpoints(folder)
    return checkpoints[-1] if checkpoints else None


def save_checkpoint(
    folder: Path,
    step: int,
    model_state: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
    ema_state: dict[str, torch.Tensor] | None = None,
    keep: int | None = None,
) -> Checkpoint:
    """Write a checkpoint for ``step`` atomically, then keep only the newest ``keep``."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{step:06d}"
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=folder))
    try:
        save_tensors(staging / "model.safetensors", model_state)
        if ema_state is not None:
            save_tensors(staging / "ema.safetensors", ema_state)
        tensors, meta = _flatten_optimizer(optimizer.state_dict())
        save_tensors(staging / "optimizer.safetensors", tensors)
        (staging / "optimizer.json").write_text(json.dumps(meta))
        (staging / "state.json").write_text(json.dumps({"step": step, **state}, indent=2))
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if keep is not None:
        for old in list_checkpoints(folder)[:-keep]:
            shutil.rmtree(old.path, ignore_errors=True)
    return Checkpoint(final, step)


def read_state(checkpoint: Checkpoint) -> dict[str, Any]:
    """The checkpoint's ``state.json``."""
    state: dict[str, Any] = json.loads((checkpoint.path / "state.json").read_text())
    return state


def load_optimizer(checkpoint: Checkpoint, optimizer: torch.optim.Optimizer) -> None:
    """Restore an optimizer saved by :func:`save_checkpoint`."""
    tensors = load_tensors(checkpoint.path / "optimizer.safetensors")
    meta = json.loads((checkpoint.path / "optimizer.json").read_text())
    optimizer.load_state_dict(_unflatten_optimizer(tensors, meta))


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer state dict into named tensors and JSON (no pickle needed)."""
    import torch

    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    per_param: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        index, _, key = name.partition(".")
        per_param.setdefault(int(index), {})[key] = tensor
    for index, values in meta["scalars"].items():
        per_param.setdefault(int(index), {}).update(values)
    groups = meta["param_groups"]
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    return {"state": per_param, "param_groups": groups}
