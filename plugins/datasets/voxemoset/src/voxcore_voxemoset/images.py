"""The images to describe and their emotions: EmoSet-118K's release, or a CSV/JSONL table.

EmoSet-118K's layout, as its official loader reads it::

    ROOT/info.json                      # per attribute a label2idx / idx2label; "emotion": 8
    ROOT/{train,val,test}.json          # lists of [emotion, image_id, image path, annotation]
    ROOT/image/<emotion>/<image_id>.jpg
    ROOT/annotation/<emotion>/<image_id>.json   # emotion, brightness, scene, object, ...

(Some exports write rows of three, without the image id: the id is then the file's name.)
A table is a CSV/TSV/JSONL file with an image path and an emotion per row (and optionally a
split and an id). Labels are mapped to the classes built (``paper5``: EmoSet's amusement and
excitement are enjoyment, awe and contentment are left out). Every image that is missing or
has no usable label is named in :attr:`ImageCollection.skipped`; images of classes not built
are counted in :attr:`ImageCollection.left_out`.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxcore.plugin_api import LabelledImage, UserError
from voxcore_voxemoset.config import ImagesConfig

__all__ = ["EMOSET_MERGED", "ImageCollection", "SkippedImage", "map_label", "read_images",
           "trial_subset"]

#: EmoSet categories the paper merges into ``enjoyment`` and those it leaves out.
EMOSET_MERGED: dict[str, str] = {"amusement": "enjoyment", "excitement": "enjoyment"}
_PAPER_DROPPED = frozenset({"awe", "contentment"})
_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_EMOSET_LAYOUT = ("EmoSet-118K's layout: ROOT/train.json, val.json, test.json (rows "
                  "[emotion, image_id, image path, annotation path]), ROOT/image/<emotion>/, "
                  "ROOT/annotation/<emotion>/ and ROOT/info.json")


@dataclass(frozen=True)
class SkippedImage:
    """An image left out of the build, and why."""

    where: str
    reason: str


@dataclass
class ImageCollection:
    """The labelled images of every split built, in build order (split, then id)."""

    images: list[LabelledImage]
    skipped: list[SkippedImage] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)
    source: str = ""

    def by_split(self) -> dict[str, list[LabelledImage]]:
        """The images of each split."""
        found: dict[str, list[LabelledImage]] = {}
        for image in self.images:
            found.setdefault(image.split, []).append(image)
        return found


def map_label(label: str, classes: str, emotions: Sequence[str]) -> str | None:
    """The class built for a collection's ``label`` (``None``: left out)."""
    name = label.strip().lower()
    if classes == "paper5":
        if name in _PAPER_DROPPED:
            return None
        name = EMOSET_MERGED.get(name, name)
    return name if name in emotions else None


def read_images(config: ImagesConfig, emotions: Sequence[str]) -> ImageCollection:
    """Every labelled image of ``config.splits``; :class:`UserError` when the collection
    cannot be read at all or holds no image of the classes built."""
    root = Path(config.root)
    if not root.exists():
        raise UserError(f"images: {root} does not exist; give EmoSet-118K's folder or a "
                        "CSV/JSONL table of image,emotion rows (--images PATH)")
    kind = config.format
    if kind == "auto":
        kind = "emoset" if root.is_dir() else "table"
    rows = _emoset_rows(root, config) if kind == "emoset" else _table_rows(root, config)
    collection = ImageCollection(images=[], source=f"{kind} {root}")
    seen: set[str] = set()
    for split, image_id, path, label, where in rows:
        if label is None or not label.strip():
            collection.skipped.append(SkippedImage(where, "no emotion label"))
            continue
        emotion = map_label(label, config.classes, emotions)
        if emotion is None:
            collection.left_out[label.strip().lower()] += 1
            continue
        if image_id in seen:
            collection.skipped.append(SkippedImage(where, f"repeats image id {image_id!r}"))
            continue
        if not path.is_file():
            collection.skipped.append(SkippedImage(where, f"image file {path} is missing"))
            continue
        seen.add(image_id)
        collection.images.append(LabelledImage(id=image_id, path=path, emotion=emotion,
                                               split=split, source_emotion=label.strip()))
    order = {split: index for index, split in enumerate(config.splits)}
    collection.images.sort(key=lambda image: (order[image.split], image.id))
    if not collection.images:
        counts = ", ".join(f"{name} {count}" for name, count in
                           sorted(collection.left_out.items())) or "none"
        raise UserError(
            f"images: {root} holds no labelled image of the classes built "
            f"({', '.join(emotions)}) in split(s) {', '.join(config.splits)}; labels found "
            f"outside them: {counts}; {len(collection.skipped)} image(s) skipped"
            + (f" (first: {collection.skipped[0].where}: {collection.skipped[0].reason})"
               if collection.skipped else "")
            + (f". Expected {_EMOSET_LAYOUT}" if kind == "emoset" else
               ". Expected a table with columns "
               f"{config.image_column!r} and {config.emotion_column!r}"))
    return collection


def trial_subset(images: Sequence[LabelledImage], limit: int) -> list[LabelledImage]:
    """At most ``limit`` images per split, taking each class in turn (in id order)."""
    chosen: list[LabelledImage] = []
    splits: dict[str, dict[str, list[LabelledImage]]] = {}
    for image in images:
        splits.setdefault(image.split, {}).setdefault(image.emotion, []).append(image)
    for classes in splits.values():
        queues = [list(reversed(found)) for _, found in sorted(classes.items())]
        taken = 0
        while taken < limit and any(queues):
            for queue in queues:
                if queue and taken < limit:
                    chosen.append(queue.pop())
                    taken += 1
    kept = {image.id for image in chosen}
    return [image for image in images if image.id in kept]


Row = tuple[str, str, Path, "str | None", str]


def _emoset_rows(root: Path, config: ImagesConfig) -> Iterator[Row]:
    if not root.is_dir():
        raise UserError(f"images: {root} is not a folder; {_EMOSET_LAYOUT}")
    known = _known_emotions(root)
    found_any = False
    for split in config.splits:
        listing = root / f"{split}.json"
        if not listing.is_file():
            continue
        found_any = True
        try:
            entries = json.loads(listing.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserError(f"images: {listing} is not readable JSON ({exc}); "
                            f"{_EMOSET_LAYOUT}") from None
        if not isinstance(entries, list):
            raise UserError(f"images: {listing} must hold a list of rows; {_EMOSET_LAYOUT}")
        for number, entry in enumerate(entries, start=1):
            where = f"{listing.name} row {number}"
            row = _emoset_row(root, entry)
            if row is None:
                yield split, f"{split}-row-{number}", root, None, where + " (malformed row)"
                continue
            found, image_id, path, annotation = row
            label = found or (_annotation_emotion(annotation) if annotation else None)
            if label and known and label not in known:
                yield split, image_id, path, None, f"{where} ({label!r} is not in info.json)"
                continue
            yield split, image_id, path, label, f"{where} ({path.relative_to(root)})"
    if not found_any:
        raise UserError(f"images: {root} has none of the split files "
                        f"{', '.join(s + '.json' for s in config.splits)}; {_EMOSET_LAYOUT}")


def _emoset_row(root: Path, entry: Any) -> tuple[str, str, Path, Path | None] | None:
    if not isinstance(entry, list) or not all(isinstance(part, str) for part in entry):
        return None
    if len(entry) == 4:
        label, image_id, image, annotation = entry
    elif len(entry) == 3:
        label, image, annotation = entry
        image_id = Path(image).stem
    else:
        return None
    return label.strip(), image_id, root / image, (root / annotation if annotation else None)


def _annotation_emotion(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    value = data.get("emotion") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _known_emotions(root: Path) -> set[str]:
    info = root / "info.json"
    if not info.is_file():
        return set()
    try:
        data = json.loads(info.read_text(encoding="utf-8"))
        return set(data["emotion"]["label2idx"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise UserError(f"images: {info} has no emotion label2idx ({exc}); it is EmoSet's "
                        "label list, remove it to read the split files unchecked") from None


def _table_rows(path: Path, config: ImagesConfig) -> Iterator[Row]:
    if not path.is_file():
        raise UserError(f"images: {path} is not a file; a table is a .csv, .tsv or .jsonl "
                        "file of image,emotion rows")
    base = path.parent
    suffix = path.suffix.lower()
    if suffix in _TABLE_SUFFIXES:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=_TABLE_SUFFIXES[suffix])
            columns = set(reader.fieldnames or [])
            missing = [c for c in (config.image_column, config.emotion_column)
                       if c not in columns]
            if missing:
                raise UserError(f"images: {path} has no column(s) {', '.join(missing)}; its "
                                f"columns: {', '.join(sorted(columns)) or 'none'}")
            records: list[tuple[int, dict[str, Any]]] = [
                (number, dict(row)) for number, row in enumerate(reader, start=2)]
    elif suffix in _JSONL_SUFFIXES:
        records = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            records.append((number, record if isinstance(record, dict) else {}))
    else:
        raise UserError(f"images: {path} is neither .csv, .tsv nor .jsonl")
    for number, record in records:
        where = f"{path.name} line {number}"
        image = record.get(config.image_column)
        if not isinstance(image, str) or not image.strip():
            yield "train", f"line-{number}", base, None, where + " (no image)"
            continue
        file = Path(image) if Path(image).is_absolute() else base / image
        split = str(record.get(config.split_column) or "train")
        if split not in config.splits:
            continue
        image_id = str(record.get(config.id_column) or file.stem)
        label = record.get(config.emotion_column)
        yield split, image_id, file, label if isinstance(label, str) else None, \
            f"{where} ({image})"
