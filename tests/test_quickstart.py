"""``voxcore quickstart`` end to end through the CLI, on a tiny budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent


@pytest.mark.slow
def test_quickstart_writes_a_report_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "qs"
    command = [sys.executable, "-m", "voxcore.cli", "quickstart", "--out", str(out),
               "--size", "80", "--steps", "3", "--no-progress"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = (out / "report.md").read_text()
    assert "| mel → SIB → tiny-unet | speech |" in report
    assert "| text encoder → SIB → tiny-unet | text |" in report
    assert "![mood grid](mood_grid.png)" in report
    assert (out / "mood_grid.png").is_file()
    for model in ("speech", "text"):
        assert (out / "runs" / model / "eval" / "test" / "metrics.json").is_file()
    assert "speech: content_accuracy" in result.stdout

    again = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "reusing the VoxShapes dataset" in again.stderr
    assert "training quickstart" not in again.stderr  # both runs were complete
