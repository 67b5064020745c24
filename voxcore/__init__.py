"""voxcore: speech-to-image generation as a small core plus plugins.

Importing this package is cheap: it loads no plugin and imports no torch. Plugins are found
through the entry-point group ``voxcore.plugins`` the first time a registry is used
(:func:`voxcore.plugins.get_registry`).

``voxcore.from_pretrained(folder)`` and ``voxcore.save_pretrained(loaded, folder)`` (see
:mod:`voxcore.runs`) are imported on first use. Plugins import voxcore through
:mod:`voxcore.plugin_api` only.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from voxcore.hookspecs import hookimpl

try:
    __version__ = version("voxcore")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "hookimpl", "from_pretrained", "save_pretrained"]

_LAZY = {"from_pretrained": "voxcore.runs", "save_pretrained": "voxcore.runs"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'voxcore' has no attribute {name!r}")
