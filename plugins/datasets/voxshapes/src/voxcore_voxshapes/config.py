"""Config models of the ``voxshapes`` dataset and its builder (pydantic only: cheap to import)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["DEFAULT_VOICES", "METADATA_FILE", "SPLITS", "VoxShapesBuildConfig",
           "VoxShapesConfig"]

#: The manifests a build writes, one per split.
SPLITS: tuple[str, ...] = ("train", "test", "heldout")
#: Describes a finished build and is written last: a folder without it is not a dataset.
METADATA_FILE = "voxshapes.json"

#: espeak-ng voices (American English with seven male and four female variants): the speakers.
DEFAULT_VOICES: tuple[str, ...] = (
    *(f"en-us+m{i}" for i in range(1, 8)),
    *(f"en-us+f{i}" for i in range(1, 5)),
)


class VoxShapesBuildConfig(BaseModel):
    """Options of ``voxcore data voxshapes --out DIR [KEY=VALUE ...]``."""

    model_config = ConfigDict(extra="forbid")

    size: int = Field(default=2000, ge=1, description="total number of samples, all splits")
    seed: int = Field(default=0, ge=0, description="the same seed gives the same files")
    resolution: int = Field(default=64, ge=16, le=1024,
                            description="side of the stored square images (pixels)")
    sample_rate: int = Field(default=16000, ge=8000, le=48000,
                             description="sample rate of the stored wav files (Hz)")
    heldout_pairs: int = Field(
        default=3, ge=0, le=5,
        description="(shape, mood) pairs kept out of train and test: all their samples form "
                    "the heldout split. The pairs share no shape and no mood, so every shape "
                    "and every mood is still trained on")
    test_fraction: float = Field(default=0.1, ge=0.0, lt=1.0,
                                 description="share of the other samples put in the test split")
    voices: list[str] = Field(default_factory=lambda: list(DEFAULT_VOICES), min_length=1,
                              description="espeak-ng voices (speakers) drawn from per sample")
    workers: int | None = Field(default=None, ge=1,
                                description="processes to render with; None = one per CPU. "
                                            "Does not change the output")
    overwrite: bool = Field(default=False, description="replace an existing dataset at --out")

    @model_validator(mode="after")
    def _distinct_voices(self) -> Self:
        repeated = sorted({v for v in self.voices if self.voices.count(v) > 1})
        if repeated:
            raise ValueError(f"voices must be distinct; repeated: {', '.join(repeated)}")
        return self


class VoxShapesConfig(BaseModel):
    """Settings of the ``voxshapes`` dataset (a recipe's ``data`` entry)."""

    model_config = ConfigDict(extra="forbid")

    root: str = Field(default="data/voxshapes",
                      description="folder written by 'voxcore data voxshapes --out ROOT'")
    split: Literal["train", "test", "heldout"] = Field(
        default="train", description="heldout: (shape, mood) pairs never seen in training")
