"""``voxcore train-classifier``: train the Emo-A emotion classifier from scratch.

Training data is either an EmoSet release folder or a registered voxcore dataset whose samples
carry an emotion label:

- EmoSet (EmoSet-118K) layout: ``image/<emotion>/<name>.jpg`` plus the split files
  ``train.json``, ``val.json``, ``test.json``, each a JSON list of
  ``[emotion, "image/<emotion>/<name>.jpg", "annotation/<emotion>/<name>.json"]``. Training uses
  ``train.json`` and the held-out accuracy ``val.json`` (else ``test.json``); without split
  files every image under ``image/`` is used and a seeded ``holdout`` fraction is held out.
- ``--dataset NAME [--dataset-option KEY=VALUE ...]``: the samples of a registered dataset,
  labelled by ``sample.labels[--label]``, with a seeded ``holdout`` fraction held out.

Labels are folded into the paper's five classes (``amusement`` and ``excitement`` ->
``enjoyment``); images of other emotions (EmoSet's ``awe`` and ``contentment``) are left out.
Images are read lazily, batch by batch, so a dataset of any size fits in memory.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from voxcore.plugin_api import UserError
from voxcore_metrics import EMOTIONS
from voxcore_metrics.emotion import (
    ClassifierInfo,
    EmotionClassifier,
    canonical_emotion,
    save_classifier,
    square_resize,
)

__all__ = ["LabelledFile", "TrainOptions", "collect_dataset", "collect_emoset",
           "train_classifier"]

logger = logging.getLogger(__name__)

_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True)
class LabelledFile:
    """One training image and its (canonical) emotion."""

    path: Path
    emotion: str


@dataclass(frozen=True)
class TrainOptions:
    """What ``voxcore train-classifier`` was asked to do."""

    out: Path
    model: str = "resnet50"
    model_kwargs: dict[str, Any] | None = None
    resolution: int = 224
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.05
    seed: int = 0
    holdout: float = 0.1
    device: str = "cpu"
    num_workers: int = 0


def _keep(files: Sequence[tuple[Path, str]]) -> tuple[list[LabelledFile], Counter[str]]:
    """Files whose emotion folds into the classes, and a count of the other emotions."""
    kept, dropped = [], Counter[str]()
    for path, emotion in files:
        name = canonical_emotion(emotion)
        if name in EMOTIONS:
            kept.append(LabelledFile(path, name))
        else:
            dropped[name] += 1
    return kept, dropped


def _read_split(root: Path, name: str) -> list[tuple[Path, str]] | None:
    file = root / f"{name}.json"
    if not file.is_file():
        return None
    entries = json.loads(file.read_text(encoding="utf-8"))
    out = []
    for entry in entries:
        if isinstance(entry, list | tuple) and len(entry) >= 4:
            # EmoSet-118K's own rows: [emotion, image id, image path, annotation path]
            emotion, image = str(entry[0]), str(entry[2])
        elif isinstance(entry, list | tuple) and len(entry) >= 2:
            emotion, image = str(entry[0]), str(entry[1])
        elif isinstance(entry, dict):
            emotion = str(entry.get("emotion", entry.get("label", "")))
            image = str(entry.get("image", entry.get("image_path", entry.get("path", ""))))
        else:
            raise UserError(f"{file}: cannot read entry {entry!r}; expected [emotion, "
                            "image id, image path, annotation path] as in EmoSet's split "
                            "files (or [emotion, image path, annotation path])")
        out.append((root / image, emotion))
    return out


def collect_emoset(root: Path, holdout: float, seed: int) -> tuple[list[LabelledFile],
                                                                   list[LabelledFile], str]:
    """(train, held-out, description) from an EmoSet-layout folder."""
    if not root.is_dir():
        raise UserError(f"training data folder {root} does not exist; give an EmoSet folder "
                        "(image/<emotion>/*.jpg and train.json/val.json) or --dataset NAME")
    train_split = _read_split(root, "train")
    if train_split is not None:
        held_split = _read_split(root, "val") or _read_split(root, "test") or []
        train, dropped = _keep(train_split)
        held, _ = _keep(held_split)
        source = f"EmoSet splits of {root}"
        if not held:
            train, held = _split(train, holdout, seed)
            source += f" (no val.json/test.json: {holdout:g} of train.json held out)"
    else:
        images = root / "image"
        files = sorted((path, path.parent.name) for path in images.glob("*/*")
                       if path.suffix.lower() in _IMAGE_SUFFIXES) if images.is_dir() else []
        kept, dropped = _keep(files)
        train, held = _split(kept, holdout, seed)
        source = f"images under {images} ({holdout:g} held out)"
    if dropped:
        logger.info("left out %d images of emotions outside the classes: %s",
                    sum(dropped.values()), dict(dropped))
    if not train:
        raise UserError(f"no training images of the classes {', '.join(EMOTIONS)} found in "
                        f"{root}: expected image/<emotion>/<name>.jpg (emotion one of "
                        "amusement, excitement, anger, disgust, fear, sadness) and optionally "
                        "EmoSet's train.json/val.json")
    missing = [f.path for f in train[:1000] if not f.path.is_file()]
    if missing:
        raise UserError(f"{len(missing)} image file(s) named by the splits of {root} do not "
                        f"exist (e.g. {missing[0]})")
    return train, held, source


def collect_dataset(name: str, options: dict[str, Any], label: str, holdout: float,
                    seed: int) -> tuple[list[LabelledFile], list[LabelledFile], str]:
    """(train, held-out, description) from a registered voxcore dataset."""
    from voxcore.plugin_api import get_registry

    dataset = get_registry("dataset").get(name).build(options)
    files: list[tuple[Path, str]] = []
    unlabelled = 0
    for index in range(len(dataset)):
        sample = dataset[index]
        if sample.image is None or label not in sample.labels:
            unlabelled += 1
            continue
        files.append((Path(sample.image), sample.labels[label]))
    kept, _ = _keep(files)
    if not kept:
        raise UserError(f"dataset {name!r} has no samples with an image and a {label!r} label "
                        f"among {', '.join(EMOTIONS)} ({len(dataset)} samples, {unlabelled} "
                        f"without image or label)")
    train, held = _split(kept, holdout, seed)
    return train, held, f"dataset {name} ({holdout:g} held out)"


def _split(files: list[LabelledFile], fraction: float,
           seed: int) -> tuple[list[LabelledFile], list[LabelledFile]]:
    if len(files) < 2:
        return files, []
    order = list(range(len(files)))
    random.Random(seed).shuffle(order)
    held = min(len(files) - 1, max(1, round(len(files) * fraction)))
    return [files[i] for i in order[held:]], [files[i] for i in order[:held]]


def _read(path: Path) -> torch.Tensor:
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(pixels).permute(2, 0, 1)


class _Images(torch.utils.data.Dataset[tuple[torch.Tensor, int]]):
    """Images read from disk, at the classifier's resolution, with their class index."""

    def __init__(self, files: Sequence[LabelledFile], resolution: int, train: bool) -> None:
        self.files = list(files)
        self.resolution = resolution
        self.train = train
        self.index = {name: i for i, name in enumerate(EMOTIONS)}

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, int]:
        file = self.files[item]
        image = _read(file.path)[None]
        if self.train:
            # A little scale jitter: shorter side up to 1.15x, then a random square crop.
            side = round(self.resolution * (1 + 0.15 * torch.rand(()).item()))
            image = square_resize(image, side) if side != self.resolution else image
            if side != self.resolution:
                top, left = torch.randint(0, side - self.resolution + 1, (2,)).tolist()
                image = image[:, :, top:top + self.resolution, left:left + self.resolution]
            image = square_resize(image, self.resolution)
            if torch.rand(()).item() < 0.5:
                image = image.flip(-1)
        else:
            image = square_resize(image, self.resolution)
        return image[0], self.index[file.emotion]


def _loader(files: Sequence[LabelledFile], options: TrainOptions, train: bool,
            generator: torch.Generator) -> torch.utils.data.DataLoader[tuple[torch.Tensor, int]]:
    return torch.utils.data.DataLoader(
        _Images(files, options.resolution, train), batch_size=options.batch_size,
        shuffle=train, drop_last=False, num_workers=options.num_workers, generator=generator)


@torch.no_grad()
def _accuracy(classifier: EmotionClassifier, files: Sequence[LabelledFile],
              options: TrainOptions) -> float:
    classifier.eval()
    hits = 0
    for images, targets in _loader(files, options, False, torch.Generator()):
        logits = classifier.net(classifier.normalize(images.to(options.device)))
        hits += int((logits.argmax(dim=1).cpu() == targets).sum())
    return 100.0 * hits / max(1, len(files))


def train_classifier(train: Sequence[LabelledFile], held: Sequence[LabelledFile],
                     options: TrainOptions, source: str = "") -> dict[str, Any]:
    """Train on ``train``, measure on ``held``, save into ``options.out``; returns the info."""
    started = time.perf_counter()
    torch.manual_seed(options.seed)
    info = ClassifierInfo(model=options.model, resolution=options.resolution,
                          model_kwargs=dict(options.model_kwargs or {}))
    classifier = EmotionClassifier(info)
    cfg = getattr(classifier.net, "pretrained_cfg", None) or {}
    if "mean" in cfg and "std" in cfg:
        info.mean, info.std = [float(v) for v in cfg["mean"]], [float(v) for v in cfg["std"]]
        classifier = EmotionClassifier(info)
    classifier.to(options.device)
    generator = torch.Generator().manual_seed(options.seed)
    loader = _loader(train, options, True, generator)
    steps = options.epochs * max(1, len(loader))
    optimizer = torch.optim.AdamW(classifier.parameters(), lr=options.lr,
                                  weight_decay=options.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=options.lr,
                                                   total_steps=steps, pct_start=0.2)
    for epoch in range(options.epochs):
        classifier.train()
        total, seen = 0.0, 0
        for images, targets in loader:
            if images.shape[0] > 1:  # a lone image cannot be batch-normalized
                logits = classifier.net(classifier.normalize(images.to(options.device)))
                loss = F.cross_entropy(logits, targets.to(options.device))
                optimizer.zero_grad(set_to_none=True)
                torch.autograd.backward(loss)
                optimizer.step()
                total += float(loss) * int(images.shape[0])
                seen += int(images.shape[0])
            schedule.step()
        logger.info("epoch %d/%d: training loss %.4f", epoch + 1, options.epochs,
                    total / max(1, seen))
    heldout = _accuracy(classifier, held, options) if held else math.nan
    counts = Counter(f.emotion for f in train)
    info.extra = {
        "heldout_accuracy": None if math.isnan(heldout) else heldout,
        "num_train": len(train), "num_heldout": len(held),
        "train_counts": {name: counts.get(name, 0) for name in EMOTIONS},
        "source": source, "epochs": options.epochs, "batch_size": options.batch_size,
        "lr": options.lr, "weight_decay": options.weight_decay, "seed": options.seed,
        "train_seconds": round(time.perf_counter() - started, 3),
    }
    save_classifier(options.out, classifier.cpu())
    return info.to_json()
