"""Run directories (the resolved recipe, versions, checkpoints, logs, samples and prepared
artefacts of a training run), the versions record, and where caches live."""

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
from voxcore.runs.checkpoint import Checkpoint, latest_checkpoint

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

    def write_metadata(self, resolved: ResolvedRecipe,
                       prepared: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Save the resolved recipe and the versions of everything it uses (and what was
        prepared for it: ``{section: record}``)."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.recipe_file, resolved.to_yaml())
        write_text_atomic(self.path / VERSIONS_FILE,
                          json.dumps(versions(resolved, prepared), indent=2) + "\n")

    def read_versions(self) -> dict[str, Any]:
        """The run's ``versions.json`` (empty when it has none)."""
        file = self.path / VERSIONS_FILE
        if not file.is_file():
            return {}
        try:
            loaded = json.loads(file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"{file} is unreadable ({exc}); train the run again") from None
        return loaded if isinstance(loaded, dict) else {}

    def load_recipe(self) -> ResolvedRecipe:
        """The recipe the run was trained with."""
        if not self.recipe_file.is_file():
            raise UserError(f"{self.path} is not a voxcore run directory (no {RECIPE_FILE}); "
                            "give the folder 'voxcore train' wrote")
        return load_recipe(self.recipe_file)


def versions(resolved: ResolvedRecipe,
             prepared: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """voxcore's version, each used component's distribution and version, key libraries,
    and the record of each prepared artefact (``{section: record}``)."""
    parts = resolved.parts
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
        "prepared": {section: dict(record) for section, record in (prepared or {}).items()},
    }


def default_run_dir(resolved: ResolvedRecipe) -> Path:
    """``train.output_dir / name`` of the recipe."""
    return Path(resolved.recipe.train.output_dir) / resolved.recipe.name


def cache_root(resolved: ResolvedRecipe) -> Path:
    """Where a recipe's encoder features, latents and transcripts are cached:
    ``data.cache_dir``, else ``~/.cache/voxcore/features``."""
    if resolved.recipe.data.cache_dir:
        return Path(resolved.recipe.data.cache_dir)
    return Path.home() / ".cache" / "voxcore" / "features"
