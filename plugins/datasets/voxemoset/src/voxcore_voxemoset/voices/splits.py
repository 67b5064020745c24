"""Train/test splits of reference corpora: EmoBox's split files, or a speaker-disjoint draw.

**EmoBox's format** (github.com/emo-box/EmoBox, ``data/<dataset>/``; the paper follows it).
Each dataset folder (``cremad``, ``ravdess``, ``mead``, ``esd``, ...) has one folder per fold,
``fold_<n>/``, holding ``<dataset>_train_fold_<n>.jsonl`` and ``<dataset>_test_fold_<n>.jsonl``
(and ``.json`` twins of the same content). Each JSONL line is one utterance::

    {"key": "cremad-1052-WSI-ANG-XX", "dataset": "cremad",
     "wav": "downloads/cremad/AudioWAV/1052_WSI_ANG_XX.wav", "type": "raw",
     "sample_rate": 16000, "num_frame": 36837.0, "task": "category", "length": 2.3023125,
     "emo": "ANG", "channel": 1}

and each ``.json`` file maps the ``key`` to the same fields (``wav``, ``length``, ``emo``,
``dataset``, ``channel``). ``wav`` is the file's path in EmoBox's ``downloads/`` folder:
``downloads/cremad/AudioWAV/<name>.wav``,
``downloads/ravdess/audio/Audio_Speech_Actors_01-24/Actor_NN/<name>.wav``,
``downloads/mead/<Speaker>/audio/<emotion>/level_<n>/<nnn>.m4a``. Files are matched on the
trailing parts of that path that identify them in the corpus (the file name for CREMA-D and
RAVDESS, speaker/audio/emotion/level/number for MEAD), without the suffix, so ``.wav`` copies
of MEAD's ``.m4a`` files match. A ``<dataset>_valid_fold_<n>`` file, where there is one, counts
as train.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from voxcore.plugin_api import UserError

__all__ = ["EmoboxEntry", "EmoboxSplit", "file_stem", "read_emobox_split", "speaker_split"]

_FILE = re.compile(r"^(?P<dataset>.+)_(?P<split>train|valid|test)_fold_(?P<fold>\d+)"
                   r"\.(?P<format>jsonl|json)$")
_FORMAT_HINT = ("EmoBox's split files are data/<dataset>/fold_<n>/<dataset>_train_fold_<n>.jsonl "
                "and <dataset>_test_fold_<n>.jsonl (github.com/emo-box/EmoBox)")


def file_stem(name: str) -> str:
    """``name`` without its suffix (as :attr:`pathlib.PurePath.stem`, without parsing a path:
    split files hold tens of thousands of names)."""
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


@dataclass(frozen=True)
class EmoboxEntry:
    """One utterance of a split file: the path parts that name it (no suffix) and its split."""

    key: tuple[str, ...]
    split: str
    wav: str


@dataclass(frozen=True)
class EmoboxSplit:
    """The entries of one fold's split files."""

    files: tuple[Path, ...]
    entries: tuple[EmoboxEntry, ...]

    def describe(self) -> str:
        """The files, for messages."""
        return ", ".join(str(file.absolute()) for file in self.files)


def _fold_files(path: Path, fold: int) -> list[Path]:
    """The split files of ``fold`` (or of the fold a file names) that ``path`` points to."""
    if not path.exists():
        raise UserError(f"split_file {path.absolute()} does not exist; give {_FORMAT_HINT}, "
                        "their fold_<n> folder or the dataset folder above it")
    if path.is_file():
        found = _FILE.match(path.name)
        if found is None:
            raise UserError(f"split_file {path.absolute()} is not named like an EmoBox split "
                            f"file (<dataset>_train_fold_<n>.jsonl); {_FORMAT_HINT}")
        stem = f"{found['dataset']}_{{}}_fold_{found['fold']}.{found['format']}"
        folder = path.parent
    else:
        folder = path if re.fullmatch(r"fold_\d+", path.name) else path / f"fold_{fold}"
        if not folder.is_dir():
            folds = sorted(p.name for p in path.glob("fold_*") if p.is_dir())
            raise UserError(f"split_file {path.absolute()} has no folder fold_{fold} (it has: "
                            f"{', '.join(folds) or 'none'}); {_FORMAT_HINT}")
        suffix = path.name[5:] if folder == path else str(fold)
        candidates = sorted(folder.glob(f"*_test_fold_{suffix}.jsonl")) or sorted(
            folder.glob(f"*_test_fold_{suffix}.json"))
        if not candidates:
            raise UserError(f"split_file: {folder.absolute()} holds no "
                            f"<dataset>_test_fold_{suffix}.jsonl or .json; {_FORMAT_HINT}")
        found = _FILE.match(candidates[0].name)
        assert found is not None
        stem = f"{found['dataset']}_{{}}_fold_{found['fold']}.{found['format']}"
    files = [folder / stem.format(split) for split in ("train", "valid", "test")]
    for required in (files[0], files[2]):
        if not required.is_file():
            raise UserError(f"split_file: {required.absolute()} does not exist; both the train "
                            f"and the test file of a fold are needed. {_FORMAT_HINT}")
    return [file for file in files if file.is_file()]


def _records(file: Path) -> list[tuple[str, object]]:
    """``(where, record)`` of every utterance of a ``.jsonl`` or ``.json`` split file."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"split_file {file.absolute()} cannot be read ({exc})") from exc
    try:
        if file.suffix == ".jsonl":
            return [(f"line {number}", json.loads(line))
                    for number, line in enumerate(text.splitlines(), 1) if line.strip()]
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"split_file {file.absolute()} is not valid JSON ({exc}); "
                        f"{_FORMAT_HINT}") from exc
    if isinstance(data, dict):
        return [(f"entry {key!r}", record) for key, record in data.items()]
    if isinstance(data, list):
        return [(f"item {index}", record) for index, record in enumerate(data)]
    raise UserError(f"split_file {file.absolute()} holds neither an object nor a list; "
                    f"{_FORMAT_HINT}")


def read_emobox_split(path: Path, fold: int) -> EmoboxSplit:
    """The entries of EmoBox's split files at ``path`` (see the module docstring)."""
    files = _fold_files(path, fold)
    entries: list[EmoboxEntry] = []
    for file in files:
        found = _FILE.match(file.name)
        assert found is not None
        split = "test" if found["split"] == "test" else "train"
        for where, record in _records(file):
            wav = record.get("wav") if isinstance(record, dict) else None
            if not isinstance(wav, str) or not wav.strip():
                raise UserError(f"split_file {file.absolute()}, {where}: no 'wav' path (EmoBox's "
                                f"entries name their file in 'wav'); {_FORMAT_HINT}")
            parts = [part for part in wav.replace("\\", "/").split("/") if part not in ("", ".")]
            parts[-1] = file_stem(parts[-1])
            entries.append(EmoboxEntry(key=tuple(parts), split=split, wav=wav))
    return EmoboxSplit(files=tuple(files), entries=tuple(entries))


def speaker_split(speakers: Iterable[str], test_fraction: float, seed: int) -> dict[str, str]:
    """``"train"`` or ``"test"`` for each speaker: speakers ordered by the SHA-256 of
    ``"<seed>:<speaker>"``, the first ``round(test_fraction * count)`` (at least one, never
    all; none when there is only one speaker) in test."""
    ordered = sorted(set(speakers),
                     key=lambda speaker: hashlib.sha256(f"{seed}:{speaker}".encode()).hexdigest())
    count = len(ordered)
    tests = 0 if count < 2 else min(count - 1, max(1, round(test_fraction * count)))
    return {speaker: "test" if index < tests else "train"
            for index, speaker in enumerate(ordered)}
