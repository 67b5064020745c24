"""Training a :class:`~voxcore_ctc.recognizer.WordRecognizer` on a dataset's speech and
transcripts (``voxcore train-recognizer``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from voxcore_mel import MelConfig, MelEncoder

from voxcore.plugin_api import AudioError, Sample, UserError, get_registry, load_audio, pad_features
from voxcore_ctc import RecognizerTraining
from voxcore_ctc.recognizer import (
    RecognizerSpec,
    WordRecognizer,
    greedy_words,
    save_recognizer,
    transcript_words,
    vocabulary_of,
)

__all__ = ["Utterances", "collect_utterances", "pad_mel", "recognition_accuracy",
           "train_recognizer", "usable_samples", "utterances_of"]

log = logging.getLogger(__name__)

_ENCODE_BATCH = 64


@dataclass(frozen=True)
class Utterances:
    """Mel features of utterances (one ``[frames, n_mels]`` tensor each) and their words."""

    features: list[torch.Tensor]
    words: list[list[str]]
    source: str

    def __len__(self) -> int:
        return len(self.features)


def collect_utterances(name: str, options: dict[str, Any], mel: MelConfig) -> Utterances:
    """The (audio, transcript) samples of a registered dataset, as mel features and words."""
    dataset = get_registry("dataset").get(name).build(options)
    samples = [dataset[index] for index in range(len(dataset))]
    return utterances_of(samples, mel, f"dataset {name} {options}")


def usable_samples(samples: Sequence[Sample]) -> list[Sample]:
    """The samples with both audio and a transcript of at least one word."""
    return [s for s in samples if s.audio is not None and transcript_words(s.transcript or "")]


def utterances_of(samples: Sequence[Sample], mel: MelConfig, source: str) -> Utterances:
    """Mel features and words of the usable ``samples`` (see :func:`usable_samples`)."""
    usable = usable_samples(samples)
    if not usable:
        raise UserError(f"{source} has no samples with both audio and a transcript "
                        f"({len(samples)} samples); a recogniser needs both")
    encoder = MelEncoder(mel)
    features: list[torch.Tensor] = []
    for start in range(0, len(usable), _ENCODE_BATCH):
        features.extend(_encode(encoder, usable[start:start + _ENCODE_BATCH]))
    words = [transcript_words(s.transcript or "") for s in usable]
    return Utterances(features, words, source)


def _encode(encoder: MelEncoder, samples: Sequence[Sample]) -> list[torch.Tensor]:
    waveforms = []
    for sample in samples:
        assert sample.audio is not None
        try:
            waveforms.append(load_audio(sample.audio))
        except AudioError as exc:
            raise UserError(f"sample {sample.id!r}: {exc}") from None
    with torch.no_grad():
        encoded = encoder.encode(waveforms)
    return [row[valid] for row, valid in zip(encoded.features, encoded.mask, strict=True)]


def pad_mel(rows: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack ``[frames, n_mels]`` rows into ``[B, N, n_mels]`` zero-padded, and the mask."""
    batch = pad_features(rows, frame_rate=1.0)
    return batch.features, batch.mask


def train_recognizer(train: Utterances, heldout: Utterances | None,
                     options: RecognizerTraining, out: Path) -> RecognizerSpec:
    """Train with CTC on ``train`` (batches drawn at random), measure word and sentence
    accuracy on ``heldout``, save to ``out`` and return the saved spec."""
    torch.manual_seed(options.seed)
    vocabulary = vocabulary_of([" ".join(words) for words in train.words])
    ids = {word: index + 1 for index, word in enumerate(vocabulary)}
    spec = RecognizerSpec(vocabulary=vocabulary, mel=options.mel, width=options.width,
                          num_layers=options.num_layers, num_heads=options.num_heads,
                          trained_on=train.source)
    model = WordRecognizer(spec)
    optimizer = torch.optim.AdamW(model.parameters(), lr=options.lr)
    draws = torch.Generator().manual_seed(options.seed)
    targets = [[ids[word] for word in words] for words in train.words]
    started = time.perf_counter()
    model.train()
    for step in range(1, options.steps + 1):
        chosen = torch.randint(0, len(train), (options.batch_size,), generator=draws).tolist()
        mel, mask = pad_mel([train.features[i] for i in chosen])
        logits, out_mask = model(mel, mask)
        wanted = [targets[i] for i in chosen]
        loss = F.ctc_loss(logits.log_softmax(-1).transpose(0, 1),
                          torch.tensor([word for row in wanted for word in row]),
                          out_mask.sum(dim=1), torch.tensor([len(row) for row in wanted]),
                          blank=0, zero_infinity=True)
        optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        optimizer.step()
        if step % 100 == 0 or step == options.steps:
            log.info("step %d/%d: CTC loss %.3f (%.0f s)", step, options.steps, loss.item(),
                     time.perf_counter() - started)
    model.eval()
    figures = {"train_seconds": round(time.perf_counter() - started, 1)}
    if heldout is not None and len(heldout):
        figures.update(recognition_accuracy(model, heldout))
    spec = spec.model_copy(update={"heldout": figures})
    model.spec = spec
    save_recognizer(model, out)
    return spec


@torch.no_grad()
def recognition_accuracy(model: WordRecognizer, data: Utterances) -> dict[str, float]:
    """Percent of utterances transcribed exactly, and of reference words recognised (each
    distinct word of an utterance counts once)."""
    vocabulary = model.spec.vocabulary
    exact = found = total = 0
    for start in range(0, len(data), _ENCODE_BATCH):
        mel, mask = pad_mel(data.features[start:start + _ENCODE_BATCH])
        logits, out_mask = model(mel, mask)
        for heard, reference in zip(greedy_words(logits, out_mask),
                                    data.words[start:start + _ENCODE_BATCH], strict=True):
            words = [vocabulary[i - 1] for i in heard]
            exact += words == reference
            found += len(set(words) & set(reference))
            total += len(set(reference))
    return {"utterances": float(len(data)),
            "exact_transcripts_percent": 100.0 * exact / len(data),
            "words_recognised_percent": 100.0 * found / max(total, 1)}
