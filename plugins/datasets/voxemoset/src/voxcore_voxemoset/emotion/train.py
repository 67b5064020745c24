"""Training the ``speech-emotion`` classifier: its preparation step.

:func:`speech_emotion_preparation` gives voxcore the :class:`SpeechEmotionPreparation` of a
config; voxcore runs it once per data and settings (cached) before the recognizer is built.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch
import torch.nn.functional as F

from voxcore.plugin_api import (
    ConfigProblem,
    UserError,
    Waveform,
    blame,
    build_component,
    load_audio,
    save_tensors,
    write_text_atomic,
)
from voxcore_voxemoset.emotion.config import SpeechEmotionConfig
from voxcore_voxemoset.emotion.model import EmotionNet, log_mel_batch
from voxcore_voxemoset.store import content_key

__all__ = ["INFO_FILE", "WEIGHTS_FILE", "LabelledSpeech", "SpeechEmotionPreparation",
           "speech_emotion_preparation"]

log = logging.getLogger(__name__)

WEIGHTS_FILE = "classifier.safetensors"
INFO_FILE = "classifier.json"


@dataclass(frozen=True)
class LabelledSpeech:
    """An utterance file, its emotion and whether it trains (else it measures)."""

    audio: Path
    emotion: str
    train: bool


def speech_emotion_preparation(config: SpeechEmotionConfig) -> SpeechEmotionPreparation:
    """The preparation of ``config`` (registered as the recognizer's ``prepare``)."""
    if config.train_voices is None and config.train_data is None:
        raise ConfigProblem("train_voices", "the speech-emotion recognizer learns from "
                                            "train_voices (reference-voice corpora) or "
                                            "train_data (a dataset); give one")
    return SpeechEmotionPreparation(config)


class SpeechEmotionPreparation:
    """Trains the classifier on the config's speech; implements voxcore's ``Preparation``."""

    description = "speech emotion classifier"

    def __init__(self, config: SpeechEmotionConfig) -> None:
        self.config = config

    @cached_property
    def speech(self) -> list[LabelledSpeech]:
        """The labelled utterances it learns from (train) and is measured on (held out)."""
        config = self.config
        found = _from_voices(config) if config.train_voices is not None else _from_data(config)
        kept = [s for s in found if s.emotion in config.emotions]
        trained = {s.emotion for s in kept if s.train}
        missing = [e for e in config.emotions if e not in trained]
        if missing:
            raise UserError(f"the speech-emotion recognizer has no training utterance of "
                            f"{', '.join(missing)}; give speech of every emotion it learns "
                            f"({', '.join(config.emotions)})")
        if config.max_per_emotion is not None:
            kept = _at_most(kept, config.max_per_emotion, config.seed)
        if not any(not s.train for s in kept):  # nothing held out: hold out one in ten
            rng = random.Random(config.seed)
            kept = [LabelledSpeech(s.audio, s.emotion, rng.random() >= 0.1) for s in kept]
        return kept

    def cache_folder(self) -> Path:
        """``CACHE/<key>``: the key covers the settings and every utterance's file."""
        config = self.config
        files = [(str(s.audio), s.audio.stat().st_size, s.emotion, s.train) for s in self.speech]
        key = content_key(json.dumps(config.training_config(), sort_keys=True),
                          json.dumps(files), length=24)
        root = Path(config.cache_dir) if config.cache_dir else \
            Path.home() / ".cache" / "voxcore" / "speech-emotion"
        return root / key

    def prepare(self, folder: Path) -> Mapping[str, float | int | str]:
        """Train, measure on the held-out speech, write the classifier into ``folder``."""
        config = self.config
        began = time.perf_counter()
        previous = torch.get_num_threads()
        if config.num_threads is not None:
            torch.set_num_threads(config.num_threads)
        try:
            model, accuracy, counts = _train(config, self.speech)
        finally:
            torch.set_num_threads(previous)
        save_tensors(folder / WEIGHTS_FILE, model.state_dict())
        info = {"format": 1, "emotions": config.emotions, "n_mels": config.n_mels,
                "channels": config.channels, "max_seconds": config.max_seconds,
                "heldout_accuracy": accuracy, **counts}
        write_text_atomic(folder / INFO_FILE, json.dumps(info, indent=2) + "\n")
        return {"heldout_accuracy_percent": round(100 * accuracy, 2), **counts,
                "train_seconds": round(time.perf_counter() - began, 1)}


def _from_voices(config: SpeechEmotionConfig) -> list[LabelledSpeech]:
    found = []
    for index, ref in enumerate(config.train_voices or []):
        corpus = build_component(ref, f"train_voices[{index}]")
        with blame(corpus.label, "listing its voices"):
            found += [LabelledSpeech(v.audio, v.emotion, v.split == "train")
                      for v in corpus.component.voices()]
    return found


def _from_data(config: SpeechEmotionConfig) -> list[LabelledSpeech]:
    assert config.train_data is not None
    found = []
    for split, trains in (("train", True), ("test", False)):
        ref = config.train_data.model_copy(update={"config": {**config.train_data.config,
                                                              "split": split}})
        try:
            dataset = build_component(ref, "train_data").component
        except UserError:
            if trains:
                raise
            continue  # no test split: one in ten of train is held out instead
        for index in range(len(dataset)):
            sample = dataset[index]
            label = sample.labels.get(config.label)
            if sample.audio is not None and label is not None:
                found.append(LabelledSpeech(Path(sample.audio), label, trains))
    return found


def _at_most(speech: Sequence[LabelledSpeech], count: int, seed: int) -> list[LabelledSpeech]:
    rng = random.Random(seed)
    kept: list[LabelledSpeech] = []
    for train in (True, False):
        for emotion in sorted({s.emotion for s in speech}):
            chosen = [s for s in speech if s.train == train and s.emotion == emotion]
            rng.shuffle(chosen)
            kept += chosen[:count]
    return kept


def _train(config: SpeechEmotionConfig, speech: Sequence[LabelledSpeech]
           ) -> tuple[EmotionNet, float, dict[str, int]]:
    torch.manual_seed(config.seed)
    index = {emotion: i for i, emotion in enumerate(config.emotions)}
    train = [s for s in speech if s.train]
    held = [s for s in speech if not s.train]
    log.info("training the speech emotion classifier on %d utterances (%d held out)",
             len(train), len(held))
    frames, mask = _features(train, config)
    labels = torch.tensor([index[s.emotion] for s in train])
    model = EmotionNet(config.n_mels, config.channels, len(config.emotions))
    valid = mask.unsqueeze(1).float()
    count = valid.sum(dim=(0, 2)).clamp(min=1.0)
    mean = (frames * valid).sum(dim=(0, 2)) / count
    variance = (((frames - mean[None, :, None]) ** 2) * valid).sum(dim=(0, 2)) / count
    model.mean.copy_(mean.unsqueeze(1))
    model.std.copy_((variance + 1e-5).sqrt().unsqueeze(1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=config.epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(config.seed)
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(train), generator=generator)
        for start in range(0, len(train), config.batch_size):
            chosen = order[start:start + config.batch_size]
            loss = F.cross_entropy(model(frames[chosen], mask[chosen]), labels[chosen])
            optimizer.zero_grad()
            torch.autograd.backward(loss)
            optimizer.step()
            schedule.step()
    model.eval()
    accuracy = _accuracy(model, held, config, index) if held else float("nan")
    return model, accuracy, {"train_utterances": len(train), "heldout_utterances": len(held)}


def _features(speech: Sequence[LabelledSpeech], config: SpeechEmotionConfig
              ) -> tuple[torch.Tensor, torch.Tensor]:
    waves: list[Waveform] = [load_audio(s.audio) for s in speech]
    return log_mel_batch(waves, config.n_mels, config.max_seconds)


@torch.no_grad()
def _accuracy(model: EmotionNet, speech: Sequence[LabelledSpeech], config: SpeechEmotionConfig,
              index: Mapping[str, int]) -> float:
    frames, mask = _features(speech, config)
    predicted = model(frames, mask).argmax(dim=1)
    labels = torch.tensor([index[s.emotion] for s in speech])
    return float((predicted == labels).float().mean())
