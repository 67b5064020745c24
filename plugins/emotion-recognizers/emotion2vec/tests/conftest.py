"""Tiny emotion2vec+ checkpoints in the hub's folder layout, and no network for any test.

Every test runs with the Hugging Face hub offline and empty Hugging Face and ModelScope
caches under ``tmp_path``, so a lookup that misses fails at once instead of waiting on a
hub this machine cannot reach (and a developer's real caches change nothing).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from voxcore_emotion2vec import write_tiny_checkpoint


@pytest.fixture(autouse=True)
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No hub is asked; the caches a test sees are empty folders of its own."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("MODELSCOPE_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "modelscope-cache"))


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random emotion2vec+ checkpoint (config.yaml, model.pt, tokens.txt), shared."""
    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny-emotion2vec"))
