"""voxcore plugin: ``voxcore demo``, a web page to speak to trained runs and see their images.

This module is imported whenever voxcore loads its plugins, so it only adds the command;
Gradio and torch are imported when the command runs.
"""

from __future__ import annotations

from typing import Any

from voxcore.plugin_api import hookimpl

__all__ = ["voxcore_add_commands"]


@hookimpl
def voxcore_add_commands(commands: Any) -> None:
    """Add ``voxcore demo``."""
    from voxcore_demo.command import add_parser

    add_parser(commands)
