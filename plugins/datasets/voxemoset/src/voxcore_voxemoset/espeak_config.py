"""Settings of the ``espeak`` synthesizer (pydantic only: cheap to import)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EspeakSynthesizerConfig"]


class EspeakSynthesizerConfig(BaseModel):
    """Settings of the ``espeak`` synthesizer."""

    model_config = ConfigDict(extra="forbid")

    voices: list[str] = Field(
        default_factory=lambda: ["en-us", "en-us+m3", "en-us+f2", "en-us+m7", "en-us+f4"],
        min_length=1, description="espeak-ng voices; each reference speaker gets one of them")
    sample_rate: int = Field(default=16_000, ge=8_000, description="rate of the speech made")
    workers: int = Field(default=0, ge=0, description="utterances made at once in forked "
                                                      "processes; 0 = one per CPU core")
