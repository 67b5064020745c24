"""The build's work folder (``OUT/.build``): one small JSON record per finished item.

A caption set, an utterance, a reference transcript: each is written atomically (temporary
file, then rename) as soon as it is finished, failures included, so a killed build run again
skips everything finished and redoes nothing. Records are keyed by what they were made from
(image content, component fingerprints, text), so another captioner or synthesizer makes
new records instead of reusing stale ones.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from voxcore.plugin_api import UserError, write_text_atomic

__all__ = ["BuildStore", "content_key", "file_key"]

WORK_FOLDER = ".build"


def content_key(*parts: object, length: int = 16) -> str:
    """A short hex key of ``parts``."""
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def file_key(path: Path) -> str:
    """SHA-256 of a file's bytes, hex (an image's identity, whatever its name)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class BuildStore:
    """Records under ``out/.build``: captions, utterances, reference transcripts."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.root = out / WORK_FOLDER

    def caption_path(self, captioner_key: str, image_key: str) -> Path:
        return self.root / "captions" / captioner_key / image_key[:2] / f"{image_key}.json"

    def utterance_path(self, split: str, utterance_id: str) -> Path:
        return self.root / "utterances" / split / f"{utterance_id}.json"

    def transcript_path(self, key: str) -> Path:
        return self.root / "transcripts" / f"{key}.json"

    def image_path(self, image_id: str) -> Path:
        return self.root / "images" / f"{image_id}.json"

    def read(self, path: Path) -> dict[str, Any] | None:
        """The record at ``path``, or ``None`` when there is none (or it is unreadable: a
        record is only ever replaced whole, so an unreadable one is redone)."""
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return loaded if isinstance(loaded, dict) else None

    def write(self, path: Path, record: dict[str, Any]) -> None:
        """Write ``record`` at ``path`` atomically."""
        write_text_atomic(path, json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")

    def remove_leftovers(self) -> int:
        """Delete the temporary files a killed build left (``.NAME.*.tmp``, never a finished
        file); how many there were."""
        found = [p for p in self.out.rglob(".*.tmp") if p.is_file() or p.is_symlink()]
        for path in found:
            path.unlink(missing_ok=True)
        return len(found)

    def claim(self, settings: dict[str, Any]) -> None:
        """Record the build's settings, refusing a folder another kind of build wrote."""
        marker = self.root / "build.json"
        found = self.read(marker)
        if found is not None and found.get("builder") != settings.get("builder"):
            raise UserError(f"{self.out} holds a build of {found.get('builder')!r}, not "
                            f"{settings.get('builder')!r}; choose another --out folder")
        self.write(marker, settings)
