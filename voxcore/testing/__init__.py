"""Conformance suites that plugin test modules subclass.

Each suite is a plain class of ``test_*`` methods; a plugin's test subclasses it, overrides
the ``build_*`` method to return a tiny instance, and pytest runs every check::

    from voxcore.testing import EncoderSuite

    class TestMyEncoder(EncoderSuite):
        def build_encoder(self):
            return MyEncoder(MyConfig(tiny=True))

Dataset-building components (voice corpora, captioners, speech synthesizers, speech emotion
recognizers) have the suites of :mod:`voxcore.testing.stages`.

Components with optional abilities (editing, a latent cache, interop files, gradient
checkpointing, a weights fingerprint, a minimum duration, named schedulers, transcription, a
preparation step) subclass the opt-in suites of :mod:`voxcore.testing.abilities` too.

The suites import torch; import this package only from tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voxcore.testing.abilities import (
        EditingSuite,
        GradientCheckpointingSuite,
        InteropSuite,
        LatentCacheSuite,
        MinimumDurationSuite,
        PreparationSuite,
        SchedulersSuite,
        TranscriberSuite,
        WeightsFingerprintSuite,
        run_preparation,
    )
    from voxcore.testing.ablation import QUICK_TRAINING, small_ablation, train_one_variant_offline
    from voxcore.testing.bottleneck import BottleneckSuite
    from voxcore.testing.data import DatasetBuilderSuite, DatasetSuite
    from voxcore.testing.encoder import EncoderSuite
    from voxcore.testing.generator import GeneratorSuite
    from voxcore.testing.metric import MergesStateSuite, MetricSuite
    from voxcore.testing.stages import (
        CaptionerSuite,
        EmotionRecognizerSuite,
        SynthesizerSuite,
        VoiceCorpusSuite,
        reference_voice,
        sample_images,
    )
    from voxcore.testing.text_encoder import TextEncoderSuite

_ABILITIES = ("EditingSuite", "GradientCheckpointingSuite", "InteropSuite", "LatentCacheSuite",
              "MinimumDurationSuite", "PreparationSuite", "SchedulersSuite", "TranscriberSuite",
              "WeightsFingerprintSuite", "run_preparation")

__all__ = ["BottleneckSuite", "CaptionerSuite", "DatasetBuilderSuite", "DatasetSuite",
           "EditingSuite", "EmotionRecognizerSuite", "SynthesizerSuite", "VoiceCorpusSuite",
           "reference_voice", "sample_images",
           "EncoderSuite", "GeneratorSuite",
           "GradientCheckpointingSuite", "InteropSuite", "LatentCacheSuite", "MergesStateSuite",
           "MetricSuite", "MinimumDurationSuite", "PreparationSuite", "SchedulersSuite",
           "TextEncoderSuite",
           "TranscriberSuite", "WeightsFingerprintSuite", "register_for_test", "reset_plugins",
           "run_preparation", "small_ablation", "QUICK_TRAINING",
           "train_one_variant_offline"]

_MODULES = {
    "EncoderSuite": "voxcore.testing.encoder",
    "BottleneckSuite": "voxcore.testing.bottleneck",
    "GeneratorSuite": "voxcore.testing.generator",
    "MetricSuite": "voxcore.testing.metric",
    "MergesStateSuite": "voxcore.testing.metric",
    "TextEncoderSuite": "voxcore.testing.text_encoder",
    **dict.fromkeys(_ABILITIES, "voxcore.testing.abilities"),
    "DatasetSuite": "voxcore.testing.data",
    **dict.fromkeys(("CaptionerSuite", "EmotionRecognizerSuite", "SynthesizerSuite",
                     "VoiceCorpusSuite", "reference_voice", "sample_images"),
                    "voxcore.testing.stages"),
    "DatasetBuilderSuite": "voxcore.testing.data",
    **dict.fromkeys(("QUICK_TRAINING", "small_ablation", "train_one_variant_offline"),
                    "voxcore.testing.ablation"),
}


def __getattr__(name: str) -> Any:
    # Lazy so that a plugin testing one kind does not import every other suite.
    if name in _MODULES:
        import importlib

        return getattr(importlib.import_module(_MODULES[name]), name)
    raise AttributeError(f"module 'voxcore.testing' has no attribute {name!r}")


def reset_plugins() -> None:
    """Forget the loaded plugins, so the next registry use discovers them again (for tests that
    install or register components)."""
    from voxcore.plugins import reset

    reset()


def register_for_test(kind: str, name: str, *, config: type[Any], factory: Any,
                      prepare: Any = None, distribution: str = "test-plugin") -> None:
    """Add a component to the loaded registry of ``kind``, as a plugin's hook would (until
    :func:`reset_plugins`); a name already there is left as it is."""
    from voxcore.plugins import get_registry
    from voxcore.registry import ComponentEntry, check_registration

    registry = get_registry(kind)  # type: ignore[arg-type]
    if name in registry:
        return
    check_registration(kind, name, config, factory, prepare)  # type: ignore[arg-type]
    registry.add(ComponentEntry(kind=kind, name=name, config_model=config,  # type: ignore[arg-type]
                                factory=factory, distribution=distribution, version="0",
                                plugin="test", preparer=prepare))
