"""JSONL manifests: the on-disk index every voxcore dataset is read from.

A manifest holds one JSON object per line::

    {"id": "s1", "audio": "audio/s1.wav", "image": "images/s1.png",
     "transcript": "a circle on the left", "speaker": "m3", "labels": {"mood": "fear"}}

Only ``id`` is required; ``audio`` and ``image`` are paths relative to the manifest's folder (or
absolute), ``labels`` maps names to string values. :func:`read_manifest` turns a manifest into
:class:`~voxcore.interfaces.Sample` s with absolute paths and reports every problem it finds
(with the file and line) in one :class:`DatasetError`; :func:`write_manifest` writes one
atomically. This module imports neither torch nor numpy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from voxcore.errors import UserError
from voxcore.interfaces import Sample
from voxcore.io import write_text_atomic

__all__ = [
    "DatasetError",
    "MANIFEST_FIELDS",
    "ManifestDataset",
    "SampleList",
    "read_manifest",
    "write_manifest",
]

#: The fields a manifest line may have, in the order :func:`write_manifest` writes them.
MANIFEST_FIELDS = ("id", "audio", "image", "transcript", "speaker", "labels")

#: How many problems one error message lists before summarising the rest as a count.
MAX_LISTED = 10

_OPTIONAL_TEXT = ("transcript", "speaker")
_PATHS = ("audio", "image")


class DatasetError(UserError, ValueError):
    """A dataset or manifest that cannot be used; the message says what to fix."""


def read_manifest(path: str | os.PathLike[str], *, check_files: bool = True) -> list[Sample]:
    """Read a JSONL manifest into samples whose ``audio``/``image`` are absolute paths.

    Blank lines are skipped. Raises :class:`DatasetError` when the manifest is missing, or
    listing (with line numbers) every line that is not a JSON object, lacks an ``id``, repeats
    an ``id``, has a field of the wrong type or a field not in :data:`MANIFEST_FIELDS`, and,
    when ``check_files`` is true, every referenced audio or image file that does not exist.
    """
    manifest = Path(path)
    if not manifest.exists():
        raise DatasetError(f"manifest {manifest} does not exist; check the path (relative paths "
                           f"are resolved from {Path.cwd()})")
    if not manifest.is_file():
        raise DatasetError(f"manifest {manifest} is not a file; give the path of a .jsonl file")
    try:
        text = manifest.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"manifest {manifest} is not UTF-8 text ({exc}); a manifest is a "
                           "JSONL file with one JSON object per line") from None
    base = manifest.parent.absolute()
    samples: list[Sample] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for number, line in _numbered_lines(text):
        sample = _parse_line(line, number, base, first_line, problems)
        if sample is not None:
            samples.append(sample)
    if problems:
        raise DatasetError(_summary(f"manifest {manifest} has", problems))
    if check_files:
        missing = list(_missing_files(samples, first_line))
        if missing:
            raise DatasetError(_summary(f"manifest {manifest} references", missing,
                                        noun="missing file"))
    return samples


def write_manifest(path: str | os.PathLike[str], samples: Iterable[Sample]) -> None:
    """Write ``samples`` to a JSONL manifest atomically.

    Paths inside the manifest's folder are written relative to it (with ``/``), so the folder
    can be moved as a whole; other paths are written absolute. Relative paths in a sample are
    taken from the current directory. Raises :class:`DatasetError` for a repeated or empty id
    or a label that is not a string.
    """
    manifest = Path(path)
    base = manifest.parent.absolute()
    lines: list[str] = []
    seen: set[str] = set()
    for sample in samples:
        if not isinstance(sample.id, str) or not sample.id:
            raise DatasetError(f"cannot write manifest {manifest}: sample id must be a non-empty "
                               f"string, got {sample.id!r}")
        if sample.id in seen:
            raise DatasetError(f"cannot write manifest {manifest}: duplicate id {sample.id!r}")
        seen.add(sample.id)
        bad = {k: v for k, v in sample.labels.items()
               if not (isinstance(k, str) and isinstance(v, str))}
        if bad:
            raise DatasetError(f"cannot write manifest {manifest}: labels of {sample.id!r} must "
                               f"map strings to strings, got {bad!r}")
        record = {
            "id": sample.id,
            "audio": _relative(sample.audio, base),
            "image": _relative(sample.image, base),
            "transcript": sample.transcript,
            "speaker": sample.speaker,
            "labels": dict(sample.labels),
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    write_text_atomic(manifest, "".join(line + "\n" for line in lines))


class SampleList:
    """Loaded samples in a fixed order, as a :class:`voxcore.interfaces.Dataset`.

    ``name`` says which dataset (and split) they are, for messages and ``repr``. Dataset
    plugins that parse their own release formats return one of these.
    """

    def __init__(self, name: str, samples: Sequence[Sample]) -> None:
        self.name = name
        self.samples: list[Sample] = list(samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Sample:
        return self.samples[index]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {len(self)} samples)"

    def label_values(self, key: str) -> list[str]:
        """Sorted distinct values of label ``key`` over the samples that have it.

        Raises :class:`DatasetError` naming the label keys present when no sample has ``key``.
        """
        values = {s.labels[key] for s in self.samples if key in s.labels}
        if not values and self.samples:
            known = sorted({k for s in self.samples for k in s.labels})
            raise DatasetError(f"no sample of {self.name} has label {key!r}; labels present: "
                               f"{', '.join(known) or 'none'}")
        return sorted(values)


class ManifestDataset(SampleList):
    """The samples of one manifest, as a :class:`voxcore.interfaces.Dataset`.

    ``ManifestDataset(path)`` reads (and checks) the manifest once; ``samples`` is the list of
    :class:`~voxcore.interfaces.Sample` s in file order and ``path`` the manifest.
    """

    def __init__(self, path: str | os.PathLike[str], *, check_files: bool = True) -> None:
        self.path = Path(path)
        super().__init__(str(self.path), read_manifest(self.path, check_files=check_files))


def _numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield number, line


def _parse_line(
    line: str, number: int, base: Path, first_line: dict[str, int], problems: list[str]
) -> Sample | None:
    """Parse one line into a sample, or append what is wrong with it to ``problems``."""
    try:
        record: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        problems.append(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})")
        return None
    if not isinstance(record, dict):
        problems.append(f"line {number}: expected a JSON object, got {_json_type(record)}")
        return None
    found = len(problems)
    unknown = sorted(set(record) - set(MANIFEST_FIELDS))
    if unknown:
        problems.append(f"line {number}: unknown field(s) {', '.join(map(repr, unknown))}; "
                        f"allowed fields: {', '.join(MANIFEST_FIELDS)}")
    sample_id: Any = record.get("id")
    if "id" not in record:
        problems.append(f"line {number}: missing required field 'id'")
    elif not isinstance(sample_id, str) or not sample_id:
        problems.append(f"line {number}: 'id' must be a non-empty string, got "
                        f"{_json_type(sample_id)}")
    elif sample_id in first_line:
        problems.append(f"line {number}: duplicate id {sample_id!r} (first on line "
                        f"{first_line[sample_id]})")
    else:
        first_line[sample_id] = number
    for name in _PATHS + _OPTIONAL_TEXT:
        value = record.get(name)
        if value is not None and (not isinstance(value, str) or (name in _PATHS and not value)):
            kind = "a non-empty string" if name in _PATHS else "a string"
            problems.append(f"line {number}: {name!r} must be {kind} or null, got "
                            f"{_json_type(value)}")
    labels = record.get("labels", {})
    if not isinstance(labels, dict):
        problems.append(f"line {number}: 'labels' must be an object of strings, got "
                        f"{_json_type(labels)}")
    else:
        for key, value in labels.items():
            if not isinstance(value, str):
                problems.append(f"line {number}: label {key!r} must be a string, got "
                                f"{_json_type(value)}")
    if len(problems) > found or not isinstance(sample_id, str):
        return None
    return Sample(
        id=sample_id,
        audio=_absolute(record.get("audio"), base),
        image=_absolute(record.get("image"), base),
        transcript=record.get("transcript"),
        speaker=record.get("speaker"),
        labels=dict(labels),
    )


def _missing_files(samples: Sequence[Sample], first_line: Mapping[str, int]) -> Iterator[str]:
    for sample in samples:
        for name in _PATHS:
            file: Path | None = getattr(sample, name)
            if file is not None and not file.is_file():
                yield f"line {first_line[sample.id]}: {name} {file}"


def _summary(prefix: str, problems: Sequence[str], noun: str = "problem") -> str:
    count = len(problems)
    lines = [f"{prefix} {count} {noun}{'s' if count != 1 else ''}:"]
    lines += [f"  - {problem}" for problem in problems[:MAX_LISTED]]
    if count > MAX_LISTED:
        lines.append(f"  ... and {count - MAX_LISTED} more")
    return "\n".join(lines)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if isinstance(value, int | float):
        return f"a number ({json.dumps(value)})"
    if isinstance(value, str):
        return f"a string ({json.dumps(value)})"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _absolute(value: str | None, base: Path) -> Path | None:
    if value is None:
        return None
    # normpath folds "a/../b" so paths compare equal however the manifest spelled them.
    return Path(os.path.normpath(base / value))


def _relative(file: Path | None, base: Path) -> str | None:
    if file is None:
        return None
    absolute = Path(os.path.normpath(Path(file).absolute()))
    if absolute.is_relative_to(base):
        return absolute.relative_to(base).as_posix()
    return absolute.as_posix()
