"""The caption stage: ``count`` checked captions per image, cached by image content.

Each image is first opened (an unreadable one is recorded and skipped), then captioned in
batches. Captions are checked (``count`` distinct, non-empty ones); an image that fails is
asked again with the next attempt, up to ``retries`` times, then recorded as failed. A
captioner that raises on a batch is asked one image at a time, so one bad image fails alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from voxcore.plugin_api import BuiltComponent, LabelledImage, blame
from voxcore_voxemoset.progress import stage_progress
from voxcore_voxemoset.store import BuildStore, content_key, file_key

__all__ = ["CaptionStage", "check_captions", "image_record"]

log = logging.getLogger(__name__)


def check_captions(found: Sequence[str], count: int) -> list[str] | str:
    """The first ``count`` distinct non-empty captions of ``found``, or why there are not
    enough (whitespace is collapsed; duplicates compare case-insensitively)."""
    kept: list[str] = []
    seen: set[str] = set()
    for caption in found:
        text = " ".join(str(caption).split())
        if text and text.lower() not in seen:
            kept.append(text)
            seen.add(text.lower())
    if len(kept) < count:
        return (f"{len(kept)} distinct non-empty caption(s) of the {count} asked for"
                + (f": {kept!r}" if kept else ""))
    return kept[:count]


def image_record(store: BuildStore, image: LabelledImage) -> dict[str, Any]:
    """The image's content key and whether it opens as an image (cached by size and time)."""
    path = store.image_path(image.id)
    stat = image.path.stat()
    found = store.read(path)
    if found is not None and found.get("size") == stat.st_size \
            and found.get("mtime_ns") == stat.st_mtime_ns and found.get("file") == str(
                image.path):
        return found
    record: dict[str, Any] = {"file": str(image.path), "size": stat.st_size,
                              "mtime_ns": stat.st_mtime_ns, "key": file_key(image.path)}
    try:
        from PIL import Image

        with Image.open(image.path) as opened:
            opened.verify()
        with Image.open(image.path) as opened:
            opened.convert("RGB").load()  # verify() does not decode the pixels
        record["error"] = None
    except Exception as exc:  # any decoder failure means the same thing: not an image
        record["error"] = f"unreadable image ({type(exc).__name__}: {exc})"
    store.write(path, record)
    return record


@dataclass
class CaptionStage:
    """Captions the images of one process's share."""

    captioner: BuiltComponent | None
    store: BuildStore
    count: int
    retries: int
    batch_size: int
    progress: bool = True
    #: The cache key of this captioner's captions of ``count`` per image.
    key: str = field(init=False)

    def __post_init__(self) -> None:
        assert self.captioner is not None
        fingerprint = str(self.captioner.component.captioner_fingerprint)
        self.key = content_key(fingerprint, self.count)

    def release(self) -> None:
        """Let go of the captioner (its memory), keeping the records readable."""
        self.captioner = None

    def run(self, images: Sequence[LabelledImage]) -> None:
        """Caption every image without a finished record."""
        pending: list[tuple[LabelledImage, str]] = []
        for image in images:
            record = image_record(self.store, image)
            path = self.store.caption_path(self.key, record["key"])
            if record.get("error"):
                if self.store.read(path) is None:
                    self._finish(image, record["key"], None, str(record["error"]), 0)
                continue
            if self.store.read(path) is None:
                pending.append((image, record["key"]))
        if not pending:
            return
        log.info("captioning %d image(s) (%d already done)", len(pending),
                 len(images) - len(pending))
        with stage_progress("captions", len(pending), self.progress) as bar:
            attempt = 0
            while pending:
                failed: list[tuple[LabelledImage, str]] = []
                for start in range(0, len(pending), self.batch_size):
                    batch = pending[start:start + self.batch_size]
                    for (image, key), outcome in zip(batch, self._caption(batch, attempt),
                                                     strict=True):
                        if isinstance(outcome, list):
                            self._finish(image, key, outcome, None, attempt + 1)
                            bar.update(1)
                        elif attempt < self.retries:
                            failed.append((image, key))
                        else:
                            self._finish(image, key, None, outcome, attempt + 1)
                            bar.update(1)
                pending, attempt = failed, attempt + 1

    def _caption(self, batch: Sequence[tuple[LabelledImage, str]],
                 attempt: int) -> list[list[str] | str]:
        images = [image for image, _ in batch]
        assert self.captioner is not None, "the caption stage ran after release()"
        captioner = self.captioner
        try:
            with blame(captioner.label, "captioning"):
                found: list[list[str]] = captioner.component.caption(
                    images, count=self.count, attempt=attempt)
            if len(found) != len(images):
                raise ValueError(f"gave {len(found)} caption lists for {len(images)} images")
        except Exception as exc:
            if len(images) == 1:
                return [f"captioner failed: {exc}"]
            log.warning("captioning a batch of %d failed (%s); captioning them one by one",
                        len(images), exc)
            return [outcome for item in batch for outcome in self._caption([item], attempt)]
        return [check_captions(captions, self.count) for captions in found]

    def _finish(self, image: LabelledImage, key: str, captions: list[str] | None,
                failure: str | None, attempts: int) -> None:
        self.store.write(self.store.caption_path(self.key, key), {
            "image": image.id, "captions": captions, "failure": failure, "attempts": attempts})

    def captions_of(self, image: LabelledImage) -> dict[str, Any] | None:
        """The finished record of ``image`` (``None``: not captioned yet)."""
        record = self.store.read(self.store.image_path(image.id))
        if record is None:
            return None
        return self.store.read(self.store.caption_path(self.key, record["key"]))
