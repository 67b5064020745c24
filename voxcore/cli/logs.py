"""Logging set-up shared by the commands that run long jobs."""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    """INFO messages from voxcore to stderr (``VOXCORE_LOG_LEVEL`` changes the level)."""
    level = os.environ.get("VOXCORE_LOG_LEVEL", "INFO").upper()
    logger = logging.getLogger("voxcore")
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
               for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
