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
from voxcore_voxshapes.moods import MOOD_NAMES

if TYPE_CHECKING:
    from voxcore_voxshapes.build import VoxShapesBuilder

__all__ = ["DEFAULT_VOICES", "MOOD_NAMES", "SPLITS", "VoxShapesBuildConfig", "VoxShapesBuilder",
           "VoxShapesConfig", "voxcore_register_datasets", "voxcore_register_dataset_builders"]


def __getattr__(name: str) -> Any:
    if name == "VoxShapesBuilder":  # public for plugins that build on this one
        from voxcore_voxshapes.build import VoxShapesBuilder

        return VoxShapesBuilder
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
