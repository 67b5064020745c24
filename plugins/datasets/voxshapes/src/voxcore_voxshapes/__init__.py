"""voxcore plugin: VoxShapes, an offline expressive speech-image benchmark.

VoxShapes mirrors the paper's VoxEmoset in miniature: each sample is a simple image (a shape
at a position) whose *mood* sets the look of the whole scene, a transcript that names only
the content, and an espeak-ng utterance of that transcript whose prosody carries the mood.
Speech therefore holds what text drops.

This module is imported whenever voxcore loads its plugins, so it only declares configs and
registers the ``voxshapes`` dataset and dataset builder; numpy, PIL and espeak-ng are imported
when one is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voxcore.plugin_api import hookimpl
from voxcore_voxshapes.config import DEFAULT_VOICES, SPLITS, VoxShapesBuildConfig, VoxShapesConfig
from voxcore_voxshapes.moods import MOOD_NAMES, get_mood

if TYPE_CHECKING:
    from voxcore_voxshapes.build import VoxShapesBuilder
    from voxcore_voxshapes.dsp import apply_tremolo, resample, trim_silence
    from voxcore_voxshapes.speech import mood_utterance
    from voxcore_voxshapes.tts import synthesize

__all__ = ["DEFAULT_VOICES", "MOOD_NAMES", "SPLITS", "VoxShapesBuildConfig", "VoxShapesBuilder",
           "VoxShapesConfig", "apply_tremolo", "get_mood", "mood_utterance", "resample",
           "synthesize", "trim_silence", "voxcore_register_datasets",
           "voxcore_register_dataset_builders"]

#: Public names imported on first use (numpy, espeak-ng), by the module that has them.
_LAZY = {"VoxShapesBuilder": "voxcore_voxshapes.build",
         "mood_utterance": "voxcore_voxshapes.speech",
         "synthesize": "voxcore_voxshapes.tts", "apply_tremolo": "voxcore_voxshapes.dsp",
         "resample": "voxcore_voxshapes.dsp", "trim_silence": "voxcore_voxshapes.dsp"}


def __getattr__(name: str) -> Any:
    # Public for plugins that build on this one (the VoxEmoset builder speaks with them).
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'voxcore_voxshapes' has no attribute {name!r}")


@hookimpl
def voxcore_register_datasets(register: Any) -> None:
    """Register the ``voxshapes`` dataset (one split of a built folder)."""
    register("voxshapes", config=VoxShapesConfig,
             factory="voxcore_voxshapes.dataset:load_voxshapes",
             description="VoxShapes split: shapes whose mood is only in the voice's prosody")


@hookimpl
def voxcore_register_dataset_builders(register: Any) -> None:
    """Register the ``voxshapes`` builder (``voxcore data voxshapes --out DIR``)."""
    register("voxshapes", config=VoxShapesBuildConfig,
             factory="voxcore_voxshapes.build:VoxShapesBuilder",
             description="build VoxShapes offline (espeak-ng speech, rendered shapes)")
