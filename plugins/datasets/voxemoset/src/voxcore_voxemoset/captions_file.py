"""The ``captions-file`` captioner: captions made elsewhere, read from a JSONL or CSV file.

For captions written by another tool, by people, or by a captioner run on another machine:

- JSONL: one object per image, ``{"image": "amusement_00001", "captions": ["...", ...]}``,
  or one per caption, ``{"image": ..., "caption": "..."}``;
- CSV/TSV: a row per caption with columns ``image`` and ``caption``.

``image`` is the image's id (EmoSet's ``image_id``) or its file name (``amusement_00001.jpg``).
An image the file does not mention gets no captions (the build records it as failed).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from voxcore.plugin_api import LabelledImage, UserError, file_digest

__all__ = ["CaptionsFile", "CaptionsFileConfig", "read_captions"]

_DELIMITERS = {".csv": ",", ".tsv": "\t"}


class CaptionsFileConfig(BaseModel):
    """Settings of the ``captions-file`` captioner."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="a JSONL, CSV or TSV file of captions (see the module doc)")
    image_column: str = Field(default="image", description="the image id or file name column")
    caption_column: str = Field(default="caption", description="a caption (one per row)")
    captions_column: str = Field(default="captions",
                                 description="JSONL: a list of captions (one row per image)")


def read_captions(config: CaptionsFileConfig) -> dict[str, list[str]]:
    """Captions by image id or file name, in file order; :class:`UserError` when the file
    cannot be read or mentions no image."""
    path = Path(config.path)
    if not path.is_file():
        raise UserError(f"captioner.config.path: {path} does not exist; give a JSONL or CSV "
                        "file of image,caption rows (see the captions-file docs)")
    found: dict[str, list[str]] = {}
    try:
        if path.suffix.lower() in _DELIMITERS:
            with path.open(encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle, delimiter=_DELIMITERS[path.suffix.lower()])
                rows: list[dict[str, object]] = [dict(row) for row in reader]
        else:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                    if line.strip()]
    except (UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise UserError(f"captioner.config.path: {path} cannot be read ({exc}); it must be "
                        "JSONL (one object per line) or CSV/TSV with a header") from None
    for row in rows:
        if not isinstance(row, dict):
            continue
        image = row.get(config.image_column)
        if not isinstance(image, str) or not image.strip():
            continue
        captions = row.get(config.captions_column)
        texts = captions if isinstance(captions, list) else [row.get(config.caption_column)]
        found.setdefault(image.strip(), []).extend(
            str(text) for text in texts if isinstance(text, str) and text.strip())
    if not found:
        raise UserError(f"captioner.config.path: {path} names no image with a caption; "
                        f"expected column {config.image_column!r} with "
                        f"{config.caption_column!r} (or {config.captions_column!r} lists)")
    return found


class CaptionsFile:
    """Implements :class:`voxcore.stages.Captioner` from a file of captions."""

    def __init__(self, config: CaptionsFileConfig) -> None:
        self.config = config
        self.captions = read_captions(config)
        self.captioner_fingerprint = (f"captions-file:{file_digest(config.path)}:"
                                      f"{config.image_column}:{config.caption_column}:"
                                      f"{config.captions_column}")

    def caption(self, images: Sequence[LabelledImage], *, count: int,
                attempt: int = 0) -> list[list[str]]:
        """The file's captions of each image (by id, else file name), at most ``count``;
        another attempt gives the same (the file does not change)."""
        found = []
        for image in images:
            captions = self.captions.get(image.id) or self.captions.get(image.path.name) or []
            found.append(captions[:count])
        return found
