"""voxcore plugin: a log-mel filterbank speech encoder (no learned weights, works offline).

This module is imported whenever voxcore loads its plugins, so it only declares the config
and registers the encoder; torch is imported by :mod:`voxcore_mel.encoder` when one is built.
Public names: :class:`MelConfig` and :class:`MelEncoder` (imported on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voxcore.plugin_api import hookimpl

if TYPE_CHECKING:
    from voxcore_mel.encoder import MelEncoder

__all__ = ["MelConfig", "MelEncoder", "voxcore_register_encoders"]


def __getattr__(name: str) -> Any:
    if name == "MelEncoder":
        from voxcore_mel.encoder import MelEncoder

        return MelEncoder
    raise AttributeError(f"module 'voxcore_mel' has no attribute {name!r}")


class MelConfig(BaseModel):
    """Settings of the ``mel`` encoder (a recipe's ``encoder.config``)."""

    model_config = ConfigDict(extra="forbid")

    sample_rate: int = Field(default=16000, gt=0, description="rate audio is resampled to (Hz)")
    n_mels: int = Field(default=80, gt=0, description="number of mel bins = output_dim")
    n_fft: int = Field(default=400, gt=1, description="FFT size = samples each frame sees")
    hop_length: int = Field(default=160, gt=0, description="samples between frames")
    win_length: int | None = Field(default=None, gt=0, description="window size; None = n_fft")
    f_min: float = Field(default=0.0, ge=0.0, description="lowest filterbank frequency (Hz)")
    f_max: float | None = Field(default=None, gt=0.0, description="top frequency; None = Nyquist")
    normalize: Literal["utterance", "none"] = Field(
        default="utterance",
        description="'utterance': per-bin mean/variance over each utterance's valid frames",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        nyquist = self.sample_rate / 2
        if self.hop_length > self.n_fft:
            raise ValueError(f"hop_length ({self.hop_length}) must not exceed n_fft "
                             f"({self.n_fft}), or samples between frames would be skipped")
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ValueError(f"win_length ({self.win_length}) must not exceed n_fft "
                             f"({self.n_fft})")
        top = nyquist if self.f_max is None else self.f_max
        if self.f_max is not None and self.f_max > nyquist:
            raise ValueError(f"f_max ({self.f_max:g} Hz) must not exceed the Nyquist frequency "
                             f"sample_rate/2 = {nyquist:g} Hz")
        if top <= self.f_min:
            raise ValueError(f"f_max ({top:g} Hz) must be greater than f_min ({self.f_min:g} Hz)")
        return self

    @property
    def frame_rate(self) -> float:
        """Frames per second of audio."""
        return self.sample_rate / self.hop_length


@hookimpl
def voxcore_register_encoders(register: Any) -> None:
    """Register the ``mel`` encoder."""
    register("mel", config=MelConfig, factory="voxcore_mel.encoder:MelEncoder",
             description="log-mel filterbank features, no weights (offline default)")
