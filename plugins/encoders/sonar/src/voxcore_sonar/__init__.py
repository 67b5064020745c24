"""voxcore plugin: a SONAR speech encoder's per-frame states (the paper's default encoder).

The paper takes SONAR's speech encoder and removes its last aggregation layer (the attention
pooler that makes one sentence vector): the bottleneck gets the encoder's output frames. This
module is imported whenever voxcore loads its plugins, so it only declares the config and
registers the encoder; fairseq2 and sonar-space are imported by :mod:`voxcore_sonar.encoder`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from voxcore.plugin_api import Precision, hookimpl

__all__ = ["SonarEncoderConfig", "voxcore_register_encoders", "DEFAULT_MODEL"]

#: The English SONAR speech encoder, the paper's encoder.
DEFAULT_MODEL = "sonar_speech_encoder_eng"


class SonarEncoderConfig(BaseModel):
    """Settings of the ``sonar`` encoder (a recipe's ``encoder.config``)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        default=DEFAULT_MODEL,
        description="a fairseq2 asset card name (sonar_speech_encoder_eng, ..._deu, ...), "
                    "downloaded once into the fairseq2 cache, or the path of a local SONAR "
                    "speech encoder checkpoint file (.pt) in fairseq2's format")
    arch: Literal["english", "non_english"] = Field(
        default="english",
        description="architecture of a local checkpoint file (asset cards name their own): "
                    "'english' has a 3-layer pooler, 'non_english' a 6-layer one")
    dtype: Precision = Field(
        default="float32", description="precision the encoder runs in (features come out float32)")


@hookimpl
def voxcore_register_encoders(register: Any) -> None:
    """Register the ``sonar`` encoder."""
    register("sonar", config=SonarEncoderConfig,
             factory="voxcore_sonar.encoder:load_sonar_encoder",
             description="SONAR speech encoder frames before its pooler (sonar-space / "
                         "fairseq2; default sonar_speech_encoder_eng)")
