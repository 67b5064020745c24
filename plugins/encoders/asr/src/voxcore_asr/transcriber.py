"""Whisper speech recognition: waveforms in, transcripts out (the first half of the cascade).

A frozen :class:`~transformers.WhisperForConditionalGeneration` (safetensors only) decodes each
utterance with ``generate`` (greedy or beam search), batched; every utterance is padded to
Whisper's 30 s window on its own, so a transcript does not depend on what else is in its batch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import torch
from transformers import (
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
    WhisperTokenizer,
)
from voxcore_whisper import refuse_pickled, refuse_too_long, resolve_whisper_checkpoint

from voxcore.plugin_api import UserError, Waveform, folder_fingerprint, to_mono_batch
from voxcore_asr import AsrConfig
from voxcore_asr.clip_text import DTYPES

__all__ = ["WhisperTranscriber", "load_transcriber", "language_code", "CHECKPOINT_FILES"]

#: The files of a Whisper checkpoint the transcriber reads (and downloads, when it has to).
CHECKPOINT_FILES = ("config.json", "generation_config.json", "preprocessor_config.json",
                    "model.safetensors", "model.safetensors.index.json", "model-*.safetensors",
                    "vocab.json", "merges.txt", "normalizer.json", "added_tokens.json",
                    "special_tokens_map.json", "tokenizer_config.json")


class WhisperTranscriber:
    """Transcribes waveforms with a frozen Whisper model (not an ``nn.Module`` on purpose).

    It is kept out of the module tree of whatever holds it, so Whisper's weights never enter a
    trainable state dict; move it with :meth:`to`. ``fingerprint`` identifies the weights and
    the generation settings (see :attr:`fingerprint`).
    """

    def __init__(self, config: AsrConfig, model: WhisperForConditionalGeneration,
                 feature_extractor: WhisperFeatureExtractor, tokenizer: WhisperTokenizer,
                 weights_fingerprint: str = "") -> None:
        self.config = config
        self.model = model.to(DTYPES[config.dtype]).eval().requires_grad_(False)
        self.feature_extractor = feature_extractor
        self.tokenizer = tokenizer
        self.sample_rate: int = int(feature_extractor.sampling_rate)
        self.window_samples: int = int(feature_extractor.n_samples)
        self.weights_fingerprint = weights_fingerprint
        self.multilingual = _is_multilingual(model)
        # The decoder prompt (start, language, task, no-timestamps) takes up to 4 positions.
        positions = int(model.config.max_target_positions)
        #: ``config.max_new_tokens``, capped so that prompt + output fit Whisper's positions.
        self.max_new_tokens: int = max(1, min(config.max_new_tokens, positions - 4))
        settings = {"weights": weights_fingerprint, "language": self.language,
                    "task": self.task, "max_new_tokens": self.max_new_tokens,
                    "num_beams": config.num_beams, "dtype": config.dtype}
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
        #: Hash of the weights fingerprint and every setting that changes a transcript.
        self.fingerprint: str = digest[:16]

    @property
    def language(self) -> str | None:
        """The language code passed to ``generate`` (``None`` for English-only checkpoints and
        for detection): ``config.language`` with names such as 'English' turned into codes."""
        if not self.multilingual or self.config.language is None:
            return None
        return language_code(self.config.language)

    @property
    def task(self) -> str | None:
        """The task passed to ``generate`` (``None`` for English-only checkpoints)."""
        return self.config.task if self.multilingual else None

    @property
    def device(self) -> torch.device:
        """Where Whisper's weights are."""
        weight: torch.Tensor = self.model.model.encoder.conv1.weight
        return weight.device

    def to(self, device: torch.device | str) -> WhisperTranscriber:
        """Move Whisper to ``device`` (its dtype stays the configured one)."""
        self.model.to(device)
        return self

    def transcribe(self, waveforms: Sequence[Waveform]) -> list[str]:
        """One transcript per utterance (up to 30 s each, any rate and channel count)."""
        waveforms = list(waveforms)
        if not waveforms:
            return []
        texts: list[str] = []
        size = self.config.batch_size
        for start in range(0, len(waveforms), size):
            texts.extend(self._transcribe_batch(waveforms[start:start + size], start))
        return texts

    def _transcribe_batch(self, waveforms: list[Waveform], offset: int) -> list[str]:
        batch, lengths = to_mono_batch(waveforms, self.sample_rate)
        refuse_too_long(lengths, self.window_samples, self.sample_rate,
                        "the asr encoder transcribes", offset)
        arrays = [row[:n].cpu().numpy() for row, n in zip(batch, lengths.tolist(), strict=True)]
        inputs = self.feature_extractor(arrays, sampling_rate=self.sample_rate,
                                        return_tensors="pt", padding="max_length")
        features = inputs["input_features"].to(device=self.device,
                                               dtype=self.model.model.encoder.conv1.weight.dtype)
        options: dict[str, Any] = {"max_new_tokens": self.max_new_tokens,
                                   "num_beams": self.config.num_beams, "do_sample": False}
        if self.multilingual:
            options["task"] = self.task
            if self.language is not None:
                options["language"] = self.language
        with torch.no_grad():
            ids = self.model.generate(features, **options)
        decoded: list[str] = self.tokenizer.batch_decode(ids, skip_special_tokens=True)
        return [text.strip() for text in decoded]


def language_code(language: str) -> str:
    """Whisper's code of a language given by code or name (``'English'`` -> ``'en'``)."""
    from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE

    lowered = language.strip().lower()
    return str(TO_LANGUAGE_CODE.get(lowered, lowered))


def _is_multilingual(model: WhisperForConditionalGeneration) -> bool:
    generation = model.generation_config
    flag = getattr(generation, "is_multilingual", None)
    if flag is not None:
        return bool(flag)
    return bool(getattr(generation, "lang_to_id", None))


def load_transcriber(config: AsrConfig) -> WhisperTranscriber:
    """Load the Whisper checkpoint ``config.model`` names, frozen and in eval mode."""
    folder, _, extractor = resolve_whisper_checkpoint(
        config.model, revision=config.revision, cache_dir=config.cache_dir,
        allow_patterns=CHECKPOINT_FILES)
    if not ((folder / "model.safetensors").is_file()
            or (folder / "model.safetensors.index.json").is_file()):
        raise refuse_pickled(folder, "model.safetensors")
    for name in ("vocab.json", "merges.txt"):
        if not (folder / name).is_file():
            raise UserError(f"Whisper checkpoint {folder} has no {name} (its tokenizer); the asr "
                            "encoder needs the tokenizer to turn generated tokens into text. "
                            "Save it next to the model (WhisperProcessor.save_pretrained)")
    tokenizer = WhisperTokenizer.from_pretrained(folder)
    model = WhisperForConditionalGeneration.from_pretrained(
        folder, use_safetensors=True, dtype=DTYPES[config.dtype])
    transcriber = WhisperTranscriber(config, model, extractor, tokenizer,
                                     folder_fingerprint(folder, CHECKPOINT_FILES))
    if config.language is not None and transcriber.multilingual:
        languages = getattr(model.generation_config, "lang_to_id", None) or {}
        known = {token.strip("<|>") for token in languages}
        if known and transcriber.language not in known:
            raise UserError(f"encoder.config.language={config.language!r} is not a language of "
                            f"Whisper checkpoint {config.model!r}; it knows "
                            f"{', '.join(sorted(known))}")
    return transcriber
