"""Finding an emotion2vec+ checkpoint folder: a local folder, a Hugging Face id or a ModelScope id.

FunASR's own ``AutoModel(model="iic/emotion2vec_plus_large")`` spends about 22 s timing out
on modelscope.cn when there is no network, then reports the model as "not registered". This
module finds the folder first, offline, and fails at once with a
:class:`~voxcore.plugin_api.PretrainedNotFoundError` saying what to download:

- an existing folder is used as it is;
- ``iic/NAME`` (ModelScope) is looked up in the ModelScope cache only (never downloaded);
  the published emotion2vec+ checkpoints are then looked for as their Hugging Face copies
  ``emotion2vec/NAME``;
- any other id goes to voxcore's :func:`~voxcore.plugin_api.resolve_pretrained` (the Hugging
  Face cache, or a download when the hub is reachable).

The folder must hold FunASR's layout: ``config.yaml``, ``model.pt`` and ``tokens.txt``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from voxcore.plugin_api import PretrainedNotFoundError, UserError, resolve_pretrained
from voxcore_emotion2vec.config import DEFAULT_MODEL, Emotion2vecConfig

__all__ = ["CHECKPOINT_FILES", "HF_OWNER", "MODELSCOPE_OWNER", "PUBLISHED", "RECIPE_KEY",
           "checkpoint_folder", "check_folder", "download_hint"]

logger = logging.getLogger(__name__)

#: The files of a checkpoint this plugin reads (and downloads, when it has to).
CHECKPOINT_FILES = ("config.yaml", "model.pt", "tokens.txt")
#: Where VoxEmoset's build config names the recognizer's checkpoint.
RECIPE_KEY = "emotion_check.recognizer.config.model"
#: The owners of the published checkpoints on the Hugging Face hub and on ModelScope.
HF_OWNER = "emotion2vec"
MODELSCOPE_OWNER = "iic"
#: The published emotion2vec+ checkpoints (the same names on both hubs).
PUBLISHED = ("emotion2vec_plus_large", "emotion2vec_plus_base", "emotion2vec_plus_seed")
_WHAT = "emotion2vec+ checkpoint"
_SIZES = {"emotion2vec_plus_large": "about 2 GB", "emotion2vec_plus_base": "about 1.1 GB"}


def download_hint(model: str) -> str:
    """How to fetch ``model`` (or, for a missing folder, the default checkpoint) for offline
    use, from either hub."""
    owner, _, name = model.partition("/")
    if owner not in (HF_OWNER, MODELSCOPE_OWNER) or not name or "/" in name:
        owner, _, name = DEFAULT_MODEL.partition("/")
    local = f"models/{name}"
    hf_id = f"{HF_OWNER}/{name}" if name in PUBLISHED else model
    size = f" ({_SIZES[name]})" if name in _SIZES else ""
    return (f"To check emotions offline, fetch it once on a machine with network access, "
            f"`huggingface-cli download {hf_id} --local-dir {local}`{size} or "
            f"`modelscope download --model {MODELSCOPE_OWNER}/{name} --local_dir {local}`, "
            f"copy that folder here and set {RECIPE_KEY}: {local}")


def check_folder(folder: Path) -> Path:
    """``folder`` when it holds FunASR's checkpoint files, else a :class:`UserError`."""
    missing = [name for name in CHECKPOINT_FILES if not (folder / name).is_file()]
    if missing:
        raise UserError(f"{_WHAT} folder {folder} lacks {', '.join(missing)}; an emotion2vec+ "
                        f"checkpoint folder holds {', '.join(CHECKPOINT_FILES)}. "
                        f"{download_hint(DEFAULT_MODEL)}")
    return folder


def _modelscope_cached(model: str, revision: str | None) -> Path | None:
    """The ModelScope cache's copy of ``model``, looked up without the network."""
    try:
        from modelscope.hub.snapshot_download import snapshot_download  # type: ignore[import-untyped]
    except ImportError:
        return None
    # ModelScope keeps the cache root it first saw; the variable's value now is what counts.
    cache_dir = os.environ.get("MODELSCOPE_CACHE") or None
    try:
        return Path(snapshot_download(model, revision=revision, cache_dir=cache_dir,
                                      local_files_only=True))
    except Exception as exc:  # modelscope raises its own error types for "not cached"
        logger.debug("%s is not in the ModelScope cache: %s", model, exc)
        return None


def checkpoint_folder(config: Emotion2vecConfig) -> Path:
    """The folder of the configured checkpoint, checked to hold FunASR's files;
    :class:`PretrainedNotFoundError` saying what to download when it is not available."""
    model = config.model
    local = Path(model).expanduser()
    if local.is_dir():
        return check_folder(local)
    owner, _, name = model.partition("/")
    hub_id, revision = model, config.revision
    if owner == MODELSCOPE_OWNER and name and "/" not in name:
        cached = _modelscope_cached(model, config.revision)
        if cached is not None:
            return check_folder(cached)
        if name not in PUBLISHED:
            raise PretrainedNotFoundError(
                f"{_WHAT} {model!r} is not in the ModelScope cache, and voxcore fetches "
                f"ModelScope models only through their Hugging Face copies (known for "
                f"{', '.join(PUBLISHED)}). {download_hint(model)}")
        # A ModelScope revision names nothing on the Hugging Face hub.
        hub_id, revision = f"{HF_OWNER}/{name}", None
    try:
        folder = resolve_pretrained(hub_id, what=_WHAT, allow_patterns=CHECKPOINT_FILES,
                                    revision=revision, cache_dir=config.cache_dir,
                                    recipe_key=RECIPE_KEY)
    except PretrainedNotFoundError as exc:
        searched = (f"{model!r} is not in the ModelScope cache either. "
                    if hub_id != model else "")
        raise PretrainedNotFoundError(f"{exc}. {searched}{download_hint(model)}") from exc
    return check_folder(folder)
