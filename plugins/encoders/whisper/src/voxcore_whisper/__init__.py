"""voxcore plugin: the encoder of OpenAI's Whisper as a frozen speech encoder (the paper's Table 7).

This module is imported whenever voxcore loads its plugins, so it only declares the config
and registers the encoder; torch and transformers are imported by :mod:`voxcore_whisper.encoder`
when one is built.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from voxcore import hookimpl

__all__ = ["WhisperEncoderConfig", "voxcore_register_encoders", "DEFAULT_MODEL"]

#: The checkpoint the paper compares with SONAR (Table 7).
DEFAULT_MODEL = "openai/whisper-large-v3"


class WhisperEncoderConfig(BaseModel):
    """Settings of the ``whisper`` encoder (a recipe's ``encoder.config``)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        default=DEFAULT_MODEL,
        description="hub id of a Whisper checkpoint, or a local folder with its config.json, "
                    "preprocessor_config.json and safetensors weights")
    revision: str | None = Field(default=None, description="hub revision (branch, tag, commit)")
    cache_dir: str | None = Field(default=None,
                                  description="Hugging Face cache folder; None = HF_HUB_CACHE")
    layer: int = Field(
        default=-1,
        description="which hidden state to return, indexed like transformers' hidden_states: "
                    "0 = input embeddings, k = output of layer k, -1 = the final, layer-normed "
                    "output. Layers after it are not run.")
    trim_padding: bool = Field(
        default=False,
        description="run the encoder on the real frames only instead of a 30 s window of "
                    "padding (positional embeddings sliced, padding masked out of attention); "
                    "faster on short speech, but Whisper was trained on full 30 s windows")
    dtype: Literal["float32", "float16", "bfloat16"] = Field(
        default="float32", description="precision the encoder runs in (features come out float32)")


@hookimpl
def voxcore_register_encoders(register: Any) -> None:
    """Register the ``whisper`` encoder."""
    register("whisper", config=WhisperEncoderConfig,
             factory="voxcore_whisper.encoder:load_whisper_encoder",
             description="Whisper encoder states (transformers; default openai/whisper-large-v3)")
