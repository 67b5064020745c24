"""Datasets on disk: JSONL manifests and the generic dataset that reads them.

Every voxcore dataset plugin describes its samples with a manifest (see
:mod:`voxcore.data.manifest`) and returns a :class:`ManifestDataset`. Nothing here imports
torch.
"""

from __future__ import annotations

from voxcore.data.caches import cache_beside
from voxcore.data.manifest import (
    MANIFEST_FIELDS,
    MAX_LISTED,
    DatasetError,
    ManifestDataset,
    SampleList,
    read_manifest,
    write_manifest,
)

__all__ = ["MANIFEST_FIELDS", "MAX_LISTED", "DatasetError", "ManifestDataset", "SampleList",
           "cache_beside", "read_manifest", "write_manifest"]
