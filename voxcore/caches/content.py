"""Tensors computed from files, stored on disk once per distinct file content.

Both the speech-feature cache and the image-latent cache are one of these: an entry's key is
the SHA-256 of the source file's bytes, so renamed or duplicated files share an entry and an
edited file misses. Entries are single safetensors files under
``<folder>/<digest[:2]>/<digest>.safetensors``, written atomically, so a killed run leaves
either a whole entry or none.

Hashing every file on every run would cost minutes for a corpus of 600 k utterances, so the
digests are remembered in ``<root>/file-digests.json`` by absolute path, size and modification
time; a file whose size or time changed is hashed again.

Callers get entry *paths*, not tensors: :class:`CachedRows` reads them into memory when they
are small in total and one batch at a time otherwise, so memory stays flat however big the
dataset is.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from voxcore.io import file_digest, save_tensors, write_text_atomic

log = logging.getLogger(__name__)

__all__ = ["CacheFill", "CachedRows", "ContentCache", "DigestMemo", "PRELOAD_BYTES",
           "file_digest"]

#: Cached rows (or images) whose files add up to no more than this are kept in memory.
PRELOAD_BYTES = 1 << 30

#: What a cache computes for a batch of source files: one tensor (and string metadata) each.
Compute = Callable[[Sequence[Path]], Sequence[tuple[torch.Tensor, dict[str, str]]]]


class DigestMemo:
    """File digests remembered by (absolute path, size, modification time)."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.known: dict[str, list[object]] = {}
        if file.is_file():
            try:
                self.known = json.loads(file.read_text(encoding="utf-8"))
            except (ValueError, OSError):
                self.known = {}  # a damaged memo only costs hashing again
        self.changed = False

    def digests(self, paths: Sequence[Path]) -> list[str]:
        """The digest of each file, hashing only files not seen unchanged before."""
        result = []
        for path in paths:
            absolute = str(Path(path).absolute())
            stat = os.stat(absolute)
            remembered = self.known.get(absolute)
            if remembered and remembered[0] == stat.st_size and remembered[1] == stat.st_mtime_ns:
                result.append(str(remembered[2]))
                continue
            digest = file_digest(Path(absolute))
            self.known[absolute] = [stat.st_size, stat.st_mtime_ns, digest]
            self.changed = True
            result.append(digest)
        return result

    def save(self) -> None:
        """Write the memo (atomically) if anything new was hashed."""
        if self.changed:
            write_text_atomic(self.file, json.dumps(self.known))
            self.changed = False


@dataclass(frozen=True)
class CacheFill:
    """The entry file of each source file, and how many entries were reused or computed."""

    entries: list[Path]
    reused: int
    computed: int

    @property
    def summary(self) -> str:
        """One line for the log."""
        return f"{self.reused} reused from the cache, {self.computed} computed"


class ContentCache:
    """Entries holding one tensor called ``tensor`` each, under ``folder``."""

    def __init__(self, root: Path, folder: Path, tensor: str) -> None:
        self.root = root
        self.folder = folder
        self.tensor = tensor

    def entry(self, digest: str) -> Path:
        """Where the entry of a file with this digest lives."""
        return self.folder / digest[:2] / f"{digest}.safetensors"

    def fill(self, sources: Sequence[Path], compute: Compute, batch_size: int) -> CacheFill:
        """The entry of each source file, computing the missing ones ``batch_size`` at a time."""
        memo = DigestMemo(self.root / "file-digests.json")
        try:
            digests = memo.digests(sources)
        finally:
            memo.save()
        missing: dict[str, Path] = {}
        for digest, source in zip(digests, sources, strict=True):
            if digest not in missing and not self.entry(digest).is_file():
                missing[digest] = source
        pending = list(missing.items())
        for start in range(0, len(pending), batch_size):
            chunk = pending[start:start + batch_size]
            with torch.no_grad():
                outputs = compute([source for _, source in chunk])
            for (digest, _), (tensor, metadata) in zip(chunk, outputs, strict=True):
                save_tensors(self.entry(digest), {self.tensor: tensor}, metadata=metadata)
        reused = len(set(digests)) - len(pending)
        return CacheFill([self.entry(d) for d in digests], reused, len(pending))


def read_entry(path: Path, tensor: str) -> torch.Tensor:
    """The tensor stored in one cache entry."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        loaded: torch.Tensor = handle.get_tensor(tensor)
    return loaded


def entry_metadata(path: Path) -> dict[str, str]:
    """The string metadata stored with one cache entry."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return dict(handle.metadata() or {})


class CachedRows:
    """Cache entries read as rows: all in memory when small, else one batch at a time."""

    def __init__(self, entries: Sequence[Path], tensor: str,
                 preload_bytes: int = PRELOAD_BYTES) -> None:
        self.entries = list(entries)
        self.tensor = tensor
        distinct = sorted(set(self.entries))
        total = sum(path.stat().st_size for path in distinct)
        self.loaded: dict[Path, torch.Tensor] | None = None
        if total <= preload_bytes:
            self.loaded = {path: read_entry(path, tensor) for path in distinct}

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def in_memory(self) -> bool:
        """Whether every row is held in memory."""
        return self.loaded is not None

    def rows(self, indices: Sequence[int]) -> list[torch.Tensor]:
        """The rows at ``indices``."""
        if self.loaded is not None:
            return [self.loaded[self.entries[i]] for i in indices]
        return [read_entry(self.entries[i], self.tensor) for i in indices]
