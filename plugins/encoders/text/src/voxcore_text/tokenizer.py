"""Tokenization without a fitted vocabulary: UTF-8 bytes, or words hashed into buckets.

Both tokenizers put ``BOS`` first and ``EOS`` last and pad with ``PAD``; the three special
ids follow the ordinary ones, so a tokenizer with ``n`` ordinary ids has ``n + 3`` in all.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Literal

import torch

__all__ = ["BYTE_IDS", "BOS", "EOS", "PAD", "VOCAB_SIZE", "Tokenizer", "special_ids",
           "split_words", "tokenize", "vocabulary_size"]

Tokenizer = Literal["bytes", "words"]

#: Ordinary ids of the byte tokenizer: the byte values 0-255.
BYTE_IDS = 256
#: The specials of the byte tokenizer (the word tokenizer's follow its buckets).
BOS, EOS, PAD = BYTE_IDS, BYTE_IDS + 1, BYTE_IDS + 2
VOCAB_SIZE = BYTE_IDS + 3

#: A word is a run of letters/digits (with inner apostrophes); any other non-space
#: character is a token of its own, so "left," gives "left" and ",".
_WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def special_ids(ordinary: int) -> tuple[int, int, int]:
    """``(BOS, EOS, PAD)`` for a tokenizer with ``ordinary`` ordinary ids."""
    return ordinary, ordinary + 1, ordinary + 2


def vocabulary_size(tokenizer: Tokenizer, buckets: int) -> int:
    """How many ids (specials included) ``tokenizer`` uses with ``buckets`` word buckets."""
    return (BYTE_IDS if tokenizer == "bytes" else buckets) + 3


def split_words(text: str) -> list[str]:
    """The words and punctuation marks of ``text``, in order (``"a ring, left"`` -> 4)."""
    return _WORD.findall(text)


def _word_id(word: str, buckets: int) -> int:
    # crc32 rather than hash(): Python salts str hashes per process, and ids must be stable
    # across runs for checkpoints to mean anything.
    return zlib.crc32(word.encode("utf-8")) % buckets


def tokenize(
    texts: Sequence[str], max_length: int, *, lowercase: bool = False,
    device: torch.device | None = None, tokenizer: Tokenizer = "bytes", buckets: int = 4096,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids ``[B, N]`` (long) and mask ``[B, N]`` (bool, ``True`` = real token).

    Each text becomes ``[BOS] + units + [EOS]``, where the units are its UTF-8 bytes
    (``tokenizer="bytes"``) or its words and punctuation marks, each hashed into one of
    ``buckets`` ids (``"words"``); at most ``max_length - 2`` units are kept. ``N`` is the
    longest sequence of the batch and shorter ones are padded with ``PAD``. The empty string
    gives ``[BOS, EOS]``, so every text has valid tokens.
    """
    if max_length < 3:
        raise ValueError(f"max_length must be at least 3 (BOS, one unit, EOS), got {max_length}")
    ordinary = BYTE_IDS if tokenizer == "bytes" else buckets
    bos, eos, pad = special_ids(ordinary)
    rows = []
    for text in texts:
        text = text.lower() if lowercase else text
        units = (list(text.encode("utf-8")) if tokenizer == "bytes"
                 else [_word_id(word, buckets) for word in split_words(text)])
        rows.append([bos, *units[: max_length - 2], eos])
    length = max((len(row) for row in rows), default=0)
    # One tensor built from padded lists: per-row tensor writes dominate a small model's step.
    ids = torch.tensor([row + [pad] * (length - len(row)) for row in rows], dtype=torch.long)
    ids = ids.view(len(rows), length).to(device)
    return ids, ids != pad
