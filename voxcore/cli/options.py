"""Command-line options several subcommands share."""

from __future__ import annotations

from typing import Any

__all__ = ["add_device_option"]


def add_device_option(parser: Any, *, launched: bool = True) -> None:
    """``--device`` (default ``auto``); ``launched``: the command also runs under
    ``accelerate launch``, where each process takes its own device."""
    where = "; under accelerate launch, each process's own" if launched else ""
    parser.add_argument("--device", default="auto",
                        help=f"where the model runs: auto (a GPU when there is one{where}), "
                             "cpu, cuda, cuda:N")
