"""The speech stage: each caption spoken in its image's emotion, checked, made again if weak.

For every utterance without a finished record: a reference voice of its split and emotion is
chosen (:class:`~voxcore_voxemoset.plan.ReferencePool`), the synthesizer speaks the caption
imitating it, the speech is mixed to mono and resampled (16 kHz, as the paper does), and the
emotion recognizer scores it. At or above the threshold it is written
(``audio/<label>/<id>.wav``) and recorded; below, it is made again with the next attempt's
reference and seed, up to ``retries`` times, then recorded as dropped with every attempt's
score. A component that raises on a batch is asked one item at a time, so one bad item fails
alone; the build goes on.
"""

from __future__ import annotations

import logging
import re
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from voxcore.plugin_api import (
    BuiltComponent,
    SynthesisRequest,
    Waveform,
    atomic_path,
    blame,
)
from voxcore_voxemoset.plan import ReferencePool, Utterance
from voxcore_voxemoset.progress import stage_progress
from voxcore_voxemoset.store import BuildStore, content_key
from voxcore_voxemoset.transcripts import ReferenceTranscripts

__all__ = ["SpeechStage", "audio_path", "to_mono_rate"]

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def audio_path(out: Path, utterance: Utterance) -> Path:
    """Where ``utterance``'s wav goes: ``audio/<image label>/<id>.wav``."""
    label = _UNSAFE.sub("_", utterance.image.source_emotion or utterance.image.emotion)
    return out / "audio" / label / f"{utterance.id}.wav"


def to_mono_rate(waveform: Waveform, sample_rate: int) -> torch.Tensor:
    """``waveform`` mixed to mono and resampled to ``sample_rate``: float32 ``[T]``."""
    import torchaudio.functional as audio_functional

    mono = waveform.samples.float().mean(dim=0)
    if waveform.sample_rate != sample_rate:
        mono = audio_functional.resample(mono, waveform.sample_rate, sample_rate)
    return mono.clamp(-1.0, 1.0)


@dataclass
class SpeechStage:
    """Makes the speech of one process's share of utterances."""

    synthesizer: BuiltComponent
    recognizer: BuiltComponent
    pool: ReferencePool
    store: BuildStore
    threshold: float
    retries: int
    synthesis_batch_size: int
    check_batch_size: int
    sample_rate: int
    transcripts: ReferenceTranscripts | None = None
    progress: bool = True
    _emotions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._emotions = [str(e) for e in self.recognizer.component.emotions]

    @property
    def fingerprint(self) -> str:
        """What a finished record must have been made with to be reused."""
        return content_key(self.synthesizer.component.synthesizer_fingerprint,
                           self.recognizer.component.recognizer_fingerprint, self.threshold,
                           self.retries, self.sample_rate, self.pool.seed)

    def done(self, utterance: Utterance) -> bool:
        """Whether ``utterance`` has a finished record made from its text and settings."""
        record = self.store.read(self.store.utterance_path(utterance.image.split,
                                                           utterance.id))
        return (record is not None and record.get("fingerprint") == self.fingerprint
                and record.get("text") == utterance.text)

    def run(self, utterances: Sequence[Utterance]) -> None:
        """Make every utterance without a finished record."""
        pending = [u for u in utterances if not self.done(u)]
        if not pending:
            return
        log.info("making %d utterance(s) (%d already done)", len(pending),
                 len(utterances) - len(pending))
        history: dict[str, list[dict[str, Any]]] = {u.id: [] for u in pending}
        with stage_progress("speech", len(pending), self.progress) as bar:
            attempt = 0
            while pending:
                again: list[Utterance] = []
                for start in range(0, len(pending), self.synthesis_batch_size):
                    batch = pending[start:start + self.synthesis_batch_size]
                    for utterance, outcome in zip(batch, self._attempt(batch, attempt),
                                                  strict=True):
                        history[utterance.id].append(outcome["attempt"])
                        if outcome["samples"] is not None:
                            self._accept(utterance, outcome["samples"], history[utterance.id])
                            bar.update(1)
                        elif attempt < self.retries:
                            again.append(utterance)
                        else:
                            self._drop(utterance, history[utterance.id])
                            bar.update(1)
                pending, attempt = again, attempt + 1

    def _attempt(self, batch: Sequence[Utterance], attempt: int) -> list[dict[str, Any]]:
        references = [self.pool.choose(u, attempt) for u in batch]
        if self.transcripts is not None:
            references = self.transcripts.fill(references)
        requests = [SynthesisRequest(id=u.id, text=u.text, reference=reference,
                                     seed=self.pool.synthesis_seed(u, attempt))
                    for u, reference in zip(batch, references, strict=True)]
        made = self._synthesize(requests)
        speech = [to_mono_rate(m, self.sample_rate) if isinstance(m, Waveform) else None
                  for m in made]
        scores = self._score([s for s in speech if s is not None])
        outcomes: list[dict[str, Any]] = []
        for utterance, request, made_one, samples in zip(batch, requests, made, speech,
                                                         strict=True):
            tried: dict[str, Any] = {"attempt": attempt, "reference": request.reference.id,
                                     "seed": request.seed, "confidence": None, "error": None}
            if samples is None:
                tried["error"] = str(made_one)
                outcomes.append({"attempt": tried, "samples": None})
                continue
            score = scores.pop(0)
            if isinstance(score, str):
                tried["error"] = score
                outcomes.append({"attempt": tried, "samples": None})
                continue
            confidence = float(score[self._emotions.index(utterance.image.emotion)])
            tried["confidence"] = round(confidence, 6)
            tried["reference_speaker"] = request.reference.speaker
            tried["reference_corpus"] = request.reference.corpus
            accepted = confidence >= self.threshold
            outcomes.append({"attempt": tried, "samples": samples if accepted else None})
        return outcomes

    def _synthesize(self, requests: Sequence[SynthesisRequest]) -> list[Waveform | str]:
        try:
            with blame(self.synthesizer.label, "synthesizing speech"):
                made = self.synthesizer.component.synthesize(requests)
            if len(made) != len(requests):
                raise ValueError(f"gave {len(made)} waveforms for {len(requests)} requests")
            return [_checked(wave) for wave in made]
        except Exception as exc:
            if len(requests) == 1:
                return [f"synthesizer failed: {exc}"]
            log.warning("synthesizing a batch of %d failed (%s); one by one", len(requests),
                        exc)
            return [one for request in requests for one in self._synthesize([request])]

    def _score(self, speech: Sequence[torch.Tensor]) -> list[np.ndarray | str]:
        scored: list[np.ndarray | str] = []
        for start in range(0, len(speech), self.check_batch_size):
            scored += self._score_batch(speech[start:start + self.check_batch_size])
        return scored

    def _score_batch(self, speech: Sequence[torch.Tensor]) -> list[np.ndarray | str]:
        if not speech:
            return []
        waves = [Waveform(samples=s.unsqueeze(0), sample_rate=self.sample_rate) for s in speech]
        try:
            with blame(self.recognizer.label, "scoring the emotion of speech"):
                probabilities = self.recognizer.component.emotion_probabilities(waves)
            return list(probabilities.detach().float().cpu().numpy())
        except Exception as exc:
            if len(speech) == 1:
                return [f"emotion recognizer failed: {exc}"]
            return [one for s in speech for one in self._score_batch([s])]

    def _accept(self, utterance: Utterance, samples: torch.Tensor,
                attempts: list[dict[str, Any]]) -> None:
        target = audio_path(self.store.out, utterance)
        pcm = np.rint(samples.numpy() * 32767.0).astype("<i2")
        with atomic_path(target) as tmp, wave.open(str(tmp), "wb") as file:
            file.setnchannels(1)
            file.setsampwidth(2)
            file.setframerate(self.sample_rate)
            file.writeframes(pcm.tobytes())
        final = attempts[-1]
        self._record(utterance, "ok", attempts, {
            "audio": target.relative_to(self.store.out).as_posix(),
            "duration": round(pcm.size / self.sample_rate, 4),
            "confidence": final["confidence"], "reference": final["reference"],
            "speaker": final["reference_speaker"], "corpus": final["reference_corpus"],
            "seed": final["seed"]})

    def _drop(self, utterance: Utterance, attempts: list[dict[str, Any]]) -> None:
        errors = [a["error"] for a in attempts if a["error"]]
        self._record(utterance, "failed" if len(errors) == len(attempts) else "dropped",
                     attempts, {"error": errors[-1] if errors else None})

    def _record(self, utterance: Utterance, status: str, attempts: list[dict[str, Any]],
                extra: dict[str, Any]) -> None:
        image = utterance.image
        self.store.write(self.store.utterance_path(image.split, utterance.id), {
            "id": utterance.id, "image": image.id, "split": image.split,
            "emotion": image.emotion, "label": image.source_emotion, "text": utterance.text,
            "caption": utterance.index, "status": status, "attempts": attempts,
            "fingerprint": self.fingerprint, **extra})


def _checked(made: Any) -> Waveform | str:
    if not isinstance(made, Waveform):
        return f"synthesizer gave {type(made).__name__}, not a Waveform"
    if made.samples.numel() == 0 or not bool(torch.isfinite(made.samples).all()):
        return "synthesizer gave empty or non-finite samples"
    return made

