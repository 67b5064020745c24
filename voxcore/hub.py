"""Finding pretrained weights: a local folder, the Hugging Face cache, or a download.

Plugins that load published checkpoints (Whisper, Stable Diffusion, CLIP, ...) call
:func:`resolve_pretrained` with what the user wrote in the recipe. A path to an existing folder
is used as is; anything else is a hub id, looked up in the local Hugging Face cache first and
downloaded only when it is not there. When neither works (no network, a typo, a gated model)
the :class:`PretrainedNotFoundError` names the id, the cache folder that was searched and how
to pass a local copy instead, so an offline user knows exactly what to do.

:func:`folder_fingerprint` gives a short hash of a resolved folder's files (names, sizes and
modification times), which feature caches use so that replacing the weights behind the same
name does not reuse stale features.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from voxcore.errors import UserError

__all__ = ["PretrainedNotFoundError", "resolve_pretrained", "hub_cache_dir",
           "folder_fingerprint"]


class PretrainedNotFoundError(UserError, FileNotFoundError):
    """Pretrained weights are neither a local folder, nor cached, nor downloadable."""


def hub_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder the Hugging Face hub caches downloads in (``HF_HUB_CACHE`` or ``HF_HOME``)."""
    if cache_dir is not None:
        return Path(cache_dir)
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _looks_like_path(name: str) -> bool:
    """A hub id is ``name`` or ``owner/name``; anything else can only be meant as a folder."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1


def resolve_pretrained(
    name: str,
    *,
    what: str,
    allow_patterns: Sequence[str] | None = None,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    recipe_key: str = "encoder.config.model",
) -> Path:
    """The local folder holding pretrained files for ``name`` (a folder path or a hub id).

    ``what`` describes the model in messages (``"Whisper checkpoint"``); ``allow_patterns``
    limits a download to the files the caller reads; ``recipe_key`` is the recipe key the user
    sets to point at a local copy. Raises :class:`PretrainedNotFoundError` with the id, the cache
    folder searched and the fix when the files cannot be found or fetched.
    """
    candidate = Path(name).expanduser()
    if candidate.is_dir():
        return candidate
    if _looks_like_path(name):
        raise PretrainedNotFoundError(
            f"{what} folder {candidate} does not exist; set {recipe_key} to a folder holding the "
            "checkpoint's files (config and safetensors weights), or to a hub id")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    cache = hub_cache_dir(cache_dir)
    patterns = list(allow_patterns) if allow_patterns is not None else None
    try:
        return Path(snapshot_download(name, revision=revision, cache_dir=cache,
                                      allow_patterns=patterns, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError):
        pass
    except ValueError as exc:  # an id the hub library rejects outright, e.g. 'a/b/c'
        raise PretrainedNotFoundError(
            f"{what} {name!r} is neither an existing folder nor a valid hub id ({exc}); set "
            f"{recipe_key} to a local folder or an id like 'owner/name'") from exc
    fix = (f"download it on a machine with network access (for example "
           f"`huggingface-cli download {name}`) and either copy the hub cache to {cache} or set "
           f"{recipe_key} to the downloaded folder")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        raise PretrainedNotFoundError(
            f"{what} {name!r} is not in the Hugging Face cache {cache} and HF_HUB_OFFLINE is "
            f"set; {fix}")
    try:
        return Path(snapshot_download(name, revision=revision, cache_dir=cache,
                                      allow_patterns=patterns))
    except (RepositoryNotFoundError, GatedRepoError, RevisionNotFoundError) as exc:
        raise PretrainedNotFoundError(
            f"{what} {name!r} could not be fetched from the Hugging Face hub "
            f"({type(exc).__name__}: check the id, the revision and your access token); it is "
            f"not in the cache {cache} either; {fix}") from exc
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise PretrainedNotFoundError(
            f"{what} {name!r} is not in the Hugging Face cache {cache} and the hub could not be "
            f"reached ({type(exc).__name__}); {fix}") from exc


def folder_fingerprint(folder: str | os.PathLike[str], patterns: Sequence[str] = ("*",)) -> str:
    """Short hash of the names, sizes and modification times of files matching ``patterns``."""
    root = Path(folder)
    digest = hashlib.sha256()
    files = sorted({path for pattern in patterns for path in root.glob(pattern) if path.is_file()})
    for path in files:
        stat = path.resolve().stat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
