"""Finding and loading a LLaVA-OneVision checkpoint (hub id or local folder), safetensors only.

:func:`resolve_checkpoint` runs when the captioner is built: it finds the folder through
voxcore's :func:`~voxcore.plugin_api.resolve_pretrained` (a local folder, the Hugging Face
cache, or a download when the hub is reachable) and checks that it is a LLaVA-OneVision
checkpoint, reading only its ``config.json``. :func:`load_checkpoint` reads the weights, at
the first caption.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from voxcore.plugin_api import PretrainedNotFoundError, UserError, resolve_pretrained
from voxcore_llava.config import DEFAULT_MODEL, LlavaCaptionerConfig

__all__ = ["CHECKPOINT_FILES", "RECIPE_KEY", "download_hint", "load_checkpoint",
           "resolve_checkpoint"]

#: The files of a checkpoint this plugin reads (and downloads, when it has to).
CHECKPOINT_FILES = ("*.json", "*.safetensors", "*.jinja", "merges.txt", "vocab.json",
                    "tokenizer*")
#: Where a dataset builder's config names the captioner's checkpoint.
RECIPE_KEY = "captioner.config.model"
_WHAT = "LLaVA-OneVision checkpoint"


def download_hint(model: str) -> str:
    """How to get ``model`` (or, for a missing folder, the default checkpoint) for offline use."""
    hub_id = model if re.fullmatch(r"[\w.-]+/[\w.-]+", model) else DEFAULT_MODEL
    local = f"models/{hub_id.split('/')[-1]}"
    size = " (about 16 GB)" if hub_id == DEFAULT_MODEL else ""
    return (f"As a plain folder: `huggingface-cli download {hub_id} --local-dir {local}`"
            f"{size} where the hub is reachable, copy {local} here, then {RECIPE_KEY}: {local}")


def resolve_checkpoint(config: LlavaCaptionerConfig) -> Path:
    """The folder of the configured checkpoint, checked to be LLaVA-OneVision with
    safetensors weights; :class:`PretrainedNotFoundError` saying what to download when it is
    not available, :class:`UserError` when it is something else."""
    try:
        folder = resolve_pretrained(config.model, what=_WHAT, allow_patterns=CHECKPOINT_FILES,
                                    revision=config.revision, cache_dir=config.cache_dir,
                                    recipe_key=RECIPE_KEY)
    except PretrainedNotFoundError as exc:
        raise PretrainedNotFoundError(f"{exc}. {download_hint(config.model)}") from exc
    check_checkpoint(folder)
    return folder


def check_checkpoint(folder: Path) -> None:
    """A :class:`UserError` unless ``folder`` holds a LLaVA-OneVision config and safetensors."""
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise UserError(f"{_WHAT} folder {folder} has no config.json; set {RECIPE_KEY} to a "
                        "folder saved with save_pretrained() or downloaded from the hub")
    try:
        model_type = json.loads(config_file.read_text()).get("model_type")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise UserError(f"{config_file} is not a model config ({exc})") from exc
    if model_type != "llava_onevision":
        raise UserError(f"{config_file} describes a {model_type!r} model, not LLaVA-OneVision "
                        f"('llava_onevision'); set {RECIPE_KEY} to a LLaVA-OneVision checkpoint "
                        f"such as {DEFAULT_MODEL}")
    if not any(folder.glob("*.safetensors")):
        pickled = sorted(path.name for path in folder.glob("*.bin"))
        hint = (f"; it has {', '.join(pickled)}: voxcore loads only safetensors, convert them "
                "with transformers (from_pretrained(...).save_pretrained(...))" if pickled else "")
        raise UserError(f"{_WHAT} folder {folder} has no safetensors weights{hint}")


def load_checkpoint(folder: Path, *, dtype: Any, device: Any) -> tuple[Any, Any]:
    """The model (eval mode, on ``device`` in ``dtype``) and its processor, whose tokenizer
    pads on the left, as batched generation needs."""
    from transformers import LlavaOnevisionForConditionalGeneration, LlavaOnevisionProcessor

    processor = LlavaOnevisionProcessor.from_pretrained(folder)
    if not processor.chat_template:
        raise UserError(f"{_WHAT} folder {folder} has no chat template (chat_template.jinja or "
                        "chat_template.json): the prompt cannot be formatted")
    processor.tokenizer.padding_side = "left"
    if processor.tokenizer.pad_token is None:  # padded rows are masked: any token will do
        processor.tokenizer.pad_token = processor.tokenizer.eos_token
    # Loading straight onto an accelerator (device_map) needs accelerate; without it the
    # weights go through host memory first.
    direct = device.type != "cpu" and importlib.util.find_spec("accelerate") is not None
    model = LlavaOnevisionForConditionalGeneration.from_pretrained(
        folder, dtype=dtype, use_safetensors=True,
        device_map={"": device} if direct else None)
    return model.to(device).eval().requires_grad_(False), processor
