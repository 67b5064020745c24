"""``benchmarks/voxemoset_build.py`` runs in its quick configuration, so it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
STAGES = ("captions (captions-file)", "speech synthesis (espeak)",
          "emotion check (speech-emotion)", "mono + resample 24 -> 16 kHz",
          "write wav + record", "DNSMOS (speechmos)")


@pytest.mark.slow
def test_the_voxemoset_build_benchmark_measures_every_part(tmp_path: Path) -> None:
    out = tmp_path / "voxemoset.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "voxemoset_build.py"), "--quick",
         "--processes", "1", "2", "--json", str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())

    build = report["offline_build"]
    runs = {run["processes"]: run for run in build["runs"]}
    assert set(runs) == {1, 2}
    for run in runs.values():
        # One image per class and split: 18 images, 3 captions each, most of them kept.
        assert run["images"] == 18 and 0 < run["utterances_written"] <= 54
        assert run["wall_seconds"] > run["stage_seconds"] > 0
        assert run["utterances_per_second_stages"] > run["utterances_per_second_wall"] > 0
        assert len(run["per_process"]) == run["processes"]
    assert build["ratio_2_to_1"]["wall"] > 0 and build["ratio_2_to_1"]["stages"] > 0

    rows = {row["stage"]: row for row in report["stage_latency"]["rows"]}
    assert set(rows) == set(STAGES)
    assert all(row["wall_ms"] > 0 and row["cpu_ms"] >= 0 for row in rows.values())

    paper = report["paper_size"]
    costs = paper["costs"]
    # The plugins' own figures (their READMEs and architecture tests).
    assert costs["llava"]["parameters"] == pytest.approx(8.03e9, rel=0.005)
    assert (costs["llava"]["crops"], costs["llava"]["image_tokens"]) == (5, 2929)
    assert costs["f5tts"]["macs"] == pytest.approx(9.58e12, rel=0.01)
    assert costs["emotion2vec"]["macs"] == pytest.approx(46.6e9, rel=0.01)
    assert costs["whisper"]["parameters"] == pytest.approx(1.55e9, rel=0.01)
    estimate = paper["estimate"]
    assert [row["stage"] for row in estimate["stages"]] == [
        "captions", "speech", "emotion check", "reference transcripts"]
    assert all(row["flops"] > 0 and row["a100_hours"] > 0 for row in estimate["stages"])
    assert estimate["total_a100_hours_pessimistic"] > estimate["total_a100_hours"] > 0
    assert estimate["offline_cpu"]["core_hours"] > 0 and estimate["dnsmos_cpu_hours"] > 0

    for title in ("1. Offline build through the CLI", "2. Offline stages per item",
                  "3a. Paper-size stages per item", "3b. The paper's build"):
        assert title in result.stdout, result.stdout
