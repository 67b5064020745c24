"""Where plugins keep what they train from a dataset (a judge, a recogniser, ...)."""

from __future__ import annotations

import os
from pathlib import Path

from voxcore.interfaces import LocatedDataset

__all__ = ["cache_beside"]


def cache_beside(dataset: object, folder: str, user_subdir: str,
                 configured: str | os.PathLike[str] | None = None) -> Path:
    """Where to keep what is learned from ``dataset``: ``configured`` when given (a config's
    ``cache_dir``), else ``folder`` beside the dataset's manifest (a
    :class:`~voxcore.interfaces.LocatedDataset`'s ``path``, a file or a folder), else the user
    cache ``$XDG_CACHE_HOME/voxcore/<user_subdir>`` (``~/.cache/...``)."""
    if configured is not None:
        return Path(configured).expanduser()
    if isinstance(dataset, LocatedDataset) and isinstance(dataset.path, str | os.PathLike):
        path = Path(dataset.path)
        return (path if path.is_dir() else path.parent) / folder
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "voxcore" / user_subdir
