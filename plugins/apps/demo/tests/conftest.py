"""Fixtures of the demo's tests: the session's small trained quickstart, a silent file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile


@pytest.fixture(scope="session")
def quickstart_runs(small_quickstart: Any) -> Path:
    """The session's small quickstart (``plugins/apps/conftest.py``): its ``runs/speech`` and
    ``runs/text`` are what a user serves after the README's first command."""
    return Path(small_quickstart.out)


@pytest.fixture(scope="session")
def silent_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of digital silence."""
    path = tmp_path_factory.mktemp("audio") / "silent.wav"
    soundfile.write(path, np.zeros(16000, dtype="float32"), 16000)
    return path
