"""What every corpus reader shares: parsed utterances, skipped files, and turning a listing
into split, filtered :class:`ReferenceVoice` s (:class:`ListedCorpus`)."""

from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from voxcore.plugin_api import ReferenceVoice, UserError
from voxcore_voxemoset.voices.config import VoiceCorpusConfig
from voxcore_voxemoset.voices.splits import (
    EmoboxSplit,
    file_stem,
    read_emobox_split,
    speaker_split,
)

__all__ = ["EMPTY_FILE_BYTES", "READABLE_SUFFIXES", "ListedCorpus", "Skipped", "Utterance",
           "is_empty", "m4a_hint", "match_emobox", "no_usable_files", "path_key",
           "require_folder", "scan_files"]

logger = logging.getLogger("voxcore_voxemoset.voices")

#: Audio the core's ``load_audio`` (libsndfile) reads.
READABLE_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".mp3"})
#: A RIFF/WAVE header alone: a file this small holds no audio.
EMPTY_FILE_BYTES = 44
_EXAMPLES = 3

ConfigT = TypeVar("ConfigT", bound=VoiceCorpusConfig)


@dataclass(frozen=True)
class Utterance:
    """One usable file of a corpus, parsed from its path, before it is split.

    ``name`` is unique in the corpus (the reference id without the corpus prefix); ``key`` is
    the path parts that identify the file, without the file's suffix (what split files are
    matched on); ``level`` the corpus's intensity, for its level filter; ``split`` is set only
    when the corpus itself says (a voice table's split column).
    """

    name: str
    audio: Path
    key: tuple[str, ...]
    speaker: str
    emotion: str
    transcript: str | None = None
    level: str | None = None
    split: str | None = None


class Skipped:
    """Files (or split-file entries) left out while reading, counted by reason."""

    def __init__(self) -> None:
        self._examples: dict[str, list[str]] = {}
        self._counts: dict[str, int] = {}
        self._hints: dict[str, str] = {}

    def add(self, reason: str, example: str, hint: str = "") -> None:
        """Count one item left out for ``reason`` (``hint``: what to do about them)."""
        self._counts[reason] = self._counts.get(reason, 0) + 1
        if hint:
            self._hints[reason] = hint
        examples = self._examples.setdefault(reason, [])
        if len(examples) < _EXAMPLES:
            examples.append(example)

    def count(self, reason: str) -> int:
        """How many items were left out for ``reason``."""
        return self._counts.get(reason, 0)

    def __bool__(self) -> bool:
        return bool(self._counts)

    def lines(self) -> list[str]:
        """One line per reason: the count, the reason and a few examples."""
        return [f"{count} {reason} (e.g. {', '.join(self._examples[reason])})"
                + (f"; {self._hints[reason]}" if reason in self._hints else "")
                for reason, count in self._counts.items()]

    def warn(self, corpus: str, where: Path) -> None:
        """Log every reason in one warning (nothing when nothing was left out)."""
        if self:
            logger.warning("%s (%s): left out %s", corpus, where.absolute(),
                           "; ".join(self.lines()))


def path_key(parts: Iterable[str]) -> tuple[str, ...]:
    """Path parts without ``.``/``..``/root parts, the last one without its suffix."""
    kept = [part for part in parts if part not in ("", ".", "..", "/")]
    if kept:
        kept[-1] = file_stem(kept[-1])
    return tuple(kept)


def require_folder(root: Path, corpus: str, layout: str) -> Path:
    """``root`` if it is a folder, else a :class:`UserError` naming it and the layout."""
    if not root.is_dir():
        state = "is not a folder" if root.exists() else "does not exist"
        raise UserError(f"{corpus}: the corpus folder {root.absolute()} {state}; set root to "
                        f"{layout}")
    return root


def no_usable_files(corpus: str, root: Path, layout: str, skipped: Skipped,
                    looked_at: int) -> UserError:
    """The error for a folder that holds nothing this corpus can use."""
    if looked_at == 0:
        found = "it holds no audio files"
    else:
        found = (f"none of its {looked_at} audio files is usable: " + "; ".join(skipped.lines()))
    return UserError(f"{corpus}: found no usable file in {root.absolute()} ({found}); expected "
                     f"{layout}")


def m4a_hint(root: Path) -> str:
    """How to make the ``.wav`` copies of a tree of ``.m4a`` files, keeping its layout."""
    return ("convert them to .wav beside the .m4a files (the layout stays the same; needs "
            f"ffmpeg): cd {shlex.quote(str(root.absolute()))} && find . -name '*.m4a' -exec sh -c "
            "'ffmpeg -nostdin -loglevel error -n -i \"$1\" -ac 1 \"${1%.m4a}.wav\"' _ {} \\;")


def scan_files(folder: Path) -> Iterator[os.DirEntry[str]]:
    """The files of ``folder`` in name order (hidden files, such as macOS's ``._*``, left out)."""
    with os.scandir(folder) as entries:
        found = [entry for entry in entries
                 if not entry.name.startswith(".") and entry.is_file()]
    yield from sorted(found, key=lambda entry: entry.name)


def is_empty(entry: os.DirEntry[str]) -> bool:
    """Whether a listed file is too small to hold audio (one ``stat``, no decoding)."""
    return entry.stat().st_size <= EMPTY_FILE_BYTES


class ListedCorpus(Generic[ConfigT]):
    """A :class:`~voxcore.plugin_api.VoiceCorpus` whose subclass lists the corpus's files.

    Subclasses set :attr:`corpus` (the registered name, the prefix of ids) and :attr:`layout`
    (what the folder must hold, with an example, for error messages), and implement
    :meth:`_list` (and :meth:`_keep` for their own filters). The voices are read once, on
    the first :meth:`voices` call, and kept.
    """

    corpus: ClassVar[str]
    layout: ClassVar[str]

    def __init__(self, config: ConfigT) -> None:
        self.config = config
        self._voices: tuple[ReferenceVoice, ...] | None = None

    @property
    def name(self) -> str:
        """The prefix of reference and speaker ids."""
        return self.corpus

    @property
    def where(self) -> Path:
        """The folder or file the corpus is read from (named in messages)."""
        raise NotImplementedError

    def _list(self, skipped: Skipped) -> list[Utterance]:
        """Every usable file, parsed; files left out are counted in ``skipped``. Raises
        :class:`UserError` when the corpus is missing or holds nothing usable."""
        raise NotImplementedError

    def _keep(self, utterance: Utterance) -> bool:
        """The corpus's own filters (levels, intensities)."""
        return True

    def voices(self) -> Sequence[ReferenceVoice]:
        """Every kept utterance as a reference, sorted by id (see the config for how)."""
        if self._voices is None:
            self._voices = tuple(self._read())
        return self._voices

    def _read(self) -> list[ReferenceVoice]:
        skipped = Skipped()
        utterances = self._list(skipped)
        splits = self._splits(utterances, skipped)
        kept = [(utterance, splits[utterance.name]) for utterance in utterances
                if utterance.name in splits and utterance.emotion in self.config.emotions
                and self._keep(utterance)]
        if self.config.limit_per_emotion is not None:
            kept = _limit_per_emotion(kept, self.config.limit_per_emotion)
        skipped.warn(self.name, self.where)
        if not kept:
            raise UserError(
                f"{self.name}: no utterance in {self.where.absolute()} is left after the "
                f"filters (of {len(utterances)} usable files; emotions: "
                f"{', '.join(self.config.emotions)}); widen the filters in the config")
        voices = [ReferenceVoice(
            id=f"{self.name}/{utterance.name}", audio=utterance.audio, emotion=utterance.emotion,
            speaker=f"{self.name}/{utterance.speaker}", corpus=self.name, split=split,
            transcript=utterance.transcript) for utterance, split in kept]
        return sorted(voices, key=lambda voice: voice.id)

    def _splits(self, utterances: Sequence[Utterance], skipped: Skipped) -> dict[str, str]:
        """The split of each utterance's name (those EmoBox leaves out have none)."""
        if self.config.split_file is not None:
            split = read_emobox_split(Path(self.config.split_file), self.config.fold)
            return match_emobox(utterances, split, self.name, self.where, skipped)
        unsplit = {f"{self.name}/{u.speaker}" for u in utterances if u.split is None}
        by_speaker = speaker_split(unsplit, self.config.test_fraction, self.config.seed)
        return {u.name: u.split or by_speaker[f"{self.name}/{u.speaker}"] for u in utterances}


def match_emobox(utterances: Sequence[Utterance], split: EmoboxSplit, corpus: str,
                 where: Path, skipped: Skipped) -> dict[str, str]:
    """The split of each utterance EmoBox's entries name (an utterance's ``key`` is matched
    against the trailing parts of each entry's path); the others are left out."""
    index: dict[tuple[str, ...], list[int]] = {}
    for number, entry in enumerate(split.entries):
        for start in range(len(entry.key)):
            index.setdefault(entry.key[start:], []).append(number)
    splits: dict[str, str] = {}
    matched: set[int] = set()
    for utterance in utterances:
        numbers = index.get(utterance.key, [])
        if not numbers:
            skipped.add("files in neither EmoBox split file", utterance.audio.name)
            continue
        matched.update(numbers)
        found = {split.entries[number].split for number in numbers}
        if len(found) > 1:
            skipped.add("files in both EmoBox split files (taken as test)", utterance.audio.name)
        splits[utterance.name] = "test" if "test" in found else "train"
    if utterances and not splits:
        example = split.entries[0].wav if split.entries else "(the files have no entries)"
        raise UserError(
            f"{corpus}: none of the {len(split.entries)} entries of the split files "
            f"({split.describe()}) names a file in {where.absolute()}; are they the split of "
            f"another corpus? Their first entry is {example!r}; it must end with a path like "
            f"{'/'.join(utterances[0].key)!r} (without the suffix)")
    for number, entry in enumerate(split.entries):
        if number not in matched:
            skipped.add("entries of the EmoBox split files with no file here", entry.wav)
    return splits


def _limit_per_emotion(kept: list[tuple[Utterance, str]],
                       limit: int) -> list[tuple[Utterance, str]]:
    """At most ``limit`` of each (split, emotion), taking the speakers in turn."""
    groups: dict[tuple[str, str], dict[str, list[Utterance]]] = {}
    for utterance, split in sorted(kept, key=lambda item: item[0].name):
        speakers = groups.setdefault((split, utterance.emotion), {})
        speakers.setdefault(utterance.speaker, []).append(utterance)
    chosen: list[tuple[Utterance, str]] = []
    for (split, _), speakers in sorted(groups.items()):
        ranked = sorted(((rank, utterance) for utterances in speakers.values()
                         for rank, utterance in enumerate(utterances)),
                        key=lambda item: (item[0], item[1].speaker, item[1].name))
        chosen += [(utterance, split) for _, utterance in ranked[:limit]]
    return chosen
