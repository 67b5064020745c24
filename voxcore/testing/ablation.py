"""Shipped ablation files made small enough for a test: :func:`small_ablation`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["small_ablation"]


def small_ablation(shipped: Path, folder: Path, *, size: int,
                   overrides: dict[str, Any]) -> Path:
    """Write a copy of the ablation file ``shipped`` into ``folder`` and return its path.

    The copy names its recipes by absolute path (so it runs from anywhere), builds its first
    dataset with ``size`` samples and adds ``overrides`` (dotted keys) to every variant's;
    nothing else changes, so a test of it runs the shipped variants' own settings.
    """
    ablation = yaml.safe_load(shipped.read_text())
    ablation["recipe"] = str((shipped.parent / ablation["recipe"]).resolve())
    for variant in ablation["variants"].values():
        if "recipe" in variant:
            variant["recipe"] = str((shipped.parent / variant["recipe"]).resolve())
    ablation["build"][0]["config"]["size"] = size
    ablation.setdefault("overrides", {}).update(overrides)
    path = folder / shipped.name
    path.write_text(yaml.safe_dump(ablation))
    return path
