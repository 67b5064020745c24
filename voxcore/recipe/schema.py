"""The shape of a recipe: top-level sections and their fields.

A component section is ``{name, config}``: ``name`` picks a registered component (or
``distribution:name``) and ``config`` is validated later against that component's own
config model. Everything here forbids unknown keys so that a typo is reported, not ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComponentSpec(_Section):
    """A registered component and its config."""

    name: str = Field(min_length=1)
    config: dict[str, Any] = Field(default_factory=dict)


class DatasetSpec(ComponentSpec):
    """A registered dataset, its config and its share of the training mix."""

    weight: float = Field(default=1.0, gt=0, description="relative sampling weight in a mix")


class ImageSection(_Section):
    """How training images are brought to the generator's resolution.

    The shorter side is scaled to the resolution, then a square is cropped (in the center or
    at a random place along the longer side) and optionally mirrored. Random crops and flips
    change every draw, so they turn a generator's latent cache off. Evaluation references are
    always center crops.
    """

    crop: Literal["center", "random"] = "center"
    hflip: bool = Field(default=False, description="mirror half of the draws left to right")


class DataSection(_Section):
    """Which datasets to train and evaluate on."""

    train: list[DatasetSpec] = Field(default_factory=list)
    eval: list[DatasetSpec] = Field(default_factory=list)
    cache_dir: str | None = Field(default=None, description="where encoder features are cached")
    images: ImageSection = Field(default_factory=ImageSection)


class EmaSection(_Section):
    """Exponential moving average of the trainable weights."""

    enabled: bool = False
    decay: float = Field(default=0.9999, gt=0, lt=1)


class TrainSection(_Section):
    """How to train (read by ``voxcore train``)."""

    lr: float = Field(default=1e-4, gt=0)
    weight_decay: float = Field(default=1e-2, ge=0)
    adam_betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = Field(default=0, ge=0)
    batch_size: int = Field(default=8, ge=1)
    max_steps: int = Field(default=1000, ge=1)
    grad_accum: int = Field(default=1, ge=1)
    max_grad_norm: float | None = Field(default=1.0, gt=0)
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    cond_dropout: float = Field(default=0.1, ge=0, le=1)
    gradient_checkpointing: bool = False
    checkpoint_every: int = Field(default=500, ge=1)
    keep_checkpoints: int = Field(default=3, ge=1)
    validate_every: int = Field(default=0, ge=0, description="0 = no validation grids")
    log_every: int = Field(default=10, ge=1)
    ema: EmaSection = Field(default_factory=EmaSection)
    output_dir: str = "runs"


class GenerateSection(_Section):
    """How to sample images (read by ``voxcore generate`` and ``voxcore evaluate``)."""

    steps: int = Field(default=50, ge=1)
    guidance_scale: float = Field(default=5.0, ge=0)
    scheduler: str = Field(default="ddim", min_length=1)
    batch_size: int = Field(default=8, ge=1)


class Recipe(_Section):
    """A whole recipe after ``extends`` and overrides are merged."""

    name: str = Field(min_length=1)
    seed: int = 0
    encoder: ComponentSpec
    bottleneck: ComponentSpec
    generator: ComponentSpec
    data: DataSection = Field(default_factory=DataSection)
    train: TrainSection = Field(default_factory=TrainSection)
    generate: GenerateSection = Field(default_factory=GenerateSection)
    metrics: list[ComponentSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_metrics(self) -> Recipe:
        names = [m.name for m in self.metrics]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"metrics are listed more than once: {', '.join(duplicates)}")
        return self


#: Sections holding a single ``{name, config}``, with the registry kind they name.
COMPONENT_SECTIONS: dict[str, Literal["encoder", "bottleneck", "generator"]] = {
    "encoder": "encoder",
    "bottleneck": "bottleneck",
    "generator": "generator",
}
