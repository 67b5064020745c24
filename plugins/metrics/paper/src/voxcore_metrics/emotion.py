"""The ``emo-a`` metric and its classifier: a timm network over the paper's five emotions.

No public weights exist for the paper's emotion classifier, so it is trained here with
``voxcore train-classifier`` (:mod:`voxcore_metrics.train`), which writes a folder holding
``classifier.safetensors`` (the timm model's state dict) and ``classifier.json`` (classes,
timm model name and keyword arguments, resolution, normalization, held-out accuracy).
:func:`load_classifier` reads such a folder back.

Emo-A (VoxStudio Sec. 5, after EmoGen) is the percentage of generated images the classifier
assigns to their prompt's emotion. Prompt labels are folded into the five classes
(``amusement``/``excitement`` -> ``enjoyment``); items whose emotion is none of them (EmoSet's
``awe``, ``contentment``, a neutral prompt, ...) are skipped and counted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import timm
import torch
import torch.nn.functional as F
from torch import nn

from voxcore.plugin_api import (
    EvalBatch,
    RunningGaussian,
    TensorState,
    UserError,
    load_tensors,
    save_tensors,
    write_text_atomic,
)
from voxcore_metrics import EMOTION_ALIASES, EMOTIONS, EmoAConfig
from voxcore_metrics.images import check_images, chunks

__all__ = ["CLASSIFIER_FORMAT", "EmoAMetric", "EmotionClassifier", "build_emo_a",
           "canonical_emotion", "load_classifier", "save_classifier", "square_resize"]

#: Version of the folder layout written by :func:`save_classifier`.
CLASSIFIER_FORMAT = 1
WEIGHTS_FILE = "classifier.safetensors"
INFO_FILE = "classifier.json"


def canonical_emotion(label: str) -> str:
    """``label`` lowercased and folded into the paper's classes (``amusement`` -> ``enjoyment``).

    Labels outside the classes come back lowercased but otherwise unchanged.
    """
    name = label.strip().lower()
    return EMOTION_ALIASES.get(name, name)


def square_resize(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Shorter side to ``resolution`` (bilinear, antialiased), then the centre square.

    Float ``[B, 3, H, W]`` -> float32 ``[B, 3, resolution, resolution]``: what the classifier
    sees of real training images and of generated images alike.
    """
    x = images.float()
    height, width = int(x.shape[-2]), int(x.shape[-1])
    scale = resolution / min(height, width)
    size = (max(resolution, round(height * scale)), max(resolution, round(width * scale)))
    if size != (height, width):
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True,
                          align_corners=False).clamp(0, 1)
    top, left = (size[0] - resolution) // 2, (size[1] - resolution) // 2
    return x[:, :, top:top + resolution, left:left + resolution]


@dataclass
class ClassifierInfo:
    """What ``classifier.json`` records about a trained classifier."""

    model: str
    resolution: int
    classes: list[str] = field(default_factory=lambda: list(EMOTIONS))
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    mean: list[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])
    std: list[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to ``classifier.json``."""
        return {"format": CLASSIFIER_FORMAT, "model": self.model, "resolution": self.resolution,
                "classes": self.classes, "model_kwargs": self.model_kwargs,
                "normalization": {"mean": self.mean, "std": self.std}, **self.extra}


class EmotionClassifier(nn.Module):
    """A timm classifier that takes float ``[B, 3, H, W]`` images in ``[0, 1]`` of any size.

    Images are brought to ``info.resolution`` with :func:`square_resize` and normalized with
    ``info.mean`` / ``info.std`` here; :meth:`forward` returns logits ``[B, classes]``.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, info: ClassifierInfo) -> None:
        super().__init__()
        self.info = info
        self.net = timm.create_model(info.model, pretrained=False,
                                     num_classes=len(info.classes), **info.model_kwargs)
        self.register_buffer("mean", torch.tensor(info.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(info.std).view(1, 3, 1, 1), persistent=False)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """Images already at the classifier's resolution, normalized for the network."""
        x = images.to(self.mean.device)
        return (x - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, classes]`` of images of any size."""
        logits: torch.Tensor = self.net(self.normalize(square_resize(images,
                                                                     self.info.resolution)))
        return logits


def save_classifier(folder: str | Path, classifier: EmotionClassifier) -> None:
    """Write ``classifier.safetensors`` then ``classifier.json`` (atomically) into ``folder``."""
    out = Path(folder)
    save_tensors(out / WEIGHTS_FILE, classifier.net.state_dict())
    write_text_atomic(out / INFO_FILE,
                      json.dumps(classifier.info.to_json(), indent=2, sort_keys=True) + "\n")


def load_classifier(folder: str | Path, device: str = "cpu",
                    key: str = "classifier") -> EmotionClassifier:
    """The classifier saved in ``folder`` by ``voxcore train-classifier`` (in eval mode)."""
    root = Path(folder).expanduser()
    how = (f"train one with 'voxcore train-classifier EMOSET_DIR --out DIR' and set the emo-a "
           f"metric's config key '{key}' to DIR")
    if not (root / INFO_FILE).is_file() or not (root / WEIGHTS_FILE).is_file():
        raise UserError(f"emotion classifier folder {root} has no {INFO_FILE} and "
                        f"{WEIGHTS_FILE}; {how}")
    raw = json.loads((root / INFO_FILE).read_text(encoding="utf-8"))
    if raw.get("format") != CLASSIFIER_FORMAT:
        raise UserError(f"{root / INFO_FILE} has format {raw.get('format')}, expected "
                        f"{CLASSIFIER_FORMAT}; {how}")
    norm = raw.get("normalization", {})
    known = {"format", "model", "resolution", "classes", "model_kwargs", "normalization"}
    info = ClassifierInfo(model=raw["model"], resolution=int(raw["resolution"]),
                          classes=list(raw["classes"]), model_kwargs=dict(raw["model_kwargs"]),
                          mean=list(norm.get("mean", [0.485, 0.456, 0.406])),
                          std=list(norm.get("std", [0.229, 0.224, 0.225])),
                          extra={k: v for k, v in raw.items() if k not in known})
    classifier = EmotionClassifier(info)
    classifier.net.load_state_dict(load_tensors(root / WEIGHTS_FILE), strict=True)
    return classifier.to(device).eval()


class EmoAMetric(TensorState):
    """Emo-A: percent of generated images classified as their prompt's emotion.

    ``compute()`` returns ``emo_a`` (percent of scored images), ``emo_a_scored`` and
    ``emo_a_skipped`` (items whose emotion is not among the classifier's classes), and
    ``emo_a_classifier_heldout`` (the classifier's own held-out accuracy, when recorded).
    """

    def __init__(self, classifier: EmotionClassifier, *, label: str = "emotion",
                 batch_size: int = 64) -> None:
        self.classifier = classifier.eval()
        self.label = label
        self.batch_size = batch_size
        self._index = {name: i for i, name in enumerate(classifier.info.classes)}
        self.correct: torch.Tensor
        self.scored: torch.Tensor
        self.skipped: torch.Tensor
        self.reset()

    #: Images classified as their prompt's emotion, images scored, prompts skipped.
    state_names: ClassVar[tuple[str, ...]] = ("correct", "scored", "skipped")
    state_label: ClassVar[str] = "emo-a"

    def initial_state(self) -> dict[str, torch.Tensor | RunningGaussian]:
        """Nothing scored yet."""
        return {name: torch.zeros((), dtype=torch.int64) for name in self.state_names}

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> list[str]:
        """The classifier's emotion for each image."""
        check_images(images)
        classes = self.classifier.info.classes
        out: list[str] = []
        for part in chunks(int(images.shape[0]), self.batch_size):
            out += [classes[i] for i in self.classifier(images[part]).argmax(dim=1).tolist()]
        return out

    def update(self, batch: EvalBatch) -> None:
        """Classify ``batch.images`` and compare with ``batch.labels[label]``."""
        check_images(batch.images, "EvalBatch.images")
        targets = self._targets(batch)
        keep = [i for i, target in enumerate(targets) if target >= 0]
        self.skipped += len(targets) - len(keep)
        if not keep:
            return
        predicted = self.predict(batch.images[keep])
        hits = sum(self._index[p] == targets[i] for p, i in zip(predicted, keep, strict=True))
        self.correct += hits
        self.scored += len(keep)

    def compute(self) -> dict[str, float]:
        """``emo_a`` in percent, the scored and skipped counts, the classifier's own accuracy."""
        scored = int(self.scored)
        if scored == 0:
            raise ValueError(f"emo-a scored no image: none of the {int(self.skipped)} prompts' "
                             f"'{self.label}' labels is one of {self.classifier.info.classes}")
        values = {"emo_a": 100.0 * int(self.correct) / scored, "emo_a_scored": float(scored),
                  "emo_a_skipped": float(int(self.skipped))}
        heldout = self.classifier.info.extra.get("heldout_accuracy")
        if isinstance(heldout, int | float):
            values["emo_a_classifier_heldout"] = float(heldout)
        return values

    def _targets(self, batch: EvalBatch) -> list[int]:
        if self.label not in batch.labels:
            raise ValueError(f"emo-a needs EvalBatch.labels[{self.label!r}] (the prompts' "
                             f"emotions); the batch has {sorted(batch.labels) or 'no labels'}")
        values: Sequence[str] = list(batch.labels[self.label])
        if len(values) != int(batch.images.shape[0]):
            raise ValueError(f"EvalBatch.labels[{self.label!r}] has {len(values)} values for "
                             f"{int(batch.images.shape[0])} images")
        return [self._index.get(canonical_emotion(value), -1) for value in values]


def build_emo_a(config: EmoAConfig) -> EmoAMetric:
    """The registry's factory: the classifier saved in ``config.classifier``."""
    classifier = load_classifier(config.classifier, device=config.device)
    return EmoAMetric(classifier, label=config.label, batch_size=config.batch_size)
