"""The ``manifest`` dataset: any JSONL or CSV file listing audio, image and transcript.

Like a Hugging Face ``audiofolder``/``imagefolder`` ``metadata.csv``: one row per sample,
file paths relative to the file's folder (or absolute), column names configurable. Splits
come from a ``{split}`` placeholder in the path (``data/{split}.csv``) or from a column
naming each row's split (``split_column``); a plain path is the same file for every split.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from voxcore.plugin_api import DatasetError, Sample
from voxcore_datasets._common import (
    SampleList,
    check_referenced_files,
    numbered_lines,
    raise_problems,
    read_text,
    require_file,
)
from voxcore_datasets.config import ManifestConfig

__all__ = ["load_manifest"]

_JSONL = (".jsonl", ".json", ".ndjson")
_CSV = {".csv": ",", ".tsv": "\t"}
_FIELDS = ("audio", "image", "transcript", "speaker")


def load_manifest(config: ManifestConfig) -> SampleList:
    """The rows of ``config.path`` (for ``config.split``) as samples, in file order."""
    path = Path(config.path.replace("{split}", config.split))
    hint = ("check 'path'" + (f" (split {config.split!r} filled in for '{{split}}')"
                              if "{split}" in config.path else "")
            + f"; relative paths are resolved from {Path.cwd()}")
    require_file(path, "manifest", hint)
    rows = _jsonl_rows(path) if _format(path, config.format) == "jsonl" else _csv_rows(path)
    base = path.parent.absolute()
    columns = config.columns
    problems: list[str] = []
    found: list[tuple[str, Sample]] = []
    first: dict[str, str] = {}
    for index, (where, row) in enumerate(rows):
        if isinstance(row, str):
            problems.append(f"{where}: {row}")
            continue
        if config.split_column is not None:
            if config.split_column not in row:
                problems.append(f"{where}: no split column {config.split_column!r}")
                continue
            if _text(row[config.split_column]) != config.split:
                continue
        values: dict[str, str | None] = {}
        bad = False
        for name in ("id", *_FIELDS):
            column = getattr(columns, name)
            value = row.get(column) if column is not None else None
            text = _text(value)
            if value is not None and text is None and value != "":
                problems.append(f"{where}: {column!r} must be a string, got {json.dumps(value)}")
                bad = True
            values[name] = text
        absent = [name for name in config.require if values[name] is None]
        if absent:
            problems.append(f"{where}: no {' and no '.join(repr(n) for n in absent)} (column"
                            f"{'s' if len(absent) > 1 else ''} "
                            f"{', '.join(repr(getattr(columns, n)) for n in absent)})")
            bad = True
        labels: dict[str, str] = {}
        for column in config.labels:
            text = _text(row.get(column))
            if text is not None:
                labels[column] = text
            elif row.get(column) not in (None, ""):
                problems.append(f"{where}: label {column!r} must be a string, got "
                                f"{json.dumps(row[column])}")
                bad = True
        sample_id = values["id"] or f"{path.stem}-{index}"
        if sample_id in first:
            problems.append(f"{where}: duplicate id {sample_id!r} (first at {first[sample_id]})")
            bad = True
        first.setdefault(sample_id, where)
        if bad or (config.limit is not None and len(found) >= config.limit):
            continue
        found.append((where, Sample(id=sample_id, audio=_absolute(values["audio"], base),
                                    image=_absolute(values["image"], base),
                                    transcript=values["transcript"], speaker=values["speaker"],
                                    labels=labels)))
    raise_problems(f"manifest {path} has", problems,
                   hint="columns are set by the dataset's 'columns' and 'labels' options")
    if config.check_files:
        check_referenced_files(
            ((where, name, getattr(sample, name)) for where, sample in found
             for name in ("audio", "image")),
            path, hint=f"paths in a manifest are relative to its folder, {base}")
    return SampleList(f"manifest {path}", [sample for _, sample in found])


def _format(path: Path, chosen: str) -> str:
    if chosen != "auto":
        return chosen
    suffix = path.suffix.lower()
    if suffix in _JSONL:
        return "jsonl"
    if suffix in _CSV:
        return "csv"
    raise DatasetError(f"cannot tell the format of manifest {path} from its suffix; name it "
                       ".jsonl or .csv, or set format: jsonl or format: csv")


def _jsonl_rows(path: Path) -> Iterator[tuple[str, dict[str, Any] | str]]:
    """``(where, row)``; ``row`` is a problem message for a line that is not an object."""
    for number, line in numbered_lines(read_text(path)):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield f"line {number}", f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(record, dict):
            yield f"line {number}", "expected a JSON object"
            continue
        yield f"line {number}", record


def _csv_rows(path: Path) -> Iterator[tuple[str, dict[str, Any] | str]]:
    """``(where, row)`` of a CSV/TSV file with a header line (blank lines skipped)."""
    text = read_text(path)
    reader = csv.DictReader(text.splitlines(keepends=True),
                            delimiter=_CSV.get(path.suffix.lower(), ","))
    if reader.fieldnames is None:
        raise DatasetError(f"manifest {path} is empty; a CSV manifest starts with a header "
                           "line naming its columns, e.g. id,audio,image,transcript")
    for row in reader:
        where = f"line {reader.line_num}"  # where the record ends (quoted newlines aside)
        if None in row:
            yield where, f"more fields than the header's {len(reader.fieldnames)}"
            continue
        yield where, {key: value for key, value in row.items() if value is not None}


def _text(value: Any) -> str | None:
    """A field as text: strings stay, numbers are spelled out; empty and other types: None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _absolute(value: str | None, base: Path) -> Path | None:
    if value is None:
        return None
    return Path(os.path.normpath(base / value))
