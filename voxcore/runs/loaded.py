"""A trained model loaded with its recipe: what :func:`voxcore.runs.load` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxcore.recipe import ResolvedRecipe

if TYPE_CHECKING:
    from voxcore.model import VoxModel

__all__ = ["LoadedRun"]


@dataclass(frozen=True)
class LoadedRun:
    """A trained model with the recipe it was built from.

    ``source`` is the checkpoint folder (or exported folder) its weights came from, ``step``
    the training step they were saved at, ``used_ema`` whether they are the EMA weights;
    ``folder`` is the run or exported folder, ``prepared`` the prepared artefacts kept there
    (by recipe section) and ``versions`` its record of versions and preparations.
    """

    model: VoxModel
    resolved: ResolvedRecipe
    source: str
    step: int
    used_ema: bool
    folder: Path = Path()
    prepared: dict[str, Path] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=dict)

    @property
    def prepared_figures(self) -> dict[str, dict[str, Any]]:
        """What each preparation reported (held-out accuracy, ...), by recipe section."""
        records = self.versions.get("prepared", {})
        return {section: dict(record.get("figures", {})) for section, record in records.items()
                if isinstance(record, dict)}
