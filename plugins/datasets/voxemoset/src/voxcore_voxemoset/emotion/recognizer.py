"""The ``speech-emotion`` recognizer, built from its prepared (trained) classifier."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch

from voxcore.plugin_api import PreparationMissing, Waveform, file_digest, load_tensors
from voxcore_voxemoset.emotion.config import SpeechEmotionConfig
from voxcore_voxemoset.emotion.model import EmotionNet, log_mel_batch
from voxcore_voxemoset.emotion.train import INFO_FILE, WEIGHTS_FILE

__all__ = ["SpeechEmotionClassifier"]


class SpeechEmotionClassifier:
    """Implements :class:`voxcore.stages.SpeechEmotionRecognizer` with the trained
    :class:`~voxcore_voxemoset.emotion.model.EmotionNet` in ``prepared``."""

    def __init__(self, config: SpeechEmotionConfig, prepared: Path | None = None) -> None:
        if prepared is None:
            raise PreparationMissing("the speech-emotion recognizer needs its classifier "
                                     "prepared first: 'voxcore data voxemoset' prepares "
                                     "(trains) it before any work")
        info = json.loads((prepared / INFO_FILE).read_text(encoding="utf-8"))
        self.config = config
        self.emotions: list[str] = list(info["emotions"])
        self.n_mels = int(info["n_mels"])
        self.max_seconds = float(info["max_seconds"])
        self.heldout_accuracy = float(info["heldout_accuracy"])
        self.model = EmotionNet(self.n_mels, int(info["channels"]), len(self.emotions))
        self.model.load_state_dict(load_tensors(prepared / WEIGHTS_FILE))
        self.model.eval()
        self.recognizer_fingerprint = f"speech-emotion:{file_digest(prepared / WEIGHTS_FILE)}"

    def to(self, device: torch.device | str) -> SpeechEmotionClassifier:
        """Move the classifier to ``device``."""
        self.model.to(device)
        return self

    @torch.no_grad()
    def emotion_probabilities(self, waveforms: Sequence[Waveform]) -> torch.Tensor:
        """Softmax over :attr:`emotions` for each utterance, ``[B, len(emotions)]``."""
        device = next(self.model.parameters()).device
        rows = []
        # One utterance at a time: the network is small, and a score then never depends on
        # the batch, bit for bit (batched, float rounding moves the 7th decimal), so a
        # build split among processes equals one made in one.
        for wave in waveforms:
            frames, mask = log_mel_batch([wave], self.n_mels, self.max_seconds)
            logits = self.model(frames.to(device), mask.to(device))
            rows.append(torch.softmax(logits.float(), dim=1).cpu())
        return torch.cat(rows)
