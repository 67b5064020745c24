"""A run directory: the resolved recipe, versions, checkpoints, logs and samples of a run."""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from voxcore.errors import UserError
from voxcore.io import write_text_atomic
from voxcore.recipe import ResolvedRecipe, load_recipe
from voxcore.training.checkpoint import Checkpoint, latest_checkpoint

RECIPE_FILE = "recipe.yaml"
VERSIONS_FILE = "versions.json"


#: Recipe keys that may differ when a run is resumed (they do not change what is trained).
RESUMABLE_CHANGES = ("train.max_steps", "train.checkpoint_every", "train.keep_checkpoints",
                     "train.validate_every", "train.log_every")


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one ``{dotted.key: value}`` mapping (lists stay values)."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def recipe_changes(saved: ResolvedRecipe, current: ResolvedRecipe, shown: int = 8) -> str:
    """The keys (with old and new values) in which ``current`` differs from the ``saved``
    recipe of a run, other than :data:`RESUMABLE_CHANGES`; ``""`` when it may resume it."""
    before, after = flatten(saved.to_dict()), flatten(current.to_dict())
    changed = sorted(key for key in before.keys() | after.keys()
                     if before.get(key) != after.get(key)
                     and not key.startswith(RESUMABLE_CHANGES))
    return ", ".join(f"{k} ({before.get(k)!r} -> {after.get(k)!r})" for k in changed[:shown])


@dataclass(frozen=True)
class RunDir:
    """Paths inside one run directory."""

    path: Path

    @property
    def recipe_file(self) -> Path:
        return self.path / RECIPE_FILE

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    def latest(self) -> Checkpoint | None:
        """The newest complete checkpoint."""
        return latest_checkpoint(self.checkpoints)

    def write_metadata(self, resolved: ResolvedRecipe) -> None:
        """Save the resolved recipe and the versions of everything it uses."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.recipe_file, resolved.to_yaml())
        write_text_atomic(self.path / VERSIONS_FILE,
                          json.dumps(versions(resolved), indent=2) + "\n")

    def load_recipe(self) -> ResolvedRecipe:
        """The recipe the run was trained with."""
        if not self.recipe_file.is_file():
            raise UserError(f"{self.path} is not a voxcore run directory (no {RECIPE_FILE}); "
                            "give the folder 'voxcore train' wrote")
        return load_recipe(self.recipe_file)


def versions(resolved: ResolvedRecipe) -> dict[str, Any]:
    """voxcore's version, each used component's distribution and version, and key libraries."""
    parts = [resolved.encoder, resolved.bottleneck, resolved.generator, *resolved.metrics,
             *resolved.train_data, *resolved.eval_data]
    libraries = {}
    for name in ("torch", "diffusers", "transformers", "accelerate"):
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            continue
    from voxcore import __version__

    return {
        "voxcore": __version__,
        "python": platform.python_version(),
        "components": {part.path: {"name": part.entry.name,
                                   "distribution": part.entry.distribution,
                                   "version": part.entry.version} for part in parts},
        "libraries": libraries,
    }


def default_run_dir(resolved: ResolvedRecipe) -> Path:
    """``train.output_dir / name`` of the recipe."""
    return Path(resolved.recipe.train.output_dir) / resolved.recipe.name
