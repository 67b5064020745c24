"""voxcore plugin: ``voxcore quickstart``, the whole chain offline on a CPU in minutes.

It builds VoxShapes, trains the speech model (``recipes/quickstart/speech.yaml``) and the text
baseline (``text.yaml``), evaluates both with the ``judge`` metrics and writes a report. This
module is imported whenever voxcore loads its plugins, so it only adds the command; the work is
in :mod:`voxcore_quickstart.run`.
"""

from __future__ import annotations

from typing import Any

from voxcore.plugin_api import hookimpl

__all__ = ["voxcore_add_commands"]


@hookimpl
def voxcore_add_commands(commands: Any) -> None:
    """Add ``voxcore quickstart``."""
    from voxcore_quickstart.command import add_parser

    add_parser(commands)
