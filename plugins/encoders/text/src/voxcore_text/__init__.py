"""voxcore plugin: a small trainable text encoder (the text-to-image baseline).

It reads a transcript instead of speech and returns the same per-token features and mask as
a speech encoder, so it feeds the same bottleneck: speech vs text is a one-line recipe change
(``encoder: {name: text}``). Unlike a speech encoder it is trained with the rest of the model.

This module is imported whenever voxcore loads its plugins, so it only declares the config
and registers the encoder; torch is imported by :mod:`voxcore_text.encoder` when one is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voxcore.plugin_api import hookimpl

if TYPE_CHECKING:
    from voxcore_text.encoder import TrainableTextEncoder

__all__ = ["TextEncoderConfig", "TrainableTextEncoder", "voxcore_register_encoders"]


def __getattr__(name: str) -> Any:
    if name == "TrainableTextEncoder":  # public for plugins that build on this one
        from voxcore_text.encoder import TrainableTextEncoder

        return TrainableTextEncoder
    raise AttributeError(f"module 'voxcore_text' has no attribute {name!r}")


class TextEncoderConfig(BaseModel):
    """Settings of the ``text`` encoder (a recipe's ``encoder.config``).

    A text becomes ``[BOS] + units + [EOS]``: its UTF-8 bytes (``tokenizer: bytes``) or its
    words and punctuation marks, each hashed into one of ``word_buckets`` ids (``words``;
    no vocabulary to fit, so any text works, and two words rarely share an id).
    ``max_length`` bounds that whole sequence, so a longer text keeps only its first
    ``max_length - 2`` units (its EOS is kept). Byte truncation may cut a multi-byte
    character; the model sees bytes anyway. ``num_layers: 0`` leaves each token its own
    embedding plus position (no context), which is what the quickstart measured to train.
    """

    model_config = ConfigDict(extra="forbid")

    width: int = Field(default=128, gt=0, description="model width = output_dim")
    tokenizer: Literal["bytes", "words"] = Field(
        default="bytes", description="units of a text: UTF-8 bytes, or hashed words")
    word_buckets: int = Field(
        default=4096, gt=0, description="hash buckets (embedding rows) of the words tokenizer")
    num_layers: int = Field(default=2, ge=0, description="pre-norm Transformer layers")
    num_heads: int = Field(default=4, gt=0, description="attention heads; must divide width")
    mlp_ratio: float = Field(default=4.0, gt=0.0, description="MLP hidden width / width")
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="dropout in training")
    max_length: int = Field(
        default=256, ge=3,
        description="most tokens per text, BOS and EOS included; longer texts are truncated")
    lowercase: bool = Field(default=False, description="lowercase texts before encoding")

    @model_validator(mode="after")
    def _heads_divide_width(self) -> Self:
        if self.width % self.num_heads:
            raise ValueError(f"num_heads ({self.num_heads}) must divide width ({self.width})")
        return self


@hookimpl
def voxcore_register_encoders(register: Any) -> None:
    """Register the ``text`` encoder."""
    register("text", config=TextEncoderConfig, factory="voxcore_text.encoder:TrainableTextEncoder",
             description="byte- or word-level Transformer text encoder, trained with the model "
                         "(text-to-image baseline: transcripts instead of speech)")
