"""Runs and exported models: where they live on disk and how they are loaded.

- :class:`RunDir`: a ``voxcore train`` run (recipe, versions, checkpoints, logs, samples,
  prepared artefacts); :func:`default_run_dir`; :func:`recipe_changes` (what may change on
  resume); :func:`versions` (the record of what a run used); :func:`cache_root` (where a
  recipe's features, latents and transcripts are cached);
- :func:`save_pretrained` / :func:`is_exported`: a self-contained exported folder;
- :func:`load`: a run or an exported folder, as a :class:`LoadedRun`.

Importing this package imports no torch.
"""

from __future__ import annotations

from pathlib import Path

from voxcore.runs.checkpoint import Checkpoint, latest_checkpoint, list_checkpoints
from voxcore.runs.exported import MANIFEST_FILE, is_exported, save_pretrained
from voxcore.runs.folders import (
    RECIPE_FILE,
    RESUMABLE_CHANGES,
    VERSIONS_FILE,
    RunDir,
    cache_root,
    default_run_dir,
    flatten,
    recipe_changes,
    versions,
)
from voxcore.runs.loading import LoadedRun, load


def from_pretrained(folder: str | Path, *, device: str = "cpu") -> LoadedRun:
    """The model of an exported folder (or a run directory), ready to generate: as
    :func:`load`, under the name diffusers and transformers users expect."""
    return load(folder, device=device)

__all__ = ["MANIFEST_FILE", "RECIPE_FILE", "RESUMABLE_CHANGES", "VERSIONS_FILE", "Checkpoint",
           "LoadedRun", "RunDir", "cache_root", "default_run_dir", "flatten", "from_pretrained",
           "is_exported",
           "latest_checkpoint", "list_checkpoints", "load", "recipe_changes", "save_pretrained",
           "versions"]
