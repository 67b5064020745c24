"""Where plugins keep what they train from a dataset (a judge, a recogniser, ...)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_beside"]


def cache_beside(dataset: object, folder: str, user_subdir: str) -> Path:
    """``folder`` beside the dataset's manifest (its ``path`` attribute, a file or a folder),
    else the user cache ``$XDG_CACHE_HOME/voxcore/<user_subdir>`` (``~/.cache/...``)."""
    manifest = getattr(dataset, "path", None)
    if isinstance(manifest, str | os.PathLike):
        path = Path(manifest)
        return (path if path.is_dir() else path.parent) / folder
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "voxcore" / user_subdir
