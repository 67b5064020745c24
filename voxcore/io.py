"""Saving and loading artifacts: safetensors only, every write atomic.

Nothing voxcore writes is a pickle. Files are written to a temporary name in the same
folder and renamed into place, so a killed process leaves either the old file or the new
one, never half of one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes (hex), read a megabyte at a time."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; artifacts are meant to be shared
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def save_tensors(
    path: str | os.PathLike[str],
    tensors: Mapping[str, torch.Tensor],
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Save named tensors to a safetensors file atomically.

    Tensors are made contiguous and copied off shared storage first (safetensors refuses
    tensors that share memory, as tied weights do).
    """
    from safetensors.torch import save_file

    plain = {name: t.detach().contiguous().clone() for name, t in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(plain, str(tmp), metadata=dict(metadata) if metadata else None)


def load_tensors(path: str | os.PathLike[str], device: str = "cpu") -> dict[str, torch.Tensor]:
    """Load every tensor of a safetensors file."""
    from safetensors.torch import load_file

    return load_file(str(path), device=device)


def save_module(module: torch.nn.Module, path: str | os.PathLike[str]) -> None:
    """Save a module's ``state_dict()`` (parameters and persistent buffers) as safetensors."""
    save_tensors(path, module.state_dict())


def load_module(module: torch.nn.Module, path: str | os.PathLike[str]) -> None:
    """Load a safetensors file written by :func:`save_module` into ``module`` (strictly)."""
    module.load_state_dict(load_tensors(path), strict=True)


@contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Hold ``.<folder>.lock`` beside ``folder`` while making it, so a second voxcore process
    making the same folder waits and then finds it made (an advisory lock; where file locks
    do not exist, nothing is held)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; at worst both do the work
        yield
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f".{folder.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def unique_names(stems: Sequence[str]) -> list[str]:
    """``stems`` with repeats numbered (``a``, ``a-2``, ...), for files or labels that must
    not collide."""
    seen: dict[str, int] = {}
    names = []
    for stem in stems:
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return names
