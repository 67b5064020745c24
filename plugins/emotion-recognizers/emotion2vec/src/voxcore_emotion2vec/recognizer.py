"""The ``emotion2vec`` recognizer: emotion2vec+ (FunASR) as a voxcore SpeechEmotionRecognizer.

Building it finds the checkpoint folder and reads its labels (failing at once, offline, when
the weights are not there); the weights are loaded at the first utterance.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import torch

from voxcore.plugin_api import Waveform, folder_fingerprint, to_mono_batch
from voxcore_emotion2vec.config import Emotion2vecConfig
from voxcore_emotion2vec.inference import (
    SAMPLE_RATE,
    can_batch,
    label_logits,
    label_probabilities,
    normalised_batch,
)
from voxcore_emotion2vec.labels import LabelMap, label_map, read_labels
from voxcore_emotion2vec.sources import CHECKPOINT_FILES, checkpoint_folder

__all__ = ["Emotion2vecRecognizer", "build_emotion2vec_recognizer"]

#: Changes whenever this plugin computes different scores from the same weights.
_METHOD = "funasr-utterance-softmax/1"


class Emotion2vecRecognizer:
    """Scores utterances with an emotion2vec+ checkpoint (:class:`voxcore.plugin_api.
    SpeechEmotionRecognizer`).

    ``labels`` are the checkpoint's own classes; ``emotions`` the classes reported (see
    :mod:`voxcore_emotion2vec.labels`: the canonical emotions the labels name, then
    ``"other"`` for ``other`` and ``<unk>``); ``recognizer_fingerprint`` names the weights
    (file names, sizes and times), the label mapping, the precision and this scoring method.
    """

    emotions: Sequence[str]
    recognizer_fingerprint: str

    def __init__(self, config: Emotion2vecConfig, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self.label_map: LabelMap = label_map(read_labels(folder / "tokens.txt"))
        self.labels: tuple[str, ...] = self.label_map.labels
        self.emotions = self.label_map.emotions
        settings = {"weights": folder_fingerprint(folder, CHECKPOINT_FILES),
                    "labels": self.labels, "emotions": self.emotions,
                    "dtype": config.dtype, "method": _METHOD}
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
        self.recognizer_fingerprint = f"emotion2vec-{digest[:16]}"
        self._device = torch.device("cpu")
        self._model: Any = None
        # A group of targets per emotion: label probabilities [B, L] @ this [L, E].
        self._grouping = torch.zeros(len(self.labels), len(self.emotions))
        for index, target in enumerate(self.label_map.targets):
            if target is not None:
                self._grouping[index, target] = 1.0

    @property
    def model(self) -> Any:
        """FunASR's ``Emotion2vec`` module, loaded on first use."""
        if self._model is None:
            from voxcore_emotion2vec.loading import load_emotion2vec

            model = load_emotion2vec(self.folder, len(self.labels))
            self._model = model.to(device=self._device, dtype=getattr(torch, self.config.dtype))
        return self._model

    def to(self, device: str | torch.device) -> Self:
        """Run on ``device`` from now on (the weights move when loaded or already are)."""
        self._device = torch.device(device)
        if self._model is not None:
            self._model = self._model.to(self._device)
        return self

    def label_probabilities(self, waveforms: Sequence[Waveform]) -> torch.Tensor:
        """Float32 ``[B, len(labels)]`` on the CPU: each utterance's probability of each of the
        checkpoint's labels, the scores FunASR's ``generate(granularity="utterance")``
        gives (labels named ``unuse*`` get 0)."""
        if not waveforms:
            return torch.zeros(0, len(self.labels))
        model = self.model
        mono, lengths = to_mono_batch(list(waveforms), SAMPLE_RATE)
        waves = [mono[index, : int(length)] for index, length in enumerate(lengths)]
        batch_size = self.config.batch_size if can_batch(model) else 1
        # Similar lengths together waste least on padding; results do not depend on it.
        order = sorted(range(len(waves)), key=lambda index: waves[index].shape[0])
        scores = torch.empty(len(waves), len(self.labels))
        dtype = getattr(torch, self.config.dtype)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chosen = order[start:start + batch_size]
                batch, real = normalised_batch(model, [waves[index] for index in chosen])
                logits = label_logits(model, batch.to(device=self._device, dtype=dtype), real)
                scores[chosen] = label_probabilities(logits, self.label_map.unused).cpu()
        return scores

    def emotion_probabilities(self, waveforms: Sequence[Waveform]) -> torch.Tensor:
        """Float32 ``[B, len(emotions)]`` on the CPU: each utterance's probability of each
        emotion (rows sum to 1), for waveforms of any rate, length and channel count."""
        return self.label_probabilities(waveforms) @ self._grouping


def build_emotion2vec_recognizer(config: Emotion2vecConfig) -> Emotion2vecRecognizer:
    """The registered factory: finds the checkpoint (a
    :class:`~voxcore.plugin_api.PretrainedNotFoundError` saying what to download when it is
    not available) and reads its labels; the weights load at the first utterance."""
    return Emotion2vecRecognizer(config, checkpoint_folder(config))
