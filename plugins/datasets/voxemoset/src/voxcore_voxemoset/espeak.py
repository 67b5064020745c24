"""The ``espeak`` synthesizer: the offline stand-in for F5-TTS, no weights needed.

espeak-ng speaks the caption with the prosody of the reference's emotion, as VoxShapes does
(``voxcore_voxshapes.mood_utterance``: pitch, range, rate, loudness, pauses and tremolo per
mood, jittered by the request's seed); each reference speaker is given one of a few espeak-ng
voices, so speakers differ. It does not imitate the reference recording itself, which is what
the neural ``f5-tts`` synthesizer is for.

espeak-ng carries state from one utterance to the next, so each utterance is made in a
freshly forked process: the same request then gives the same samples whatever was spoken
before, which keeps a build split among processes equal to one made in one go. Forking needs
Linux or macOS; elsewhere utterances are made in this process and are only close to
reproducible.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence

import numpy as np
import torch

from voxcore.plugin_api import PAPER_EMOTIONS, SynthesisRequest, Waveform
from voxcore_voxemoset.espeak_config import EspeakSynthesizerConfig

__all__ = ["EspeakSynthesizer"]

_OK, _FAILED = b"\x00", b"\x01"


class EspeakSynthesizer:
    """Implements :class:`voxcore.stages.SpeechSynthesizer` with espeak-ng and mood prosody."""

    needs_reference_transcripts = False

    def __init__(self, config: EspeakSynthesizerConfig) -> None:
        from voxcore_voxshapes import mood_utterance  # noqa: F401  # fail now if missing

        self.config = config
        self.synthesizer_fingerprint = (f"espeak:{','.join(config.voices)}:"
                                        f"{config.sample_rate}")

    def voice_of(self, request: SynthesisRequest) -> str:
        """The espeak-ng voice of the request's reference speaker."""
        from voxcore_voxemoset.plan import stable_int

        voices = self.config.voices
        return voices[stable_int("espeak-voice", request.reference.speaker) % len(voices)]

    def synthesize(self, requests: Sequence[SynthesisRequest]) -> list[Waveform]:
        """One utterance per request (see the module docstring)."""
        for request in requests:
            if request.reference.emotion not in PAPER_EMOTIONS:
                raise ValueError(f"espeak speaks the moods {', '.join(PAPER_EMOTIONS)}; "
                                 f"{request.id} asks for {request.reference.emotion!r}")
        jobs = [(r.text, r.reference.emotion, self.voice_of(r), r.seed) for r in requests]
        if not hasattr(os, "fork"):
            samples = [_speak(*job, self.config.sample_rate) for job in jobs]
        else:
            samples = _in_fresh_processes(jobs, self.config.sample_rate, self._workers())
        return [Waveform(samples=torch.from_numpy(s).unsqueeze(0), sample_rate=self.config
                         .sample_rate) for s in samples]

    def _workers(self) -> int:
        if self.config.workers:
            return self.config.workers
        affinity = getattr(os, "sched_getaffinity", None)
        return max(1, len(affinity(0)) if affinity else (os.cpu_count() or 1))


def _speak(text: str, mood: str, voice: str, seed: int, sample_rate: int) -> np.ndarray:
    from voxcore_voxshapes import mood_utterance

    return np.ascontiguousarray(
        mood_utterance(text, mood, voice=voice, seed=seed, sample_rate=sample_rate),
        dtype=np.float32)


def _in_fresh_processes(jobs: Sequence[tuple[str, str, str, int]], sample_rate: int,
                        workers: int) -> list[np.ndarray]:
    """Each job's samples, made in its own forked child, ``workers`` children at a time."""
    results: list[np.ndarray | str] = [""] * len(jobs)
    running: dict[int, tuple[int, int]] = {}
    next_job = 0
    while next_job < len(jobs) or running:
        while next_job < len(jobs) and len(running) < workers:
            running[next_job] = _fork(jobs[next_job], sample_rate)
            next_job += 1
        index = min(running)
        results[index] = _collect(*running.pop(index))
    failures = [r for r in results if isinstance(r, str)]
    if failures:  # every child is reaped before this
        raise RuntimeError(failures[0])
    return [r for r in results if not isinstance(r, str)]


def _fork(job: tuple[str, str, str, int], sample_rate: int) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: speak, send, and leave without running the parent's cleanup
        os.close(read_fd)
        try:
            samples = _speak(*job, sample_rate)
            payload = _OK + struct.pack("<q", samples.size) + samples.tobytes()
        except BaseException as exc:
            payload = _FAILED + f"{type(exc).__name__}: {exc}".encode()
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write_fd)
    return pid, read_fd


def _collect(pid: int, read_fd: int) -> np.ndarray | str:
    """The child's samples, or what went wrong in it."""
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    if payload[:1] != _OK:
        return payload[1:].decode(errors="replace") or "the espeak-ng process died"
    (size,) = struct.unpack("<q", payload[1:9])
    return np.frombuffer(payload[9:], dtype=np.float32, count=size).copy()
