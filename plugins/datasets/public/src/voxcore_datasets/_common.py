"""Pieces every public dataset shares: problem reporting (the dataset class is the core's
:class:`voxcore.data.SampleList`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from voxcore.plugin_api import MAX_LISTED, DatasetError, SampleList

__all__ = ["SampleList", "check_referenced_files", "raise_problems", "read_text",
           "require_dir", "require_file"]


def raise_problems(prefix: str, problems: Sequence[str], noun: str = "problem",
                   hint: str = "") -> None:
    """Raise one :class:`DatasetError` listing ``problems`` (if any), like ``read_manifest``."""
    if not problems:
        return
    count = len(problems)
    lines = [f"{prefix} {count} {noun}{'s' if count != 1 else ''}:"]
    lines += [f"  - {problem}" for problem in problems[:MAX_LISTED]]
    if count > MAX_LISTED:
        lines.append(f"  ... and {count - MAX_LISTED} more")
    if hint:
        lines.append(hint)
    raise DatasetError("\n".join(lines))


def require_dir(path: Path, what: str, hint: str) -> Path:
    """``path`` if it is a folder, else a :class:`DatasetError` naming ``what`` and ``hint``."""
    if not path.is_dir():
        state = "is not a folder" if path.exists() else "does not exist"
        raise DatasetError(f"{what} {path.absolute()} {state}; {hint}")
    return path


def require_file(path: Path, what: str, hint: str) -> Path:
    """``path`` if it is a file, else a :class:`DatasetError` naming ``what`` and ``hint``."""
    if not path.is_file():
        state = "is not a file" if path.exists() else "does not exist"
        raise DatasetError(f"{what} {path.absolute()} {state}; {hint}")
    return path


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path`` (a :class:`DatasetError` if it is not UTF-8)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text ({exc}); is it the right file?") from None


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of the non-blank lines of ``text`` (numbers start at 1)."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield number, line


def check_referenced_files(
    entries: Iterable[tuple[str, str, Path | None]], source: Path, hint: str
) -> None:
    """Report every ``(where, field, path)`` whose file does not exist, all at once.

    ``where`` locates the reference in ``source`` (for example ``"line 4"``).
    """
    missing = [f"{where}: {field} {path}" for where, field, path in entries
               if path is not None and not os.path.isfile(path)]
    raise_problems(f"{source} references", missing, noun="missing file", hint=hint)
