"""The contracts of the components that build speech-image datasets (such as VoxEmoset).

A dataset builder like ``voxcore data voxemoset`` runs four kinds of registered component,
each chosen by name in its config, so a third party can swap any of them with a plugin:

- a :class:`VoiceCorpus` reads recorded emotional speech (CREMA-D, RAVDESS, MEAD, ...) as
  :class:`ReferenceVoice` s: the voices and emotions the speech is made to imitate;
- a :class:`Captioner` writes factual captions of :class:`LabelledImage` s;
- a :class:`SpeechSynthesizer` speaks each caption imitating a reference voice
  (:class:`SynthesisRequest`);
- a :class:`SpeechEmotionRecognizer` scores the emotion of the speech made, so that weak
  utterances are made again.

Emotions are plain strings. Corpora name them with :data:`CANONICAL_EMOTIONS` (``happy`` is
``enjoyment``, as in the paper), so references of several corpora share one vocabulary.

Like :mod:`voxcore.interfaces`, this module imports no torch at run time. A component that
holds weights on a device has ``to(device)`` (torch modules do); builders call it when it is
there. A component whose weights are not available (offline, not downloaded) fails when it is
*built*, with a :class:`~voxcore.hub.PretrainedNotFoundError` that says what to download, so
a build stops before doing any work; loading the weights themselves may wait for first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

    from voxcore.interfaces import Waveform

__all__ = [
    "CANONICAL_EMOTIONS",
    "PAPER_EMOTIONS",
    "Captioner",
    "LabelledImage",
    "ReferenceVoice",
    "SpeechEmotionRecognizer",
    "SpeechSynthesizer",
    "SynthesisRequest",
    "VoiceCorpus",
]

#: The paper's five emotion classes (VoxEmoset, Emo-A): EmoSet's amusement and excitement are
#: one class, enjoyment; awe and contentment are left out (hard to tell or express by voice).
PAPER_EMOTIONS: tuple[str, ...] = ("enjoyment", "anger", "disgust", "fear", "sadness")

#: The names corpora give emotions, so that several corpora share one vocabulary: the paper's
#: five (a corpus's "happy" is "enjoyment") and the others emotional-speech corpora record.
CANONICAL_EMOTIONS: tuple[str, ...] = (*PAPER_EMOTIONS, "neutral", "calm", "surprise",
                                       "contempt")

_SPLITS = ("train", "test")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class LabelledImage:
    """One image to describe and speak about.

    ``id`` is unique in its collection (EmoSet's image id); ``emotion`` is the class the
    speech must carry (after merging, e.g. ``enjoyment``); ``source_emotion`` the label as the
    collection gives it (EmoSet's ``amusement``); ``split`` the collection's own split.
    """

    id: str
    path: Path
    emotion: str
    split: str
    source_emotion: str = ""

    def __post_init__(self) -> None:
        _check(bool(self.id), "LabelledImage.id must not be empty")
        _check(bool(self.emotion), f"LabelledImage {self.id!r} has an empty emotion")


@dataclass(frozen=True)
class ReferenceVoice:
    """One recorded utterance a synthesizer imitates: a speaker's voice in an emotion.

    ``id`` is unique across corpora (``"crema-d/1001_DFA_ANG_XX"``), ``speaker`` too
    (``"crema-d/1001"``); ``emotion`` is one of :data:`CANONICAL_EMOTIONS` (or the corpus's
    own word when it has none there); ``split`` is ``"train"`` or ``"test"``:
    references of the test split speak only the test split's captions (with speaker-disjoint
    splits no test voice is heard in training; EmoBox's CREMA-D and MEAD splits, which the
    paper uses, divide utterances, not speakers). ``transcript`` is what is said, ``None``
    when the corpus does not say.
    """

    id: str
    audio: Path
    emotion: str
    speaker: str
    corpus: str
    split: str
    transcript: str | None = None

    def __post_init__(self) -> None:
        _check(bool(self.id), "ReferenceVoice.id must not be empty")
        _check(self.split in _SPLITS,
               f"ReferenceVoice {self.id!r}: split must be 'train' or 'test', got {self.split!r}")
        _check(bool(self.emotion) and bool(self.speaker),
               f"ReferenceVoice {self.id!r} needs an emotion and a speaker")


@dataclass(frozen=True)
class SynthesisRequest:
    """Speak ``text`` in the voice and emotion of ``reference``; ``seed`` draws any
    randomness, so the same request gives the same speech."""

    id: str
    text: str
    reference: ReferenceVoice
    seed: int = 0

    def __post_init__(self) -> None:
        _check(bool(self.text.strip()), f"SynthesisRequest {self.id!r} has no text to speak")


@runtime_checkable
class VoiceCorpus(Protocol):
    """Recorded emotional speech read from a corpus's released layout."""

    def voices(self) -> Sequence[ReferenceVoice]:
        """Every usable utterance, each with its emotion, speaker and split, in a fixed
        order. A corpus that cannot be read raises :class:`~voxcore.errors.UserError`
        naming the folder and the layout it expected."""
        ...


@runtime_checkable
class Captioner(Protocol):
    """Writes factual captions of images (VoxEmoset: three per image, no emotional words).

    ``captioner_fingerprint`` names everything the captions depend on (weights, prompt,
    decoding settings): captions are cached by image content and this fingerprint.
    """

    captioner_fingerprint: str

    def caption(self, images: Sequence[LabelledImage], *, count: int,
                attempt: int = 0) -> list[list[str]]:
        """``count`` captions for each image, in order. The builder checks them (``count``
        distinct non-empty captions) and asks again with ``attempt + 1`` when they fail, so a
        sampling captioner should draw anew for another attempt. An image it cannot caption
        gets an empty list."""
        ...


@runtime_checkable
class SpeechSynthesizer(Protocol):
    """Text to speech imitating a reference voice (the paper: F5-TTS).

    ``synthesizer_fingerprint`` names everything the speech depends on (weights, settings);
    ``needs_reference_transcripts`` says whether every reference must come with its
    transcript (the builder transcribes those that lack one, or stops before any work).
    """

    synthesizer_fingerprint: str
    needs_reference_transcripts: bool

    def synthesize(self, requests: Sequence[SynthesisRequest]) -> list[Waveform]:
        """One mono waveform per request, in order, at any sample rate (the builder
        resamples). The same request (seed included) gives the same speech."""
        ...


@runtime_checkable
class SpeechEmotionRecognizer(Protocol):
    """Scores the emotion of utterances (the paper: emotion2vec).

    ``emotions`` are the classes it scores (names of :data:`CANONICAL_EMOTIONS`, plus any
    catch-all such as ``"other"`` that keeps its rows summing to 1, which builders ignore);
    ``recognizer_fingerprint`` names its weights and settings.
    """

    emotions: Sequence[str]
    recognizer_fingerprint: str

    def emotion_probabilities(self, waveforms: Sequence[Waveform]) -> torch.Tensor:
        """Float ``[B, len(emotions)]``: each utterance's probability of each emotion (rows
        sum to 1), for waveforms of any rate and length."""
        ...
