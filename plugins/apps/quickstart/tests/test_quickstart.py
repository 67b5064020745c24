"""``voxcore quickstart`` end to end through the CLI, on a tiny budget."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[4]


@pytest.mark.slow
def test_quickstart_writes_a_report_and_resumes(small_quickstart: Any) -> None:
    out, command, result = small_quickstart.out, small_quickstart.command, small_quickstart.result
    report = (out / "report.md").read_text()
    assert "| ctc-words → words-prosody → tiny-unet | speech |" in report
    assert "word recogniser (trained on the training split's speech" in report
    assert "| text → identity → tiny-unet | text |" in report
    assert "![mood grid](mood_grid.png)" in report
    assert "chance is 20%" in report  # five moods, whatever the test split happens to hold
    assert (out / "mood_grid.png").is_file()
    for model in ("speech", "text"):
        assert (out / "runs" / model / "eval" / "test" / "metrics.json").is_file()
    assert "speech: content_accuracy" in result.stdout

    again = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "reusing the VoxShapes dataset" in again.stderr
    assert "training quickstart" not in again.stderr  # both runs were complete
    assert "preparing" not in again.stderr  # the recogniser and judge come from the runs


@pytest.mark.parametrize(("described", "expected"), [
    ({"format_version": 1, "config": {"size": 80, "seed": 0}}, "of format 1"),
    ({"format_version": 2, "config": {"size": 50, "seed": 0}}, "other settings (size 50"),
])
def test_quickstart_refuses_a_dataset_it_did_not_build_this_way(
        tmp_path: Path, described: dict[str, object], expected: str) -> None:
    data = tmp_path / "qs" / "voxshapes"
    data.mkdir(parents=True)
    (data / "voxshapes.json").write_text(json.dumps(described))
    command = [sys.executable, "-m", "voxcore.cli", "quickstart", "--out", str(tmp_path / "qs"),
               "--size", "80", "--steps", "3", "--no-progress"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 2, result.stderr[-3000:]
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert (data / "voxshapes.json").read_text() == json.dumps(described)  # nothing removed


@pytest.mark.slow
def test_sequential_trains_and_evaluates_in_one_process(small_quickstart: Any,
                                                        tmp_path: Path) -> None:
    out = tmp_path / "qs"
    shutil.copytree(small_quickstart.out, out)
    shutil.rmtree(out / "runs" / "text")
    shutil.rmtree(out / "runs" / "speech" / "eval")
    command = [sys.executable, "-m", "voxcore.cli", "quickstart", "--out", str(out),
               "--size", "80", "--steps", "3", "--no-progress", "--sequential"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "training quickstart" in result.stderr  # the text model, again
    for model in ("speech", "text"):
        assert (out / "runs" / model / "eval" / "test" / "metrics.json").is_file()
    assert "text: content_accuracy" in result.stdout
