"""Settings of the ``f5-tts`` synthesizer (a builder's ``synthesizer.config``).

Plain pydantic without torch: imported whenever voxcore loads its plugins.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from voxcore.plugin_api import Precision, PretrainedSource

__all__ = ["ARCHITECTURE_NAMES", "DEFAULT_MODEL", "DEFAULT_VOCODER", "ArchitectureName",
           "F5Architecture", "F5TTSConfig"]

#: The paper's checkpoint: F5-TTS v1 Base, EMA weights after 1.25 M updates (f5-tts's own
#: default, written as its CLI writes it: ``hf://<owner>/<repo>/<path in the repo>``).
DEFAULT_MODEL = "hf://SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors"

#: The vocoder every published F5-TTS checkpoint was trained for (100 mel bands, 24 kHz).
DEFAULT_VOCODER = "charactr/vocos-mel-24khz"

#: The DiT architectures f5-tts ships configs for (``f5_tts/configs/<name>.yaml``).
ArchitectureName = Literal["F5TTS_v1_Base", "F5TTS_Base", "F5TTS_v1_Small", "F5TTS_Small"]
ARCHITECTURE_NAMES: tuple[str, ...] = ("F5TTS_v1_Base", "F5TTS_Base", "F5TTS_v1_Small",
                                       "F5TTS_Small")


class F5Architecture(BaseModel):
    """Explicit dimensions of F5-TTS's DiT (a small random model for tests, or a custom one)."""

    model_config = ConfigDict(extra="forbid")

    dim: int = Field(gt=0, description="transformer width (F5TTS_v1_Base: 1024)")
    depth: int = Field(gt=0, description="DiT blocks (F5TTS_v1_Base: 22)")
    heads: int = Field(gt=0, description="attention heads (F5TTS_v1_Base: 16)")
    dim_head: int = Field(default=64, gt=0, description="width of one attention head")
    ff_mult: int = Field(default=2, gt=0, description="feed-forward width / dim")
    text_dim: int = Field(gt=0, description="text embedding width (F5TTS_v1_Base: 512)")
    conv_layers: int = Field(default=4, ge=0,
                             description="ConvNeXt V2 blocks over the text (F5TTS_v1_Base: 4)")
    text_mask_padding: bool = Field(default=True,
                                    description="mask filler text tokens (True from v1 on)")
    pe_attn_head: int | None = Field(default=None, ge=1,
                                     description="heads that get rotary positions; None = all "
                                                 "(v1; the first release used 1)")
    qk_norm: Literal["rms_norm"] | None = Field(default=None, description="query/key norm")


class F5TTSConfig(PretrainedSource):
    """Settings of the ``f5-tts`` synthesizer. The sampling defaults are f5-tts's own."""

    model: str = Field(
        default=DEFAULT_MODEL,
        description="the checkpoint: 'hf://<owner>/<repo>/<file>' (looked up in the Hugging "
                    "Face cache, downloaded only when missing), a local .safetensors or .pt "
                    "file, or a local folder holding one (and, optionally, its vocab.txt)")
    vocab: str | None = Field(
        default=None,
        description="the tokenizer's vocab.txt (one symbol per line); None = a vocab.txt "
                    "beside the checkpoint, else the one f5-tts ships (that of every published "
                    "checkpoint)")
    architecture: ArchitectureName | F5Architecture = Field(
        default="F5TTS_v1_Base",
        description="the DiT's shape: the name of one of f5-tts's configs (F5TTS_v1_Base is "
                    "the paper's; F5TTS_Base needs model: "
                    "hf://SWivid/F5-TTS/F5TTS_Base/model_1200000.safetensors) or explicit "
                    "dimensions")
    vocoder: str = Field(
        default=DEFAULT_VOCODER,
        description="Vocos vocoder: a hub id or a local folder with its config.yaml and "
                    "pytorch_model.bin")
    nfe_step: int = Field(default=32, ge=1, description="flow-matching (Euler) steps")
    cfg_strength: float = Field(default=2.0, ge=0.0, description="classifier-free guidance")
    sway_sampling_coef: float | None = Field(default=-1.0,
                                             description="sway sampling of the time steps; "
                                                         "None = uniform steps")
    speed: float = Field(default=1.0, gt=0.0,
                         description="speaking rate: the generated duration is divided by it")
    target_rms: float = Field(default=0.1, gt=0.0,
                              description="quieter references are raised to this RMS before "
                                          "synthesis, and the speech lowered back after")
    cross_fade_duration: float = Field(default=0.15, ge=0.0,
                                       description="seconds of cross-fade between the chunks "
                                                   "of a long text")
    max_reference_seconds: float = Field(
        default=12.0, gt=1.0, le=20.0,
        description="references are clipped to this length at a silence, as f5-tts does (its "
                    "12 s); reference and speech together must stay under 22 s")
    batch_size: int = Field(default=8, ge=1,
                            description="texts sampled together (padding masked: the speech "
                                        "does not depend on the batch)")
    dtype: Precision = Field(default="float32",
                             description="precision of the DiT (f5-tts itself uses float16 on "
                                         "CUDA); the vocoder runs in float32")

    @property
    def architecture_key(self) -> str:
        """The architecture as a stable string (for fingerprints and messages)."""
        if isinstance(self.architecture, str):
            return self.architecture
        return self.architecture.model_dump_json()
