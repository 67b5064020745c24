"""Recognisers trained by the ``ctc-words`` encoder itself, cached by what they learn from.

An entry is ``<cache_dir>/<key>/`` holding what ``voxcore train-recognizer`` writes. The key
hashes the training settings and, in order, the bytes of every training utterance's audio and
its transcript, so new audio, other transcripts or other settings train a new recogniser,
while moving the dataset does not. An entry is written into a temporary folder and renamed
into place, so a half-written one is never used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path

from voxcore.data import cache_beside
from voxcore.interfaces import Sample
from voxcore_ctc import CtcWordsConfig, RecognizerTraining
from voxcore_ctc.recognizer import FORMAT, SPEC_FILE, WEIGHTS_FILE

__all__ = ["CACHE_FOLDER", "default_cache_dir", "obtain_recognizer", "recognizer_key"]

CACHE_FOLDER = ".recognizer-cache"

log = logging.getLogger(__name__)


def default_cache_dir(dataset: object) -> Path:
    """``.recognizer-cache`` beside the dataset's manifest (its ``path``), else the user
    cache ``$XDG_CACHE_HOME/voxcore/recognizer``."""
    return cache_beside(dataset, CACHE_FOLDER, "recognizer")


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


def obtain_recognizer(config: CtcWordsConfig) -> Path:
    """The folder of the recogniser ``config`` names, training and caching it if needed."""
    if config.recognizer is not None:
        return Path(config.recognizer).expanduser()
    assert config.train_data is not None
    from voxcore.plugins import get_registry
    from voxcore_ctc.train import usable_samples, utterances_of

    spec = config.train_data
    dataset = get_registry("dataset").get(spec.name).build(spec.config)
    samples = usable_samples([dataset[index] for index in range(len(dataset))])
    cache_dir = (Path(config.cache_dir).expanduser() if config.cache_dir is not None
                 else default_cache_dir(dataset))
    folder = cache_dir / recognizer_key(samples, config.training)
    if (folder / SPEC_FILE).is_file() and (folder / WEIGHTS_FILE).is_file():
        log.info("word recogniser: reusing %s", folder)
        return folder
    from voxcore_ctc.train import collect_utterances, train_recognizer

    source = f"encoder.config.train_data (dataset {spec.name})"
    train = utterances_of(samples, config.training.mel, source)
    heldout = None
    if config.heldout_data is not None:
        heldout = collect_utterances(config.heldout_data.name, config.heldout_data.config,
                                     config.training.mel)
    log.info("word recogniser: training on %d utterances of %s (cached in %s)", len(train),
             spec.name, folder)
    cache_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".training-", dir=cache_dir))
    try:
        trained = train_recognizer(train, heldout, config.training, scratch)
        try:
            scratch.rename(folder)
        except OSError:
            if not (folder / SPEC_FILE).is_file():  # not another process's finished entry
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("word recogniser: %s", json.dumps(trained.heldout))
    return folder
