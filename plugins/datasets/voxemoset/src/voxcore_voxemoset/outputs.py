"""The build's output: images in place, the manifests the ``voxemoset`` dataset reads, and the
details of every utterance.

Written by the main process once every process has finished its share, from the records in
``OUT/.build``::

    OUT/voxemoset_{train,val,test}.jsonl   # voxcore manifests (what the dataset reads)
    OUT/image/<label>/<image id>.<ext>     # EmoSet's own layout
    OUT/audio/<label>/<utterance id>.wav   # 16-bit PCM, 16 kHz
    OUT/details.jsonl                      # every planned utterance: status, attempts, scores
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from voxcore.plugin_api import LabelledImage, Sample, write_manifest, write_text_atomic

__all__ = ["output_image", "place_image", "write_details", "write_manifests"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def output_image(out: Path, image: LabelledImage) -> Path:
    """Where ``image`` goes in the output: ``image/<label>/<id><suffix>``."""
    label = _UNSAFE.sub("_", image.source_emotion or image.emotion)
    return out / "image" / label / f"{_UNSAFE.sub('_', image.id)}{image.path.suffix.lower()}"


def place_image(out: Path, image: LabelledImage, how: str) -> Path:
    """Put ``image`` into the output (``hardlink``, falling back to a copy across file
    systems; ``copy``; ``symlink``) unless it is there already; its new path."""
    target = output_image(out, image)
    if target.is_file() and target.stat().st_size == image.path.stat().st_size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name beside the target, renamed into place: a killed build leaves no
    # half-copied image under the final name. (Not voxcore's atomic_path: it would chmod
    # through a link into the source collection.)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        if how == "symlink":
            os.symlink(image.path.resolve(), tmp)
        elif how == "hardlink":
            try:
                os.link(image.path, tmp)
            except OSError:  # another file system, or links not allowed: copy
                shutil.copyfile(image.path, tmp)
        else:
            shutil.copyfile(image.path, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_manifests(out: Path, splits: Sequence[str], records: Iterable[dict[str, Any]],
                    images: dict[str, LabelledImage]) -> dict[str, int]:
    """One manifest per split of the finished utterances (sorted by id); lines per split."""
    by_split: dict[str, list[Sample]] = {split: [] for split in splits}
    for record in records:
        if record.get("status") != "ok":
            continue
        image = images[record["image"]]
        labels = {"emotion": (image.source_emotion or image.emotion).lower(),
                  "class": image.emotion, "reference": str(record["reference"]),
                  "corpus": str(record["corpus"])}
        by_split[record["split"]].append(Sample(
            id=record["id"], audio=out / record["audio"], image=output_image(out, image),
            transcript=record["text"], speaker=str(record["speaker"]), labels=labels))
    counts = {}
    for split, samples in by_split.items():
        samples.sort(key=lambda sample: sample.id)
        write_manifest(out / f"voxemoset_{split}.jsonl", samples)
        counts[split] = len(samples)
    return counts


def write_details(out: Path, records: Sequence[dict[str, Any]]) -> None:
    """``details.jsonl``: every planned utterance's record (status, attempts, scores)."""
    lines = [json.dumps({k: v for k, v in record.items() if k != "fingerprint"},
                        ensure_ascii=False, sort_keys=True) for record in records]
    write_text_atomic(out / "details.jsonl", "".join(line + "\n" for line in lines))
