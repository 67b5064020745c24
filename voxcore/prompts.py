"""What a model is conditioned on for each sample: the one place that turns samples into a
model's inputs, for speech, text and cascade models alike.

- a speech model gets its frozen encoder's features, from the feature cache (computed the
  first time, :mod:`voxcore.caches.features`);
- a cascade (a text encoder that can hear, :class:`~voxcore.interfaces.Transcriber`) gets
  what its recogniser heard in the audio, from the transcript cache (so training sees the
  recognition errors inference will);
- a text model gets the samples' transcripts.

Training, evaluation, the ablation grid and the quickstart report all go through
:func:`prompt_inputs`, then :meth:`PromptInputs.features` / :meth:`PromptInputs.texts_at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from voxcore.batching import pad_features
from voxcore.caches.content import PRELOAD_BYTES, CachedRows
from voxcore.caches.features import FeatureCache
from voxcore.caches.transcripts import TranscriptCache
from voxcore.errors import UserError
from voxcore.inference import generate_images
from voxcore.interfaces import Sample, SpeechFeatures
from voxcore.model import VoxModel
from voxcore.recipe import BoundComponent
from voxcore.recipe.schema import GenerateSection

__all__ = ["PromptInputs", "audio_paths", "generate_for", "prompt_inputs"]


@dataclass(frozen=True)
class PromptInputs:
    """Each sample's model input: cached speech ``rows`` (one ``[n_i, D]`` tensor each, read
    from disk when they do not fit in memory) or ``texts``."""

    rows: CachedRows | None
    texts: list[str] | None
    frame_rate: float

    def __len__(self) -> int:
        return len(self.texts) if self.texts is not None else len(self.rows or [])

    def features(self, indices: Sequence[int]) -> SpeechFeatures:
        """The padded speech features of the samples at ``indices``."""
        if self.rows is None:
            raise ValueError("these inputs are texts, not speech features")
        return pad_features(self.rows.rows(indices), self.frame_rate)

    def texts_at(self, indices: Sequence[int]) -> list[str]:
        """The texts of the samples at ``indices``."""
        if self.texts is None:
            raise ValueError("these inputs are speech features, not texts")
        return [self.texts[i] for i in indices]


def audio_paths(samples: Sequence[Sample], needed_by: str) -> list[Path]:
    """The audio file of each sample; a sample without one is a :class:`UserError`."""
    paths = []
    for sample in samples:
        if sample.audio is None:
            raise UserError(f"sample {sample.id!r} has no audio, which {needed_by} needs")
        paths.append(sample.audio)
    return paths


def prompt_inputs(model: VoxModel, encoder: BoundComponent, cache_root: Path,
                  samples: Sequence[Sample], *, preload_bytes: int = PRELOAD_BYTES,
                  log_summary: bool = True) -> PromptInputs:
    """The inputs ``model`` is conditioned on for ``samples`` (``encoder`` is the recipe's
    encoder section, which keys the caches under ``cache_root``)."""
    if model.transcriber is not None:
        heard = TranscriptCache(cache_root, encoder, model.transcriber).transcripts(
            audio_paths(samples, "the cascade's speech recognizer"), log_summary=log_summary)
        return PromptInputs(None, heard, 1.0)
    if model.modality == "text":
        texts = []
        for sample in samples:
            if not sample.transcript:
                raise UserError(f"sample {sample.id!r} has no transcript, which the text "
                                "encoder needs")
            texts.append(sample.transcript)
        return PromptInputs(None, texts, 1.0)
    assert model.speech_encoder is not None
    filled, frame_rate = FeatureCache(cache_root, encoder).fill(
        audio_paths(samples, "the speech encoder"), model.speech_encoder,
        log_summary=log_summary)
    return PromptInputs(CachedRows(filled.entries, "features", preload_bytes=preload_bytes),
                        None, frame_rate)


def generate_for(model: VoxModel, inputs: PromptInputs, settings: GenerateSection, seed: int,
                 indices: Sequence[int] | None = None) -> torch.Tensor:
    """Images for the samples at ``indices`` (all by default) of ``inputs``."""
    chosen = list(range(len(inputs))) if indices is None else list(indices)
    if inputs.texts is not None:
        return generate_images(model, settings, seed, texts=inputs.texts_at(chosen))
    return generate_images(model, settings, seed, features=inputs.features(chosen))
