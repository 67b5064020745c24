"""The ``text`` encoder: a small Transformer over a transcript's bytes or hashed words."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from voxcore.plugin_api import (
    SpeechFeatures,
    TransformerBlock,
    check_texts,
    sinusoidal_positions,
    zero_padding,
)
from voxcore_text import TextEncoderConfig
from voxcore_text.tokenizer import special_ids, tokenize, vocabulary_size

__all__ = ["TOKENS_PER_UNIT", "TrainableTextEncoder"]

#: ``SpeechFeatures.frame_rate`` of text features. Speech counts frames per second of audio;
#: text has no seconds, so the rate is tokens per tokenizer unit: 1.0, one token per byte (one
#: per ASCII character) or per word (BOS and EOS add two per text).
TOKENS_PER_UNIT = 1.0


class TrainableTextEncoder(nn.Module):
    """Transcripts -> per-token features ``[B, N, width]`` and mask ``[B, N]``.

    A text becomes ``[BOS] + units + [EOS]``, the units being bytes or hashed words (at most
    ``max_length`` tokens; see :class:`~voxcore_text.TextEncoderConfig`), so any text, in any
    script, is encoded without a fitted vocabulary, and even the empty string has two valid
    tokens. Token embeddings plus sinusoidal positions go through ``num_layers`` pre-norm
    Transformer layers that attend only to valid tokens, then a final LayerNorm; padded
    positions of the output are zero.
    """

    def __init__(self, config: TextEncoderConfig | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else TextEncoderConfig()
        self.output_dim: int = self.config.width
        self.max_length: int = self.config.max_length
        size = vocabulary_size(self.config.tokenizer, self.config.word_buckets)
        self.pad_id = special_ids(size - 3)[2]
        self.embedding = nn.Embedding(size, self.config.width, padding_idx=self.pad_id)
        self.layers = nn.ModuleList(
            TransformerBlock(self.config.width, self.config.num_heads, self.config.mlp_ratio,
                             self.config.dropout)
            for _ in range(self.config.num_layers))
        self.norm = nn.LayerNorm(self.config.width)

    @property
    def device(self) -> torch.device:
        """Where the weights are (and so where :meth:`encode_text` puts its tensors)."""
        return self.embedding.weight.device

    def encode_text(self, texts: Sequence[str]) -> SpeechFeatures:
        """Encode a batch of transcripts of any lengths (longer ones are truncated)."""
        ids, mask = tokenize(check_texts(texts), self.max_length, lowercase=self.config.lowercase,
                             device=self.device, tokenizer=self.config.tokenizer,
                             buckets=self.config.word_buckets)
        return SpeechFeatures(features=self(ids, mask), mask=mask, frame_rate=TOKENS_PER_UNIT)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Token ids ``[B, N]`` with mask ``[B, N]`` -> features ``[B, N, width]``."""
        x = self.embedding(ids)
        x = x + sinusoidal_positions(ids.shape[1], x.shape[2], device=x.device, dtype=x.dtype)
        for layer in self.layers:
            x = layer(x, mask)
        return zero_padding(self.norm(x), mask)

    def extra_repr(self) -> str:
        return (f"width={self.output_dim}, tokenizer={self.config.tokenizer}, "
                f"max_length={self.max_length}, lowercase={self.config.lowercase}")
