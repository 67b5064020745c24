"""Fixtures of the demo's tests: small trained quickstart runs, made once per session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile


@pytest.fixture(scope="session")
def quickstart_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``voxcore quickstart`` on a tiny budget (80 samples, 3 steps): its ``runs/speech``
    and ``runs/text`` are what a user serves after the README's first command."""
    out = tmp_path_factory.mktemp("demo") / "quickstart"
    result = subprocess.run(
        [sys.executable, "-m", "voxcore.cli", "quickstart", "--out", str(out), "--size", "80",
         "--steps", "3", "--no-progress"], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def silent_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of digital silence."""
    path = tmp_path_factory.mktemp("audio") / "silent.wav"
    soundfile.write(path, np.zeros(16000, dtype="float32"), 16000)
    return path
