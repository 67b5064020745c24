"""The ``voxshapes`` dataset: one split of a built VoxShapes folder, read from its manifest."""

from __future__ import annotations

from pathlib import Path

from voxcore.plugin_api import DatasetError, ManifestDataset
from voxcore_voxshapes.config import METADATA_FILE, VoxShapesConfig

__all__ = ["load_voxshapes"]


def load_voxshapes(config: VoxShapesConfig) -> ManifestDataset:
    """The samples of ``config.split`` under ``config.root``.

    Raises :class:`DatasetError` saying how to build the dataset when ``root`` is missing or
    holds no finished VoxShapes build.
    """
    root = Path(config.root)
    build = f"voxcore data voxshapes --out {config.root}"
    if not root.exists():
        raise DatasetError(f"VoxShapes dataset not found at {root.absolute()}; build it first "
                           f"with '{build}'")
    if not (root / METADATA_FILE).is_file():
        raise DatasetError(f"{root.absolute()} is not a finished VoxShapes dataset (it has no "
                           f"{METADATA_FILE}); rebuild it with '{build} overwrite=true'")
    return ManifestDataset(root / f"{config.split}.jsonl")
