"""What each utterance is made from: its text, reference voice and seed, decided per item.

Every choice is a pure function of the build's seed, the utterance id and the attempt, never
of which process makes it or what else is in its batch, so a build split among processes (or
killed and resumed) makes the same dataset as one made in one go.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from voxcore.plugin_api import LabelledImage, ReferenceVoice

__all__ = ["ReferencePool", "Utterance", "stable_int", "utterance_id"]


def stable_int(*parts: object) -> int:
    """A 63-bit integer drawn from ``parts`` (the same on every machine and run)."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def utterance_id(image: LabelledImage, index: int) -> str:
    """The id of caption ``index`` of ``image`` spoken (``amusement_00001_0``)."""
    return f"{image.id}_{index}"


@dataclass(frozen=True)
class Utterance:
    """One caption of one image, to be spoken in the image's emotion."""

    id: str
    image: LabelledImage
    index: int
    text: str


class ReferencePool:
    """The reference voices, by reference split and emotion, and the choice among them."""

    def __init__(self, voices: Iterable[ReferenceVoice], emotions: Sequence[str],
                 reference_splits: Mapping[str, str], seed: int) -> None:
        self.emotions = tuple(emotions)
        self.reference_splits = dict(reference_splits)
        self.seed = seed
        self._pool: dict[tuple[str, str], list[ReferenceVoice]] = {}
        for voice in voices:
            if voice.emotion in self.emotions:
                self._pool.setdefault((voice.split, voice.emotion), []).append(voice)
        for found in self._pool.values():
            found.sort(key=lambda voice: voice.id)

    def missing(self, image_splits: Iterable[str]) -> list[str]:
        """``"split/emotion"`` for each emotion a built image split has no reference of."""
        gaps = []
        for split in sorted({self.reference_splits[s] for s in image_splits}):
            gaps += [f"{split}/{emotion}" for emotion in self.emotions
                     if not self._pool.get((split, emotion))]
        return gaps

    def counts(self) -> dict[str, dict[str, int]]:
        """How many references each reference split has of each emotion."""
        found: dict[str, dict[str, int]] = {}
        for (split, emotion), voices in sorted(self._pool.items()):
            found.setdefault(split, {})[emotion] = len(voices)
        return found

    def choose(self, utterance: Utterance, attempt: int) -> ReferenceVoice:
        """The reference of ``utterance``'s ``attempt``: drawn from its split's references of
        its emotion; successive attempts take different references while there are any
        left (a stride coprime with their number walks through all of them)."""
        split = self.reference_splits[utterance.image.split]
        voices = self._pool[split, utterance.image.emotion]
        count = len(voices)
        start = stable_int(self.seed, "reference", utterance.id) % count
        stride = 1
        if count > 2:
            stride = 1 + stable_int(self.seed, "stride", utterance.id) % (count - 1)
            while math.gcd(stride, count) != 1:
                stride += 1
        return voices[(start + attempt * stride) % count]

    def synthesis_seed(self, utterance: Utterance, attempt: int) -> int:
        """The seed ``utterance``'s ``attempt`` is synthesized with (31 bits)."""
        return stable_int(self.seed, "synthesis", utterance.id, attempt) & 0x7FFF_FFFF
