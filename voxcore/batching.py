"""Padding variable-length rows into a batch with its mask (voxcore's padding convention)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from voxcore.interfaces import SpeechFeatures

__all__ = ["pad_features"]


def pad_features(rows: Sequence[torch.Tensor], frame_rate: float) -> SpeechFeatures:
    """Stack ``[n_i, D]`` feature rows into a zero-padded batch with its mask."""
    longest = max(row.shape[0] for row in rows)
    features = rows[0].new_zeros(len(rows), longest, rows[0].shape[1])
    mask = torch.zeros(len(rows), longest, dtype=torch.bool)
    for index, row in enumerate(rows):
        features[index, : row.shape[0]] = row
        mask[index, : row.shape[0]] = True
    return SpeechFeatures(features=features, mask=mask, frame_rate=frame_rate)
