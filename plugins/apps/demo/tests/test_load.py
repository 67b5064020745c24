"""20 concurrent requests against a local demo server (``benchmarks/demo_load.py``): all are
answered, none is lost, and the server's memory stays flat."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]


@pytest.mark.slow
def test_twenty_concurrent_requests_are_all_answered_and_memory_stays_flat(
        quickstart_runs: Path, tmp_path: Path) -> None:
    figures_file = tmp_path / "load.json"
    runs = quickstart_runs / "runs"
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "demo_load.py"), "--runs",
         str(runs / "speech"), str(runs / "text"), "--requests", "20", "--clients", "20",
         "--warmup", "3", "--json", str(figures_file)],
        capture_output=True, text=True, timeout=900, cwd=quickstart_runs)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    figures = json.loads(figures_file.read_text())
    assert figures["succeeded"] == 20 and figures["failed"] == [] and figures["lost"] == 0
    assert figures["server_alive_after"]
    assert figures["rss_growth_mb"] < 100, figures
    assert "20 requests from 20 concurrent clients: 20 answered" in result.stdout
