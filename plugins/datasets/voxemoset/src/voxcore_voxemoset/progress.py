"""Progress bars with an ETA, one per stage (tqdm on stderr), or none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

__all__ = ["Progress", "stage_progress"]


class Progress(Protocol):
    """What a stage calls as it finishes items."""

    def update(self, n: int = 1) -> object: ...


class _Silent:
    def update(self, n: int = 1) -> object:
        return None


@contextmanager
def stage_progress(stage: str, total: int, enabled: bool) -> Iterator[Progress]:
    """A bar for ``total`` items of ``stage`` (``enabled=False``: nothing is shown)."""
    if not enabled:
        yield _Silent()
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=stage, unit="item", dynamic_ncols=True) as bar:
        yield bar
