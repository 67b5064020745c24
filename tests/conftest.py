"""Shared fixtures: fresh plugin state and real temporary plugin distributions."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import MakePlugin, write_plugin

import voxcore.plugins


@pytest.fixture(autouse=True)
def fresh_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts and ends with nothing loaded and no plugin env vars set."""
    monkeypatch.delenv(voxcore.plugins.STRICT_ENV, raising=False)
    monkeypatch.delenv(voxcore.plugins.ONLY_ENV, raising=False)
    voxcore.plugins.reset()
    yield
    voxcore.plugins.reset()


@pytest.fixture
def make_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakePlugin]:
    """Install a real plugin distribution (module + ``.dist-info``) onto ``sys.path``.

    ``make_plugin(dist, module, source, requires="voxcore>=0.1", version="1.0.0")`` writes
    ``module.py`` with ``source`` and a dist-info whose entry point in ``voxcore.plugins``
    names it, exactly as ``pip install`` would lay them out. Returns the site folder.
    """
    site = tmp_path / "site"
    site.mkdir()
    created: list[str] = []

    def make(dist: str, module: str, source: str, **options: Any) -> Path:
        write_plugin(site, dist, module, source, **options)
        created.append(module)
        importlib.invalidate_caches()
        return site

    monkeypatch.syspath_prepend(str(site))
    yield make
    for module in created:
        sys.modules.pop(module, None)




@pytest.fixture(scope="session")
def voxshapes_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small VoxShapes build (60 samples), made once per test session."""
    from voxcore.plugins import get_registry

    root = tmp_path_factory.mktemp("voxshapes") / "voxshapes"
    get_registry("dataset_builder").get("voxshapes").build({"size": 60, "seed": 0}).build(root)
    voxcore.plugins.reset()
    return root
