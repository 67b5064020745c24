"""The project's own rules, checked with the tools the README names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent


@pytest.mark.slow
def test_core_and_plugins_are_mypy_strict_clean() -> None:
    # pyproject.toml's [tool.mypy] files: voxcore/ and every plugins/*/*/src
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_pickle_and_no_unsafe_torch_load() -> None:
    offenders = []
    for path in REPO.glob("**/*.py"):
        if ".venv" in path.parts:
            continue
        text = path.read_text()
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("import pickle", "from pickle", "import dill")):
                offenders.append(f"{path}:{number}: {stripped}")
            if "torch.load(" in stripped and "weights_only=True" not in stripped:
                offenders.append(f"{path}:{number}: {stripped}")
    offenders = [o for o in offenders if "test_static_checks.py" not in o]
    assert not offenders, "\n".join(offenders)
