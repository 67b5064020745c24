"""Preparing components: what they learn from data before they can be built.

A component registered with ``prepare=`` (a word recogniser trained on the training speech,
a judge classifier trained on the real images, ...) gets a
:class:`~voxcore.interfaces.Preparation` from its config. This module runs them
(:func:`prepare_recipe`, what ``voxcore prepare`` and the first step of ``voxcore train``
do), keeps each artefact whole (written into a temporary folder, marked finished, renamed
into the preparation's cache folder, so a killed preparation leaves nothing that looks
done), copies the artefacts into run and exported folders (:func:`keep_prepared`), and finds
them again when a component is built (:func:`prepared_folder`). Building never prepares: a
missing artefact is a :class:`~voxcore.errors.PreparationMissing` error naming the command
that makes it.

Inside a run or exported folder, the artefact of the part at recipe section ``S`` is
``prepared/<S>/`` (``metrics[0]`` becomes ``metrics-0``).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxcore.errors import PreparationMissing, UserError
from voxcore.failures import blame
from voxcore.interfaces import Preparation
from voxcore.io import exclusive, write_text_atomic
from voxcore.recipe.validation import BoundComponent, ResolvedRecipe

__all__ = ["MARKER", "PREPARED_FOLDER", "PreparedArtifact", "ensure_prepared", "finished",
           "keep_prepared", "pending_preparations", "prepare_recipe", "prepared_folder",
           "prepared_folders"]

log = logging.getLogger(__name__)

#: Written last into a finished artefact folder: what it is and the figures it reported.
MARKER = "voxcore-prepared.json"
#: The folder of a run or exported model that holds copies of its prepared artefacts.
PREPARED_FOLDER = "prepared"


@dataclass(frozen=True)
class PreparedArtifact:
    """A finished artefact of one part of a recipe."""

    section: str
    component: str
    description: str
    folder: Path
    figures: dict[str, Any] = field(default_factory=dict)
    reused: bool = False
    seconds: float = 0.0

    def record(self) -> dict[str, Any]:
        """What a run's ``versions.json`` keeps of it."""
        return {"component": self.component, "description": self.description,
                "key": self.folder.name, "figures": self.figures}


def finished(folder: Path) -> bool:
    """Whether ``folder`` holds a finished artefact."""
    return (folder / MARKER).is_file()


def _marker(folder: Path) -> dict[str, Any]:
    try:
        loaded = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{folder / MARKER} is unreadable ({exc}); remove {folder} and "
                        "prepare again") from None
    return loaded if isinstance(loaded, dict) else {}


def section_folder_name(section: str) -> str:
    """``metrics[0]`` -> ``metrics-0``: a recipe section as a folder name."""
    return section.replace("[", "-").replace("]", "").replace(".", "-")


def pending_preparations(resolved: ResolvedRecipe) -> list[tuple[BoundComponent, Preparation]]:
    """Each part of the recipe (model parts and metrics) that needs something prepared."""
    found = []
    for bound in [*resolved.model_parts, *resolved.metrics]:
        if not bound.entry.needs_preparation:
            continue
        with blame(bound.label, "planning its preparation"):
            preparation = bound.entry.preparation(bound.config)
        if preparation is not None:
            found.append((bound, preparation))
    return found


def prepare_recipe(resolved: ResolvedRecipe) -> dict[str, PreparedArtifact]:
    """Prepare every part of ``resolved`` that needs it (reusing finished artefacts), by
    recipe section."""
    done: dict[str, PreparedArtifact] = {}
    for bound, preparation in pending_preparations(resolved):
        what = f"{preparation.description} of {bound.path} ({bound.entry.name})"
        with blame(bound.label, f"preparing its {preparation.description}"):
            done[bound.path] = ensure_prepared(
                preparation, section=bound.path, component=bound.entry.qualified_name,
                record={"version": bound.entry.version,
                        "config": bound.config.model_dump(mode="json")}, what=what)
    return done


def ensure_prepared(preparation: Preparation, *, section: str = "", component: str = "",
                    record: Mapping[str, Any] | None = None,
                    what: str | None = None) -> PreparedArtifact:
    """The finished artefact of ``preparation``: reused from its cache folder, or prepared
    into a temporary folder, marked finished and renamed into place."""
    import torch

    what = what or preparation.description
    folder = Path(preparation.cache_folder())
    if not finished(folder):
        # Another process preparing the same artefact (two trainings started together) holds
        # the lock: wait for it and reuse its artefact instead of making a second one.
        with exclusive(folder):
            if not finished(folder):
                log.info("preparing: %s into %s", what, folder)
                began = time.perf_counter()
                # A preparation seeds what it trains itself; it must not move the caller's
                # random stream.
                with torch.random.fork_rng(devices=[]):
                    figures = _prepare_into(folder, preparation,
                                            {"component": component, **(record or {})})
                seconds = time.perf_counter() - began
                log.info("prepared: %s in %.0f s %s", what, seconds, json.dumps(figures))
                return PreparedArtifact(section, component, preparation.description, folder,
                                        figures, reused=False, seconds=seconds)
    log.info("prepared: %s, reusing %s", what, folder)
    marker = _marker(folder)
    return PreparedArtifact(section, component, preparation.description, folder,
                            dict(marker.get("figures", {})), reused=True)


def _prepare_into(folder: Path, preparation: Preparation,
                  record: Mapping[str, Any]) -> dict[str, Any]:
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        figures = dict(preparation.prepare(scratch))
        marker = {**record, "description": preparation.description, "figures": figures}
        write_text_atomic(scratch / MARKER, json.dumps(marker, indent=2, default=str) + "\n")
        if folder.exists() and not finished(folder):
            # Left by an older voxcore or a killed copy: finished ones only appear by rename.
            shutil.rmtree(folder)
        try:
            scratch.rename(folder)
        except OSError:
            if not finished(folder):  # not another process's finished artefact
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


def keep_prepared(target: Path, folders: Mapping[str, Path]) -> None:
    """Copy each artefact folder (by section) into ``target/prepared/<section>/`` (a run or
    exported folder), whole or not at all; an artefact already there is kept."""
    for section, folder in folders.items():
        _copy_whole(folder, target / PREPARED_FOLDER / section_folder_name(section))


def _copy_whole(source: Path, destination: Path) -> None:
    if finished(destination) or source.resolve() == destination.resolve():
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        shutil.copytree(source, scratch, dirs_exist_ok=True)
        shutil.rmtree(destination, ignore_errors=True)
        scratch.rename(destination)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def prepared_folders(base: Path, parts: Sequence[BoundComponent]) -> dict[str, Path]:
    """The finished artefacts kept in a run or exported folder ``base``, by section."""
    found = {}
    for bound in parts:
        folder = base / PREPARED_FOLDER / section_folder_name(bound.path)
        if finished(folder):
            found[bound.path] = folder
    return found


def prepared_folder(bound: BoundComponent, kept: Mapping[str, Path] | None = None,
                    *, source: str = "the recipe") -> Path | None:
    """The artefact folder ``bound`` is built with: the one kept for its section (in a run or
    exported folder), else its preparation's finished cache folder; ``None`` when its config
    needs nothing prepared. Raises :class:`PreparationMissing` when the artefact is not there."""
    if not bound.entry.needs_preparation:
        return None
    if kept and bound.path in kept:
        return kept[bound.path]
    with blame(bound.label, "locating its prepared artefact"):
        preparation = bound.entry.preparation(bound.config)
        if preparation is None:
            return None
        folder = Path(preparation.cache_folder())
    if finished(folder):
        return folder
    raise PreparationMissing(
        f"{bound.path} ({bound.entry.kind} {bound.entry.name!r}) needs its "
        f"{preparation.description} prepared first, and {folder} holds none; run 'voxcore "
        f"prepare RECIPE' for {source} ('voxcore train' does it as its first step)")
