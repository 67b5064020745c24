"""Byte-level tokenization: UTF-8 bytes plus three special tokens, no vocabulary to fit."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["BOS", "EOS", "PAD", "VOCAB_SIZE", "tokenize"]

#: Ids 0-255 are the byte values; the specials follow them.
BOS = 256
EOS = 257
PAD = 258
VOCAB_SIZE = 259


def tokenize(
    texts: Sequence[str], max_length: int, *, lowercase: bool = False,
    device: torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids ``[B, N]`` (long) and mask ``[B, N]`` (bool, ``True`` = real token).

    Each text becomes ``[BOS] + UTF-8 bytes + [EOS]``, its bytes cut to ``max_length - 2``;
    ``N`` is the longest sequence of the batch and shorter ones are padded with ``PAD``.
    The empty string gives ``[BOS, EOS]``, so every text has valid tokens.
    """
    if max_length < 3:
        raise ValueError(f"max_length must be at least 3 (BOS, one byte, EOS), got {max_length}")
    rows = []
    for text in texts:
        data = (text.lower() if lowercase else text).encode("utf-8")[: max_length - 2]
        rows.append([BOS, *data, EOS])
    length = max((len(row) for row in rows), default=0)
    # One tensor built from padded lists: per-row tensor writes dominate a small model's step.
    ids = torch.tensor([row + [PAD] * (length - len(row)) for row in rows], dtype=torch.long)
    ids = ids.view(len(rows), length).to(device)
    return ids, ids != PAD
