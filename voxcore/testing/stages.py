"""Conformance suites for the components dataset builders run (:mod:`voxcore.stages`).

A plugin's test module subclasses the suite of its kind and says how to build a small
instance; pytest then runs every check::

    from voxcore.testing import SynthesizerSuite

    class TestMySynthesizer(SynthesizerSuite):
        def build_synthesizer(self):
            return MySynthesizer(MyConfig(tiny=True))

- :class:`VoiceCorpusSuite`: ``build_corpus(tmp_path)`` (write a small corpus tree there);
- :class:`CaptionerSuite`: ``build_captioner(tmp_path)`` (``images(tmp_path)`` gives the
  images it is asked about: override it when the captioner only knows some images);
- :class:`SynthesizerSuite`: ``build_synthesizer(tmp_path)``;
- :class:`EmotionRecognizerSuite`: ``build_recognizer(tmp_path)``.

Builders rely on what these check: the same input gives the same output, whatever else is in
the batch, so a dataset built by several processes equals one built by one.
"""

from __future__ import annotations

from pathlib import Path

import torch

from voxcore.audio import load_audio
from voxcore.interfaces import Waveform
from voxcore.stages import (
    CANONICAL_EMOTIONS,
    Captioner,
    LabelledImage,
    ReferenceVoice,
    SpeechEmotionRecognizer,
    SpeechSynthesizer,
    SynthesisRequest,
    VoiceCorpus,
)
from voxcore.testing.encoder import synthetic_waveform

__all__ = ["CaptionerSuite", "EmotionRecognizerSuite", "SynthesizerSuite", "VoiceCorpusSuite",
           "reference_voice", "sample_images"]


def sample_images(folder: Path, count: int = 3, size: int = 32) -> list[LabelledImage]:
    """``count`` small PNG images of different colours written into ``folder``."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    images = []
    for index in range(count):
        colour = ((70 * index + 30) % 256, (130 * index + 60) % 256, (40 * index + 200) % 256)
        path = folder / f"image_{index}.png"
        Image.new("RGB", (size, size), colour).save(path)
        emotion = ("enjoyment", "anger", "sadness")[index % 3]
        images.append(LabelledImage(id=f"image_{index}", path=path, emotion=emotion,
                                    split="train", source_emotion=emotion))
    return images



def reference_voice(folder: Path, *, emotion: str = "anger", seconds: float = 1.2,
                    sample_rate: int = 16_000) -> ReferenceVoice:
    """A reference utterance (a speech-like chirp written as a wav in ``folder``)."""
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    wave = synthetic_waveform(seconds, sample_rate, seed=3)
    path = folder / f"reference_{emotion}.wav"
    soundfile.write(path, wave.samples[0].numpy(), sample_rate)
    return ReferenceVoice(id=f"test/{emotion}", audio=path, emotion=emotion,
                          speaker="test/speaker", corpus="test", split="train",
                          transcript="a short test sentence")


class VoiceCorpusSuite:
    """Checks every voice corpus must pass: readable utterances with distinct ids, known
    splits, speakers in one split only, and the same answer on every read."""

    #: Whether no speaker may appear in both splits (true of speaker-disjoint splits).
    speaker_disjoint: bool = True

    def build_corpus(self, tmp_path: Path) -> VoiceCorpus:
        """A corpus over a small tree written under ``tmp_path``."""
        raise NotImplementedError(f"{type(self).__name__} must override build_corpus()")

    def test_voices_are_readable_references(self, tmp_path: Path) -> None:
        corpus = self.build_corpus(tmp_path)
        assert isinstance(corpus, VoiceCorpus)
        voices = list(corpus.voices())
        assert voices, "the test corpus gave no voices"
        assert all(isinstance(v, ReferenceVoice) for v in voices)
        ids = [v.id for v in voices]
        assert len(set(ids)) == len(ids), "reference ids must be distinct"
        for voice in voices:
            assert voice.split in ("train", "test")
            assert load_audio(voice.audio).duration > 0
            assert voice.transcript is None or voice.transcript.strip()

    def test_emotions_use_the_canonical_names(self, tmp_path: Path) -> None:
        voices = self.build_corpus(tmp_path).voices()
        unknown = sorted({v.emotion for v in voices} - set(CANONICAL_EMOTIONS))
        assert not unknown, f"emotions outside voxcore.stages.CANONICAL_EMOTIONS: {unknown}"

    def test_both_splits_and_speakers_keep_to_one(self, tmp_path: Path) -> None:
        voices = self.build_corpus(tmp_path).voices()
        train = {v.speaker for v in voices if v.split == "train"}
        test = {v.speaker for v in voices if v.split == "test"}
        assert train and test, "the test corpus must give voices of both splits"
        if self.speaker_disjoint:
            assert not train & test, f"speakers in both splits: {sorted(train & test)}"

    def test_reads_repeat(self, tmp_path: Path) -> None:
        corpus = self.build_corpus(tmp_path)
        assert list(corpus.voices()) == list(corpus.voices())


class CaptionerSuite:
    """Checks every captioner must pass: a list of captions per image, in order, the same for
    the same images and attempt, whatever else is in the batch."""

    #: How many captions to ask for.
    count: int = 3

    def build_captioner(self, tmp_path: Path) -> Captioner:
        """A small captioner (any files it needs written under ``tmp_path``)."""
        raise NotImplementedError(f"{type(self).__name__} must override build_captioner()")

    def images(self, tmp_path: Path) -> list[LabelledImage]:
        """The images the captioner is asked about (at least two)."""
        return sample_images(tmp_path / "images")

    def test_captions_each_image(self, tmp_path: Path) -> None:
        captioner = self.build_captioner(tmp_path)
        assert isinstance(captioner, Captioner)
        assert isinstance(captioner.captioner_fingerprint, str)
        assert captioner.captioner_fingerprint
        images = self.images(tmp_path)
        captions = captioner.caption(images, count=self.count)
        assert len(captions) == len(images)
        for found in captions:
            assert isinstance(found, list) and all(isinstance(c, str) for c in found)
            assert len(found) <= self.count

    def test_same_images_same_captions_in_any_batch(self, tmp_path: Path) -> None:
        captioner = self.build_captioner(tmp_path)
        images = self.images(tmp_path)
        together = captioner.caption(images, count=self.count)
        alone = [captioner.caption([image], count=self.count)[0] for image in images]
        assert together == alone
        assert captioner.caption(images[::-1], count=self.count) == together[::-1]


class SynthesizerSuite:
    """Checks every speech synthesizer must pass: one mono, finite, audible waveform per
    request, the same for the same request whatever else is in the batch."""

    #: Largest difference allowed between an utterance made alone and in a batch.
    atol: float = 1e-4

    def build_synthesizer(self, tmp_path: Path) -> SpeechSynthesizer:
        """A small synthesizer (any files it needs written under ``tmp_path``)."""
        raise NotImplementedError(f"{type(self).__name__} must override build_synthesizer()")

    def requests(self, tmp_path: Path) -> list[SynthesisRequest]:
        """Two requests with different texts, references and seeds."""
        angry = reference_voice(tmp_path / "references", emotion="anger")
        sad = reference_voice(tmp_path / "references", emotion="sadness", seconds=0.9)
        return [SynthesisRequest("one", "a red ball lies on the grass", angry, seed=1),
                SynthesisRequest("two", "two people walk along a quiet street", sad, seed=2)]

    def test_speaks_each_request(self, tmp_path: Path) -> None:
        synthesizer = self.build_synthesizer(tmp_path)
        assert isinstance(synthesizer, SpeechSynthesizer)
        assert isinstance(synthesizer.synthesizer_fingerprint, str)
        assert synthesizer.synthesizer_fingerprint
        assert isinstance(synthesizer.needs_reference_transcripts, bool)
        requests = self.requests(tmp_path)
        waves = synthesizer.synthesize(requests)
        assert len(waves) == len(requests)
        for wave in waves:
            assert isinstance(wave, Waveform)
            assert wave.samples.shape[0] == 1, "synthesized speech must be mono [1, T]"
            assert wave.duration > 0.1
            assert bool(torch.isfinite(wave.samples).all())
            assert float(wave.samples.abs().max()) > 1e-3, "synthesized speech is silent"

    def test_same_request_same_speech_in_any_batch(self, tmp_path: Path) -> None:
        synthesizer = self.build_synthesizer(tmp_path)
        requests = self.requests(tmp_path)
        together = synthesizer.synthesize(requests)
        alone = [synthesizer.synthesize([request])[0] for request in requests]
        for batched, single in zip(together, alone, strict=True):
            assert batched.sample_rate == single.sample_rate
            assert batched.samples.shape == single.samples.shape
            torch.testing.assert_close(batched.samples, single.samples, atol=self.atol, rtol=0)


class EmotionRecognizerSuite:
    """Checks every speech emotion recognizer must pass: one probability row per utterance
    over its emotions, for any rate and length, the same whatever else is in the batch."""

    atol: float = 1e-4

    def build_recognizer(self, tmp_path: Path) -> SpeechEmotionRecognizer:
        """A small recognizer (any files it needs written under ``tmp_path``)."""
        raise NotImplementedError(f"{type(self).__name__} must override build_recognizer()")

    def waveforms(self) -> list[Waveform]:
        """Utterances of different rates, lengths and channel counts."""
        return [synthetic_waveform(1.0, 16_000, seed=1),
                synthetic_waveform(1.7, 22_050, seed=2),
                synthetic_waveform(0.6, 44_100, channels=2, seed=3)]

    def test_probabilities_per_utterance(self, tmp_path: Path) -> None:
        recognizer = self.build_recognizer(tmp_path)
        assert isinstance(recognizer, SpeechEmotionRecognizer)
        assert recognizer.recognizer_fingerprint
        emotions = list(recognizer.emotions)
        assert emotions and len(set(emotions)) == len(emotions)
        probabilities = recognizer.emotion_probabilities(self.waveforms())
        assert tuple(probabilities.shape) == (3, len(emotions))
        assert bool(((probabilities >= 0) & (probabilities <= 1)).all())
        torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(3), atol=1e-4, rtol=0)

    def test_same_utterance_same_scores_in_any_batch(self, tmp_path: Path) -> None:
        recognizer = self.build_recognizer(tmp_path)
        waves = self.waveforms()
        together = recognizer.emotion_probabilities(waves)
        alone = torch.cat([recognizer.emotion_probabilities([wave]) for wave in waves])
        torch.testing.assert_close(together, alone, atol=self.atol, rtol=0)
