"""Whether components are being assembled for ``voxcore recipe check`` (on the meta device).

``voxcore recipe check`` builds every part of a recipe with torch's default device set to
``meta`` and this flag on: no weights are read, nothing is downloaded or prepared. A component
whose constructor reads files (pretrained weights, a prepared artefact) checks
:func:`checking` and, when it is on, builds its architecture from what it can know without
them (a published architecture, a folder's ``config.json``), or raises
:class:`voxcore.errors.CannotCheck` saying what it would need.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["check_mode", "checking"]

_CHECKING: ContextVar[bool] = ContextVar("voxcore_checking", default=False)


def checking() -> bool:
    """True while a recipe is being assembled on the meta device to check it."""
    return _CHECKING.get()


@contextmanager
def check_mode() -> Iterator[None]:
    """Assemble components for a check: the flag on and torch's default device ``meta``."""
    import torch

    token = _CHECKING.set(True)
    try:
        with torch.device("meta"):
            yield
    finally:
        _CHECKING.reset(token)
