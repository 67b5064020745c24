"""Logging set-up shared by the commands that run long jobs."""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    """INFO messages from voxcore and its loaded plugins' packages to stderr
    (``VOXCORE_LOG_LEVEL`` changes the level)."""
    from voxcore.plugins import plugin_records

    level = os.environ.get("VOXCORE_LOG_LEVEL", "INFO").upper()
    packages = {record.module.split(".")[0] for record in plugin_records()
                if record.status == "loaded" and record.module}
    for name in ("voxcore", *sorted(packages - {"voxcore"})):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.StreamHandler)
                   and not isinstance(h, logging.FileHandler) for h in logger.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            logger.addHandler(handler)
        logger.setLevel(level)
