"""Shared fixtures: one torch thread, fresh plugin loading, tiny models built once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from voxcore.testing import reset_plugins


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Each test runs torch on one CPU thread (the machines' cores are shared)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def fresh_plugins() -> Iterator[None]:
    """Plugins are discovered afresh (tests under plugins/ get no autouse reset)."""
    reset_plugins()
    yield
    reset_plugins()


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random CLIP checkpoint folder."""
    from voxcore_metrics.testing import write_tiny_clip

    return write_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))
