"""Getting a trained judge: load it, or train and cache it, then vouch for it.

:class:`JudgePreparation` is the metric's preparation step (what ``voxcore prepare`` and
``voxcore train`` run); :func:`load_judge` reads a prepared judge; :func:`obtain_judge` loads
or trains one for samples in hand (the Python API, :meth:`JudgeMetric.from_samples`).
:func:`check_real_accuracy` warns or raises when the judge is not accurate enough on
held-out real images for its verdicts on generated images to mean anything.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from voxcore.plugin_api import Sample, UserError, cache_beside, get_registry
from voxcore_judge import JudgeConfig
from voxcore_judge.cache import cache_key, load_cached, save_cached
from voxcore_judge.classifier import JudgeClassifier
from voxcore_judge.train import load_labelled, train_judge

__all__ = ["Judge", "JudgePreparation", "LowJudgeAccuracyError", "LowJudgeAccuracyWarning",
           "check_real_accuracy", "default_cache_dir", "judge_preparation", "load_judge",
           "obtain_judge"]

logger = logging.getLogger(__name__)

CACHE_FOLDER = ".judge-cache"


class LowJudgeAccuracyWarning(UserWarning):
    """The judge is less accurate on held-out real images than ``min_real_accuracy``."""


class LowJudgeAccuracyError(UserError):
    """As :class:`LowJudgeAccuracyWarning`, raised when ``on_low_accuracy="raise"``."""


@dataclass(frozen=True)
class Judge:
    """A trained classifier, its label vocabularies and its accuracy on held-out real images.

    ``real_accuracy`` is in percent per label key; ``key`` is the cache key it is stored
    under and ``folder`` its cache entry; ``trained`` says whether this process trained it
    (``False``: loaded from ``folder``); ``info`` is the entry's JSON (architecture,
    vocabularies, training figures).
    """

    classifier: JudgeClassifier
    vocab: dict[str, list[str]]
    real_accuracy: dict[str, float]
    key: str
    trained: bool
    folder: Path
    info: dict[str, Any]


def default_cache_dir(dataset: object = None) -> Path:
    """``.judge-cache`` beside the dataset's manifest (its ``path``), else the user cache.

    The user cache is ``$XDG_CACHE_HOME/voxcore/judge`` (``~/.cache/voxcore/judge``).
    """
    return cache_beside(dataset, CACHE_FOLDER, "judge")


def obtain_judge(samples: Sequence[Sample], config: JudgeConfig, cache_dir: Path) -> Judge:
    """Load the judge for ``samples`` and ``config`` from ``cache_dir``, or train and cache it.

    A cache that cannot be written is logged as a warning; the freshly trained judge is still
    returned. The judge's held-out accuracy is then checked with :func:`check_real_accuracy`.
    """
    key = cache_key(samples, config)
    folder = cache_dir / key
    cached = load_cached(folder, config.device)
    if cached is not None:
        classifier, info = cached
        judge = Judge(classifier, info["vocab"], info["real_accuracy"], key, False, folder, info)
        logger.info("loaded judge %s from %s (held-out real accuracy %s)", key, folder,
                    _percentages(judge.real_accuracy))
    else:
        judge = _train(samples, config, key, folder)
    check_real_accuracy(judge.real_accuracy, config)
    return judge


def load_judge(folder: Path, config: JudgeConfig) -> Judge:
    """The judge prepared in ``folder``, checked with :func:`check_real_accuracy`."""
    cached = load_cached(folder, config.device)
    if cached is None:
        raise UserError(f"{folder} holds no usable judge (judge.safetensors and judge.json); "
                        "prepare it again with 'voxcore prepare RECIPE'")
    classifier, info = cached
    judge = Judge(classifier, info["vocab"], info["real_accuracy"], str(info["key"]), False,
                  folder, info)
    check_real_accuracy(judge.real_accuracy, config)
    return judge


class JudgePreparation:
    """Trains the judge of a config on its ``train_data`` (the metric's preparation)."""

    description = "judge classifier"

    def __init__(self, config: JudgeConfig) -> None:
        self.config = config

    @cached_property
    def _data(self) -> tuple[Any, list[Sample]]:
        spec = self.config.train_data
        dataset = get_registry("dataset").get(spec.name).build(spec.config)
        return dataset, [dataset[index] for index in range(len(dataset))]

    @cached_property
    def key(self) -> str:
        """The cache key of the training images, labels and settings."""
        return cache_key(self._data[1], self.config)

    def cache_folder(self) -> Path:
        """``<cache_dir>/<key>``: ``cache_dir`` or ``.judge-cache`` beside the dataset's
        manifest (else ``~/.cache/voxcore/judge``)."""
        dataset, _ = self._data
        return cache_beside(dataset, CACHE_FOLDER, "judge", self.config.cache_dir) / self.key

    def prepare(self, folder: Path) -> dict[str, float]:
        """Train on the real images and save the judge into ``folder``."""
        judge = _train(self._data[1], self.config, self.key, folder)
        return {f"real_{label}_accuracy": value for label, value in judge.real_accuracy.items()}


def judge_preparation(config: JudgeConfig) -> JudgePreparation:
    """The registry's preparation factory: every judge is trained on its ``train_data``."""
    return JudgePreparation(config)


def check_real_accuracy(real_accuracy: dict[str, float], config: JudgeConfig) -> None:
    """Warn, or raise :class:`LowJudgeAccuracyError`, if any label is below the minimum."""
    low = {label: value for label, value in real_accuracy.items()
           if value < 100.0 * config.min_real_accuracy}
    if not low:
        return
    message = (f"the judge classifies held-out real images with only {_percentages(low)} "
               f"accuracy (min_real_accuracy is {100.0 * config.min_real_accuracy:g}%); its "
               "verdicts on generated images are unreliable: train it longer (epochs), on more "
               "images, or with a larger model")
    if config.on_low_accuracy == "raise":
        raise LowJudgeAccuracyError(message)
    warnings.warn(message, LowJudgeAccuracyWarning, stacklevel=3)


def _train(samples: Sequence[Sample], config: JudgeConfig, key: str, folder: Path) -> Judge:
    data = load_labelled(samples, config)
    result = train_judge(data, config)
    info: dict[str, Any] = {
        "key": key,
        "model": config.model,
        "model_kwargs": config.model_kwargs,
        "resolution": config.resolution,
        "color_invariant": config.color_invariant,
        "vocab": data.vocab,
        "feature_dim": result.classifier.feature_dim,
        "real_accuracy": result.real_accuracy,
        "num_train": result.num_train,
        "num_heldout": result.num_heldout,
        "train_seconds": round(result.seconds, 3),
        "training_config": config.training_config(),
    }
    logger.info("trained judge %s on %d real images in %.1f s (held-out real accuracy %s)",
                key, result.num_train, result.seconds, _percentages(result.real_accuracy))
    try:
        save_cached(folder, result.classifier, info)
    except OSError as exc:
        logger.warning("could not cache the judge in %s (%s); it will be trained again next "
                       "time", folder, exc)
    return Judge(result.classifier, data.vocab, result.real_accuracy, key, True, folder, info)


def _percentages(values: dict[str, float]) -> str:
    return ", ".join(f"{label} {value:.1f}%" for label, value in values.items())
