"""Shipped ablation files run small in a test: :func:`small_ablation` writes a small copy,
:func:`train_one_variant_offline` runs one variant of it through the CLI as a user would."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

__all__ = ["QUICK_TRAINING", "small_ablation", "train_one_variant_offline"]

#: Overrides that make any quickstart-sized variant train and evaluate in seconds.
QUICK_TRAINING: dict[str, Any] = {"train.max_steps": 3, "train.batch_size": 4,
                                  "train.warmup_steps": 1, "train.checkpoint_every": 3,
                                  "generate.steps": 2}


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


def train_one_variant_offline(ablation: Path, variant: str, folder: Path) -> dict[str, str]:
    """Run ``voxcore ablate ABLATION --only VARIANT --out FOLDER/out`` in a fresh process with
    the hub offline and a private cache, check it trained and evaluated that one variant, and
    return its row of ``results.csv``."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "XDG_CACHE_HOME": str(folder / "xdg")}
    result = subprocess.run(
        [sys.executable, "-m", "voxcore.cli", "ablate", str(ablation), "--only", variant,
         "--out", str(folder / "out")],
        cwd=folder, env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "1 run(s) trained, 0 finished before, 0 failed" in result.stdout
    with (folder / "out" / "results.csv").open() as table:
        rows = list(csv.DictReader(table))
    assert [row["variant"] for row in rows] == [variant]
    assert rows[0]["content_accuracy"] != "" and rows[0]["mood_accuracy"] != ""
    return rows[0]
