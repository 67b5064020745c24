"""Turning an exception raised inside a plugin into one clear error that names the part.

voxcore calls plugin code at a few known places: building a component, preparing it,
encoding, conditioning, the diffusion loss, sampling, editing, a metric's update and compute.
Each call runs inside :func:`blame`, so an unexpected exception there becomes a
:class:`~voxcore.errors.PluginFailure` ("generator 'sd15' (voxcore-sd 0.1.0, recipe section
generator) failed while sampling: ValueError: ..."), which the CLI prints without a
traceback (``voxcore --debug`` shows it). voxcore's own errors, which already speak to the
user (:class:`~voxcore.errors.UserError` and the others), pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voxcore.errors import PluginFailure, VoxcoreError

if TYPE_CHECKING:
    from voxcore.registry import ComponentEntry

__all__ = ["PartLabel", "blame"]


@dataclass(frozen=True)
class PartLabel:
    """A component of a recipe, as messages name it."""

    kind: str
    name: str
    distribution: str
    version: str
    section: str

    @classmethod
    def of(cls, entry: ComponentEntry, section: str) -> PartLabel:
        """The label of ``entry`` used at recipe ``section``."""
        return cls(entry.kind.replace("_", " "), entry.name, entry.distribution, entry.version,
                   section)

    def __str__(self) -> str:
        return (f"{self.kind} {self.name!r} ({self.distribution} {self.version}, recipe "
                f"section {self.section})")


@contextmanager
def blame(label: PartLabel | None, action: str) -> Iterator[None]:
    """Run plugin code; an unexpected exception becomes a :class:`PluginFailure` naming
    ``label`` and what it was doing (``action``, e.g. ``"encoding speech"``)."""
    try:
        yield
    except (VoxcoreError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except Exception as exc:
        if label is None:
            raise
        raise PluginFailure(f"{label} failed while {action}: {type(exc).__name__}: {exc} "
                            "(run with 'voxcore --debug ...' for the traceback)") from exc
