"""Conformance suites that plugin test modules subclass.

Each suite is a plain class of ``test_*`` methods; a plugin's test subclasses it, overrides
the ``build_*`` method to return a tiny instance, and pytest runs every check::

    from voxcore.testing import EncoderSuite

    class TestMyEncoder(EncoderSuite):
        def build_encoder(self):
            return MyEncoder(MyConfig(tiny=True))

The suites import torch; import this package only from tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voxcore.testing.bottleneck import BottleneckSuite
    from voxcore.testing.encoder import EncoderSuite
    from voxcore.testing.generator import GeneratorSuite
    from voxcore.testing.metric import MetricSuite
    from voxcore.testing.text_encoder import TextEncoderSuite

__all__ = ["BottleneckSuite", "EncoderSuite", "GeneratorSuite", "MetricSuite", "TextEncoderSuite"]

_MODULES = {
    "EncoderSuite": "voxcore.testing.encoder",
    "BottleneckSuite": "voxcore.testing.bottleneck",
    "GeneratorSuite": "voxcore.testing.generator",
    "MetricSuite": "voxcore.testing.metric",
    "TextEncoderSuite": "voxcore.testing.text_encoder",
}


def __getattr__(name: str) -> Any:
    # Lazy so that a plugin testing one kind does not import every other suite.
    if name in _MODULES:
        import importlib

        return getattr(importlib.import_module(_MODULES[name]), name)
    raise AttributeError(f"module 'voxcore.testing' has no attribute {name!r}")
