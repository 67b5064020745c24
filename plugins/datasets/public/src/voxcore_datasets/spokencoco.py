"""The ``spokencoco`` dataset: SpokenCOCO spoken captions with their MS-COCO 2014 images.

The release (MIT CSAIL) holds ``SpokenCOCO_train.json`` and ``SpokenCOCO_val.json``, each
``{"data": [{"image": "val2014/COCO_val2014_000000325114.jpg", "captions": [{"text": ...,
"speaker": ..., "uttid": ..., "wav": "wavs/val/0/<uttid>.wav"}, ...]}, ...]}``; wav paths are
relative to the SpokenCOCO folder and image paths to the MS-COCO 2014 folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from voxcore.plugin_api import DatasetError, Sample
from voxcore_datasets._common import (
    SampleList,
    check_referenced_files,
    raise_problems,
    read_text,
    require_dir,
    require_file,
)
from voxcore_datasets.config import SpokenCocoConfig

__all__ = ["load_spokencoco", "read_karpathy_splits"]

DOWNLOAD = ("download SpokenCOCO from https://groups.csail.mit.edu/sls/downloads/placesaudio/ "
            "and set 'root' to the folder holding SpokenCOCO_train.json, SpokenCOCO_val.json "
            "and wavs/")
COCO_DOWNLOAD = ("download train2014.zip and val2014.zip from https://cocodataset.org/#download "
                 "and set 'image_root' to the folder holding train2014/ and val2014/")


def load_spokencoco(config: SpokenCocoConfig) -> SampleList:
    """The samples of ``config.split``: one per spoken caption (or per image)."""
    root = require_dir(Path(config.root), "SpokenCOCO folder", DOWNLOAD)
    image_root = require_dir(Path(config.image_root), "MS-COCO image folder", COCO_DOWNLOAD)
    if config.karpathy_json is None:
        sources = [config.split]
        wanted: dict[str, str] | None = None
    else:
        sources = ["train", "val"]
        wanted = read_karpathy_splits(Path(config.karpathy_json))
    found: dict[Path, list[tuple[str, Sample]]] = {}
    total = 0
    for source in sources:
        file = require_file(root / f"SpokenCOCO_{source}.json", "SpokenCOCO file", DOWNLOAD)
        pairs = _read_file(file, root, image_root, config, wanted)
        if config.limit is not None:
            pairs = pairs[:config.limit - total]
        found[file] = pairs
        total += len(pairs)
    if config.check_files:
        for file, pairs in found.items():
            check_referenced_files(
                ((where, name, getattr(sample, name)) for where, sample in pairs
                 for name in ("audio", "image")),
                file,
                hint=f"is the release complete? wavs are read from {root.absolute()} and "
                     f"images from {image_root.absolute()}; {COCO_DOWNLOAD}")
    samples = [sample for pairs in found.values() for _, sample in pairs]
    return SampleList(f"spokencoco {config.split}", samples)


def read_karpathy_splits(path: Path) -> dict[str, str]:
    """Map COCO image file names to their Karpathy split (``restval`` counted as ``train``)."""
    hint = ("download caption_datasets.zip "
            "(https://cs.stanford.edu/people/karpathy/deepimagesent/caption_datasets.zip) and "
            "set 'karpathy_json' to its dataset_coco.json")
    data = _load_json(require_file(path, "Karpathy split file", hint))
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise DatasetError(f"{path} has no 'images' list; it is not Karpathy's dataset_coco.json "
                           f"({hint})")
    splits: dict[str, str] = {}
    problems: list[str] = []
    for index, image in enumerate(images):
        name = image.get("filename") if isinstance(image, dict) else None
        split = image.get("split") if isinstance(image, dict) else None
        if not isinstance(name, str) or split not in ("train", "restval", "val", "test"):
            problems.append(f"images[{index}]: needs a 'filename' and a 'split' of train, "
                            f"restval, val or test")
            continue
        splits[name] = "train" if split == "restval" else str(split)
    raise_problems(f"Karpathy split file {path} has", problems, hint=hint)
    return splits


def _load_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column "
                           f"{exc.colno}); the download may be truncated, fetch it again") from None


def _read_file(
    file: Path, root: Path, image_root: Path, config: SpokenCocoConfig,
    wanted: dict[str, str] | None,
) -> list[tuple[str, Sample]]:
    """The ``(location, sample)`` pairs of one release file, or all its problems at once."""
    data = _load_json(file)
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise DatasetError(f"{file} has no 'data' list; expected the SpokenCOCO release format "
                           '{"data": [{"image": ..., "captions": [...]}, ...]}')
    problems: list[str] = []
    found: list[tuple[str, Sample]] = []
    first: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = f"data[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected an object with 'image' and 'captions'")
            continue
        image = entry.get("image")
        captions = entry.get("captions")
        if not isinstance(image, str) or not image:
            problems.append(f"{where}: missing 'image' (the COCO path, e.g. "
                            "val2014/COCO_val2014_000000325114.jpg)")
            continue
        if not isinstance(captions, list) or not captions:
            problems.append(f"{where} ({image}): missing or empty 'captions' list")
            continue
        if wanted is not None:
            split = wanted.get(Path(image).name)
            if split is None:
                problems.append(f"{where} ({image}): image not in the Karpathy split file")
                continue
            if split != config.split:
                continue
        for number, caption in enumerate(captions[:1] if config.captions == "first" else captions):
            place = f"{where} caption {number}"
            sample = _caption_sample(caption, place, image, root, image_root, problems)
            if sample is None:
                continue
            if sample.id in first:
                problems.append(f"{place}: duplicate uttid {sample.id!r} (first at "
                                f"{first[sample.id]})")
                continue
            first[sample.id] = place
            found.append((place, sample))
    raise_problems(f"SpokenCOCO file {file} has", problems,
                   hint="the file may be damaged or not from the SpokenCOCO release; "
                        "download it again")
    return found


def _caption_sample(
    caption: Any, place: str, image: str, root: Path, image_root: Path, problems: list[str]
) -> Sample | None:
    if not isinstance(caption, dict):
        problems.append(f"{place}: expected an object with 'wav', 'uttid', 'text', 'speaker'")
        return None
    missing = [key for key in ("wav", "uttid") if not isinstance(caption.get(key), str)
               or not caption[key]]
    if missing:
        problems.append(f"{place}: missing {', '.join(map(repr, missing))}")
        return None
    text, speaker = caption.get("text"), caption.get("speaker")
    return Sample(
        id=caption["uttid"],
        audio=root.absolute() / caption["wav"],
        image=image_root.absolute() / image,
        transcript=text if isinstance(text, str) else None,
        speaker=speaker if isinstance(speaker, str) else None,
    )
