"""The tiny random F5-TTS of :mod:`voxcore_f5tts.tiny`, written once per session, and no hub."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from voxcore_f5tts.tiny import (
    TINY_ARCHITECTURE,
    tiny_config,
    write_tiny_checkpoint,
    write_tiny_vocos,
)


@dataclass(frozen=True)
class TinyF5:
    """Where the tiny model's files are."""

    model: Path
    vocoder: Path
    architecture: dict[str, int]

    @property
    def checkpoint(self) -> Path:
        return self.model / "model_tiny.safetensors"

    def config(self, **overrides: Any) -> dict[str, Any]:
        """An ``f5-tts`` config for the tiny model (4 flow steps), with ``overrides``."""
        return tiny_config(self.model, self.vocoder, **overrides)


@pytest.fixture(scope="session")
def tiny_f5(tmp_path_factory: pytest.TempPathFactory) -> TinyF5:
    """The tiny model's files."""
    root = tmp_path_factory.mktemp("tiny_f5tts")
    write_tiny_checkpoint(root / "model")
    write_tiny_vocos(root / "vocos")
    return TinyF5(model=root / "model", vocoder=root / "vocos",
                  architecture=dict(TINY_ARCHITECTURE))


@pytest.fixture
def write_checkpoint() -> Callable[..., Path]:
    """:func:`~voxcore_f5tts.tiny.write_tiny_checkpoint`, for tests that need other weights."""
    return write_tiny_checkpoint


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test waits on a model hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """One torch thread: on a small, shared CPU, threads of tiny matrix products wait on each
    other far longer than they compute (measured: 0.1 s an utterance instead of 0.8-2.4 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
