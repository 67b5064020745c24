"""The ``ctc-words`` encoder's preparation: training its word recogniser on ``train_data``.

The artefact is what ``voxcore train-recognizer`` writes, kept in ``<cache_dir>/<key>/``. The
key hashes the training settings and, in order, the bytes of every training utterance's audio
and its transcript, so new audio, other transcripts or other settings train a new recogniser,
while moving the dataset does not. voxcore runs :meth:`RecognizerPreparation.prepare` into a
temporary folder and renames it into place, so a half-written recogniser is never used.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Any

from voxcore.plugin_api import Sample, cache_beside, get_registry
from voxcore_ctc import CtcWordsConfig, RecognizerTraining
from voxcore_ctc.recognizer import FORMAT

__all__ = ["CACHE_FOLDER", "RecognizerPreparation", "recognizer_key", "recognizer_preparation",
           "training_samples"]

CACHE_FOLDER = ".recognizer-cache"


def recognizer_key(samples: list[Sample], training: RecognizerTraining) -> str:
    """Hex digest of the training settings and every sample's audio bytes and transcript."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"format": FORMAT, "training": training.model_dump()},
                             sort_keys=True).encode())
    for sample in samples:
        assert sample.audio is not None
        digest.update(hashlib.sha256(Path(sample.audio).read_bytes()).digest())
        digest.update(json.dumps(sample.transcript).encode())
    return digest.hexdigest()[:32]


def training_samples(config: CtcWordsConfig) -> tuple[Any, list[Sample]]:
    """The ``train_data`` dataset and its samples with both audio and words."""
    from voxcore_ctc.train import usable_samples

    assert config.train_data is not None
    spec = config.train_data
    dataset = get_registry("dataset").get(spec.name).build(spec.config)
    return dataset, usable_samples([dataset[index] for index in range(len(dataset))])


class RecognizerPreparation:
    """Trains the word recogniser of a ``ctc-words`` config with ``train_data``."""

    description = "word recogniser"

    def __init__(self, config: CtcWordsConfig) -> None:
        self.config = config

    @cached_property
    def _data(self) -> tuple[Any, list[Sample]]:
        return training_samples(self.config)

    def cache_folder(self) -> Path:
        """``<cache_dir>/<key>``: ``cache_dir`` or ``.recognizer-cache`` beside the dataset's
        manifest (else ``~/.cache/voxcore/recognizer``)."""
        dataset, samples = self._data
        cache_dir = cache_beside(dataset, CACHE_FOLDER, "recognizer", self.config.cache_dir)
        return cache_dir / recognizer_key(samples, self.config.training)

    def prepare(self, folder: Path) -> dict[str, float]:
        """Train on ``train_data`` (measured on ``heldout_data``) and save into ``folder``."""
        from voxcore_ctc.train import collect_utterances, train_recognizer, utterances_of

        config = self.config
        assert config.train_data is not None
        _, samples = self._data
        source = f"encoder.config.train_data (dataset {config.train_data.name})"
        train = utterances_of(samples, config.training.mel, source)
        heldout = None
        if config.heldout_data is not None:
            heldout = collect_utterances(config.heldout_data.name, config.heldout_data.config,
                                         config.training.mel)
        spec = train_recognizer(train, heldout, config.training, folder)
        return {**spec.heldout, "vocabulary": float(len(spec.vocabulary))}


def recognizer_preparation(config: CtcWordsConfig) -> RecognizerPreparation | None:
    """The preparation a config needs: none when it names a trained ``recognizer``."""
    return RecognizerPreparation(config) if config.recognizer is None else None
