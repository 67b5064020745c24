"""voxcore plugin: the paper's public speech-image corpora, read from their own releases.

Registers four datasets:

- ``spokencoco``: SpokenCOCO spoken captions with MS-COCO 2014 images;
- ``flickr8k-audio``: the Flickr Audio Caption Corpus with Flickr8k images and captions;
- ``voxemoset``: emotional speech on EmoSet images (layout defined in the README);
- ``manifest``: any JSONL or CSV file of audio/image/transcript rows.

This module is imported whenever voxcore loads its plugins, so it only declares configs and
registers factories by ``"module:attr"`` name; readers are imported when a dataset is built.
The README of this distribution gives each release's download address and on-disk layout.
"""

from __future__ import annotations

from typing import Any

from voxcore.plugin_api import hookimpl
from voxcore_datasets.config import (
    EMOSET_EMOTIONS,
    PAPER_EMOTIONS,
    Flickr8kAudioConfig,
    ManifestColumns,
    ManifestConfig,
    SpokenCocoConfig,
    VoxEmosetConfig,
)

__all__ = ["EMOSET_EMOTIONS", "PAPER_EMOTIONS", "Flickr8kAudioConfig", "ManifestColumns",
           "ManifestConfig", "SpokenCocoConfig", "VoxEmosetConfig", "voxcore_register_datasets"]


@hookimpl
def voxcore_register_datasets(register: Any) -> None:
    """Register ``spokencoco``, ``flickr8k-audio``, ``voxemoset`` and ``manifest``."""
    register("spokencoco", config=SpokenCocoConfig,
             factory="voxcore_datasets.spokencoco:load_spokencoco",
             description="SpokenCOCO spoken captions + MS-COCO 2014 images (train/val, Karpathy)")
    register("flickr8k-audio", config=Flickr8kAudioConfig,
             factory="voxcore_datasets.flickr8k:load_flickr8k_audio",
             description="Flickr Audio Caption Corpus + Flickr8k images (train/dev/test)")
    register("voxemoset", config=VoxEmosetConfig,
             factory="voxcore_datasets.voxemoset:load_voxemoset",
             description="VoxEmoset: emotional speech on EmoSet images, labels.emotion")
    register("manifest", config=ManifestConfig,
             factory="voxcore_datasets.tabular:load_manifest",
             description="any JSONL/CSV of audio,image,transcript rows (paths relative to it)")
