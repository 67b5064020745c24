"""Fixtures for tests and trials: a small EmoSet-118K tree and a captions file for it.

:func:`write_emoset` writes EmoSet's released layout (``info.json``, ``train.json`` /
``val.json`` / ``test.json`` rows ``[emotion, image_id, image path, annotation path]``,
``image/<emotion>/<id>.jpg``, ``annotation/<emotion>/<id>.json`` with EmoSet's attribute keys)
with a few images of each of its eight categories; :func:`write_captions` writes three factual
captions per image, as a captioner would, into a JSONL file for the ``captions-file``
captioner. Reference voices: :mod:`voxcore_voxemoset.voices.testing`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image, ImageDraw

__all__ = ["EMOSET_CATEGORIES", "FIXTURE_SPLITS", "write_captions", "write_emoset"]

#: EmoSet's eight categories, as its folders spell them.
EMOSET_CATEGORIES: tuple[str, ...] = ("amusement", "anger", "awe", "contentment", "disgust",
                                      "excitement", "fear", "sadness")
#: Images per category in each split of the default fixture (30 of the built classes in all).
FIXTURE_SPLITS: Mapping[str, int] = {"train": 3, "val": 1, "test": 1}

_COLOURS = {"amusement": (250, 200, 60), "anger": (200, 30, 30), "awe": (90, 150, 230),
            "contentment": (120, 200, 120), "disgust": (120, 120, 40),
            "excitement": (250, 120, 20), "fear": (40, 20, 70), "sadness": (80, 90, 120)}
_THINGS = ("a red ball", "a wooden chair", "an old bicycle", "a small dog", "a glass vase",
           "a paper kite", "a blue car", "a stone bridge", "a striped cat", "a tall lamp")
_PLACES = ("on the grass", "near a white wall", "beside a river", "under a tree",
           "on a kitchen table", "in front of a house")


def write_emoset(root: Path, *, per_split: Mapping[str, int] = FIXTURE_SPLITS,
                 categories: Sequence[str] = EMOSET_CATEGORIES, size: int = 48,
                 seed: int = 0) -> dict[str, list[str]]:
    """Write the tree under ``root``; the image ids of each split."""
    rng = random.Random(seed)
    attributes = {"brightness": [str(v / 10) for v in range(11)],
                  "colorfulness": [str(v / 10) for v in range(11)],
                  "scene": ["field", "kitchen", "street"], "object": ["ball", "dog", "chair"],
                  "facial_expression": ["happy", "sad"], "human_action": ["running", "sitting"]}
    info = {"emotion": _labels(EMOSET_CATEGORIES),
            **{name: _labels(values) for name, values in attributes.items()}}
    (root).mkdir(parents=True, exist_ok=True)
    (root / "info.json").write_text(json.dumps(info), encoding="utf-8")
    ids: dict[str, list[str]] = {}
    number = 0
    for split, count in per_split.items():
        rows = []
        for category in categories:
            for _ in range(count):
                number += 1
                image_id = f"{category}_{number:05d}"
                image = f"image/{category}/{image_id}.jpg"
                annotation = f"annotation/{category}/{image_id}.json"
                _draw(_COLOURS[category], size, rng).save(root / _parent(root, image),
                                                          quality=90)
                (root / _parent(root, annotation)).write_text(json.dumps({
                    "image_id": image_id, "emotion": category,
                    "brightness": rng.choice(attributes["brightness"]),
                    "colorfulness": rng.choice(attributes["colorfulness"]),
                    "scene": rng.choice(attributes["scene"]),
                    "object": [rng.choice(attributes["object"])]}), encoding="utf-8")
                rows.append([category, image_id, image, annotation])
                ids.setdefault(split, []).append(image_id)
        (root / f"{split}.json").write_text(json.dumps(rows), encoding="utf-8")
    return ids


def write_captions(path: Path, image_ids: Sequence[str], *, count: int = 3,
                   seed: int = 0) -> Path:
    """A JSONL file of ``count`` factual captions per image id (``captions-file`` format)."""
    rng = random.Random(seed)
    lines = []
    for image_id in image_ids:
        things = rng.sample(_THINGS, count)
        places = rng.sample(_PLACES, count)
        captions = [f"{thing} is {place}" for thing, place in zip(things, places, strict=True)]
        captions[0] = f"there is {captions[0]} in the picture"
        lines.append(json.dumps({"image": image_id, "captions": captions}))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _labels(values: Sequence[str]) -> dict[str, dict[str, object]]:
    return {"label2idx": {v: i for i, v in enumerate(values)},
            "idx2label": {str(i): v for i, v in enumerate(values)}}


def _parent(root: Path, relative: str) -> str:
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    return relative


def _draw(colour: tuple[int, int, int], size: int, rng: random.Random) -> Image.Image:
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y = rng.randrange(size - 8), rng.randrange(size - 8)
        shade = tuple(max(0, min(255, c + rng.randrange(-80, 80))) for c in colour)
        draw.ellipse((x, y, x + rng.randrange(6, 20), y + rng.randrange(6, 20)),
                     fill=(shade[0], shade[1], shade[2]))
    return image
