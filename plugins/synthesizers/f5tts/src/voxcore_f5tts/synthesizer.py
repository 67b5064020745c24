"""The ``f5-tts`` synthesizer: F5-TTS speaking texts in the voice of reference utterances.

Built from an :class:`~voxcore_f5tts.F5TTSConfig`: every file is found when it is built (a
missing one fails at once, saying what to download), the weights are read on first use. Each
request follows f5-tts's inference: the reference is clipped and normalised
(:mod:`voxcore_f5tts.reference`), the text is cut into chunks that fit beside it and each
chunk's length estimated (:mod:`voxcore_f5tts.text`), the mels are sampled from the request's
seed (:mod:`voxcore_f5tts.sampling`), the reference part is removed, Vocos makes the audio and
the chunks are cross-faded. Chunks of all requests are sampled together, shortest first, in
batches of ``batch_size``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from voxcore.plugin_api import SynthesisRequest, UserError, Waveform, checking
from voxcore_f5tts.architectures import HOP_LENGTH, SAMPLE_RATE, architecture_of, build_cfm
from voxcore_f5tts.config import F5TTSConfig
from voxcore_f5tts.fingerprint import synthesizer_fingerprint
from voxcore_f5tts.loading import checkpoint_state, load_vocab, load_vocoder
from voxcore_f5tts.reference import PreparedReference, prepare_reference
from voxcore_f5tts.sampling import FlowItem, Guidance, frames_to_sample, sample_mels
from voxcore_f5tts.sources import resolve_files
from voxcore_f5tts.text import (
    chunk_frames,
    chunk_text,
    max_chunk_bytes,
    reference_text,
    spoken_reference,
    tokens,
)

__all__ = ["F5TTSSynthesizer"]

#: Prepared references kept in memory (a 12 s one is about 1 MB).
_CACHED_REFERENCES = 128


@dataclass(frozen=True)
class _Chunk:
    """One chunk of one request, ready to sample."""

    request: int
    item: FlowItem
    reference_frames: int
    rms: float


@dataclass
class _Model:
    cfm: Any  # f5-tts's CFM (an untyped torch module)
    vocoder: Any  # a Vocos (untyped torch module)
    vocab: dict[str, int]


class F5TTSSynthesizer:
    """Text to speech imitating a reference voice with F5-TTS (24 kHz mono)."""

    #: F5-TTS continues the reference: it must know the words spoken in it.
    needs_reference_transcripts: bool = True

    def __init__(self, config: F5TTSConfig) -> None:
        self.config = config
        self.architecture = architecture_of(config)
        self.files = resolve_files(config, download=not checking())
        self.synthesizer_fingerprint = synthesizer_fingerprint(config, self.architecture,
                                                               self.files)
        self.sample_rate = SAMPLE_RATE
        self._device = torch.device("cpu")
        self._model: _Model | None = None
        self._references: OrderedDict[tuple[str, int, int], PreparedReference] = OrderedDict()

    def to(self, device: str | torch.device) -> F5TTSSynthesizer:
        """Run on ``device`` (the weights move now if loaded, else when they are)."""
        self._device = torch.device(device)
        if self._model is not None:
            self._model.cfm.to(self._device)
            self._model.vocoder.to(self._device)
        return self

    def synthesize(self, requests: Sequence[SynthesisRequest]) -> list[Waveform]:
        """One 24 kHz mono waveform ``[1, T]`` per request, each from its own seed."""
        model = self._loaded()
        chunks = [chunk for index, request in enumerate(requests)
                  for chunk in self._chunks(index, request, model)]
        mels: dict[int, torch.Tensor] = {}
        order = sorted(range(len(chunks)), key=lambda k: chunks[k].item.noise.shape[0])
        guidance = Guidance(self.config.nfe_step, self.config.cfg_strength,
                            self.config.sway_sampling_coef)
        for start in range(0, len(order), self.config.batch_size):
            batch = order[start:start + self.config.batch_size]
            made = sample_mels(model.cfm, [chunks[k].item for k in batch], guidance)
            mels.update(zip(batch, made, strict=True))
        pieces: list[list[torch.Tensor]] = [[] for _ in requests]
        for index, chunk in enumerate(chunks):
            pieces[chunk.request].append(self._vocode(model, mels[index], chunk))
        return [Waveform(samples=self._cross_fade(parts).unsqueeze(0), sample_rate=SAMPLE_RATE)
                for parts in pieces]

    def _chunks(self, index: int, request: SynthesisRequest, model: _Model) -> list[_Chunk]:
        voice = request.reference
        if voice.transcript is None or not voice.transcript.strip():
            raise UserError(f"reference {voice.id!r} ({voice.audio}) has no transcript: F5-TTS "
                            "needs the words spoken in its reference (give the builder an asr "
                            "encoder to transcribe references)")
        prepared = self._reference(voice.audio)
        ref_text = reference_text(voice.transcript)
        texts = chunk_text(request.text, max_chunk_bytes(ref_text, prepared.seconds,
                                                         self.config.speed))
        texts = texts or [request.text.strip()]
        spoken = spoken_reference(ref_text)
        audio = prepared.audio.to(self._device)
        with torch.inference_mode():
            mel = model.cfm.mel_spec(audio).permute(0, 2, 1)[0].float()
        frames = audio.shape[-1] // HOP_LENGTH
        generator = torch.Generator().manual_seed(request.seed)
        chunks = []
        for text in texts:
            ids = tokens(spoken + text, model.vocab)
            total = frames_to_sample(chunk_frames(frames, spoken, text, self.config.speed),
                                     len(ids), mel.shape[0])
            noise = torch.randn(total, mel.shape[1], generator=generator)
            item = FlowItem(reference=mel, tokens=torch.tensor(ids, dtype=torch.long),
                            noise=noise)
            chunks.append(_Chunk(index, item, frames, prepared.rms))
        return chunks

    def _vocode(self, model: _Model, mel: torch.Tensor, chunk: _Chunk) -> torch.Tensor:
        generated = mel[chunk.reference_frames:].T.unsqueeze(0)
        with torch.inference_mode():
            wave: torch.Tensor = model.vocoder.decode(generated)
        if chunk.rms < self.config.target_rms:
            wave = wave * chunk.rms / self.config.target_rms
        return wave.squeeze(0).float().cpu()

    def _cross_fade(self, parts: list[torch.Tensor]) -> torch.Tensor:
        """The chunks joined with f5-tts's linear cross-fade."""
        wave = parts[0]
        for part in parts[1:]:
            overlap = min(int(self.config.cross_fade_duration * SAMPLE_RATE), len(wave),
                          len(part))
            if overlap <= 0:
                wave = torch.cat([wave, part])
                continue
            fade = torch.linspace(0, 1, overlap, dtype=torch.float64)
            mixed = wave[-overlap:] * (1 - fade) + part[:overlap] * fade
            wave = torch.cat([wave[:-overlap], mixed.float(), part[overlap:]])
        return wave

    def _reference(self, path: Path) -> PreparedReference:
        stat = Path(path).stat()
        key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
        if key in self._references:
            self._references.move_to_end(key)
            return self._references[key]
        prepared = prepare_reference(Path(path), max_seconds=self.config.max_reference_seconds,
                                     target_rms=self.config.target_rms)
        self._references[key] = prepared
        if len(self._references) > _CACHED_REFERENCES:
            self._references.popitem(last=False)
        return prepared

    def _loaded(self) -> _Model:
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self) -> _Model:
        vocab = load_vocab(self.files.vocab)
        cfm = build_cfm(self.architecture, vocab)
        state = checkpoint_state(self.files.checkpoint)
        expected = set(cfm.state_dict())
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        shapes = [key for key in expected & set(state)
                  if tuple(state[key].shape) != tuple(cfm.state_dict()[key].shape)]
        if missing or unexpected or shapes:
            raise UserError(
                f"checkpoint {self.files.checkpoint} does not fit architecture "
                f"{self.config.architecture_key} with the {len(vocab)}-symbol vocabulary "
                f"{self.files.vocab}: missing {missing[:4]}, unexpected {unexpected[:4]}, other "
                f"shapes {sorted(shapes)[:4]}; set architecture (and vocab) to the checkpoint's")
        cfm.load_state_dict(state, strict=True)
        cfm.transformer.to(getattr(torch, self.config.dtype))
        cfm.eval().requires_grad_(False).to(self._device)
        vocoder = load_vocoder(self.files.vocoder).to(self._device)
        return _Model(cfm=cfm, vocoder=vocoder, vocab=vocab)
