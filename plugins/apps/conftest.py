"""A small ``voxcore quickstart`` shared by the quickstart's and the demo's tests.

Made once per test session (about a minute): the quickstart's test checks what it wrote, the
demo's tests serve its runs. The test scheduler (root ``conftest.py``) keeps every test under
this folder on one worker, so it is made once in all.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class SmallQuickstart:
    """Where the quickstart wrote, the command that ran it, and what it printed."""

    out: Path
    command: list[str]
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def small_quickstart(tmp_path_factory: pytest.TempPathFactory) -> SmallQuickstart:
    """``voxcore quickstart`` on a tiny budget (80 samples, 3 steps): its ``runs/speech`` and
    ``runs/text`` are what a user serves after the README's first command."""
    out = tmp_path_factory.mktemp("quickstart") / "qs"
    command = [sys.executable, "-m", "voxcore.cli", "quickstart", "--out", str(out),
               "--size", "80", "--steps", "3", "--no-progress"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return SmallQuickstart(out, command, result)
