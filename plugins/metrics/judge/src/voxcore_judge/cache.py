"""The trained-judge cache: content-addressed, safetensors weights plus a small JSON.

An entry lives in ``<cache_dir>/<key>/``: ``judge.safetensors`` (the classifier's state) and
``judge.json`` (label vocabularies, architecture, held-out accuracy, training config). The key
hashes the bytes and labels of every training image, in order, and the config fields that
shape the classifier (:data:`voxcore_judge.TRAINING_FIELDS`), so editing an image, relabelling
one or changing the recipe trains a new judge, while moving the dataset does not. Both files
are written atomically, the JSON last, so an entry is used only when it is complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from voxcore.plugin_api import Sample, load_tensors, save_tensors, write_text_atomic
from voxcore_judge import JudgeConfig
from voxcore_judge.classifier import JudgeClassifier

__all__ = ["CACHE_FORMAT", "CachedJudge", "cache_key", "load_cached", "save_cached"]

#: Bumped whenever what an entry holds, how the key is made or how a judge is trained changes.
CACHE_FORMAT = 1

_WEIGHTS = "judge.safetensors"
_INFO = "judge.json"

logger = logging.getLogger(__name__)

CachedJudge = tuple[JudgeClassifier, dict[str, Any]]


def cache_key(samples: Sequence[Sample], config: JudgeConfig) -> str:
    """Hex digest of the training images' bytes and labels and the training config."""
    digest = hashlib.sha256()
    header = {"format": CACHE_FORMAT, "config": config.training_config()}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for sample in samples:
        if sample.image is None:
            raise ValueError(f"training sample {sample.id!r} has no image")
        digest.update(hashlib.sha256(Path(sample.image).read_bytes()).digest())
        labels = [sample.labels.get(label) for label in config.labels]
        digest.update(json.dumps(labels).encode())
    return digest.hexdigest()[:32]


def save_cached(folder: Path, classifier: JudgeClassifier, info: dict[str, Any]) -> None:
    """Write an entry (weights, then JSON) into ``folder``."""
    save_tensors(folder / _WEIGHTS, classifier.state_dict())
    versions = {name: _version(name) for name in ("torch", "timm", "voxcore-judge")}
    write_text_atomic(folder / _INFO,
                      json.dumps({"format": CACHE_FORMAT, **info, "versions": versions},
                                 indent=2, sort_keys=True) + "\n")


def load_cached(folder: Path, device: str) -> CachedJudge | None:
    """The classifier and info of the entry in ``folder``, or ``None`` if there is none.

    An unreadable or mismatching entry is logged and treated as absent, so it is retrained
    and overwritten.
    """
    info_path = folder / _INFO
    if not info_path.is_file():
        return None
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        if info.get("format") != CACHE_FORMAT:
            raise ValueError(f"cache format {info.get('format')}, expected {CACHE_FORMAT}")
        heads = {label: len(values) for label, values in info["vocab"].items()}
        classifier = JudgeClassifier(info["model"], heads, info["resolution"],
                                     info["model_kwargs"], info["color_invariant"])
        classifier.load_state_dict(load_tensors(folder / _WEIGHTS), strict=True)
    except Exception as exc:  # any broken entry (even a corrupt safetensors) means: retrain
        logger.warning("ignoring unusable judge cache entry %s (%s); training again", folder, exc)
        return None
    return classifier.to(device).eval(), info


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"
