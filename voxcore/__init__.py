"""voxcore: speech-to-image generation as a small core plus plugins.

Importing this package is cheap: it loads no plugin and imports no torch. Plugins are found
through the entry-point group ``voxcore.plugins`` the first time a registry is used
(:func:`voxcore.plugins.get_registry`).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from voxcore.hookspecs import hookimpl

try:
    __version__ = version("voxcore")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "hookimpl"]
