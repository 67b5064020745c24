"""voxcore plugin: the ``judge`` metric, the offline benchmark's stand-in for CLIPScore, Emo-A
and FID.

A small timm image classifier per label key (``content``, ``mood``, ...) is trained from
scratch on a registered dataset's real images, then judges generated images: per-label
accuracy against the prompts' labels, and a Fréchet distance between the classifiers'
features of generated and real images. Training the classifier is the metric's preparation
(``voxcore prepare`` / ``voxcore train`` run it, cached beside the dataset); building the
metric only loads it.

This module is imported whenever voxcore loads its plugins, so it only declares the config and
registers the metric; torch and timm are imported by :mod:`voxcore_judge.metric` when a judge
is built.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voxcore.plugin_api import DatasetRef, hookimpl

__all__ = ["JudgeConfig", "TRAINING_FIELDS", "voxcore_register_metrics"]

_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

#: The config fields that change what the trained classifier is (part of its cache key).
TRAINING_FIELDS = ("labels", "color_invariant", "resolution", "model", "model_kwargs", "epochs",
                   "batch_size", "lr", "weight_decay", "holdout", "max_shift", "seed")


class JudgeConfig(BaseModel):
    """Settings of the ``judge`` metric (a recipe's ``metrics[i].config``)."""

    model_config = ConfigDict(extra="forbid")

    train_data: DatasetRef = Field(
        default_factory=lambda: DatasetRef(name="voxshapes", config={"split": "train"}),
        description="registered dataset of real labelled images the judge is trained on")
    labels: list[str] = Field(
        default_factory=lambda: ["content", "mood"],
        description="label keys to classify; compute() reports '<label>_accuracy' for each")
    color_invariant: list[str] = Field(
        default_factory=lambda: ["content"],
        description="label keys that must not depend on colour (e.g. what is drawn, when "
                    "colour carries the mood): their classifiers see each image's colours "
                    "standardized and train on colour-scrambled images too, so they recognise "
                    "content in colour combinations never trained on")
    resolution: int = Field(default=32, ge=8, description="images are resized to this side")
    model: str = Field(default="test_resnet",
                       description="timm model name, built with pretrained=False")
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="extra keyword arguments for timm.create_model")
    epochs: int = Field(default=20, ge=1)
    batch_size: int = Field(default=32, ge=1, description="training batch size")
    lr: float = Field(default=3e-3, gt=0, description="peak AdamW learning rate (one-cycle)")
    weight_decay: float = Field(default=0.05, ge=0)
    holdout: float = Field(default=0.1, gt=0, lt=1,
                           description="fraction of real images held out to measure accuracy")
    max_shift: int = Field(
        default=1, ge=0,
        description="training augmentation: random shifts of up to this many pixels (at "
                    "'resolution'); keep it below half the distance between label-relevant "
                    "positions")
    seed: int = 0
    cache_dir: str | None = Field(
        default=None,
        description="where trained judges are cached; None = '.judge-cache' beside the "
                    "training dataset's manifest, else ~/.cache/voxcore/judge")
    min_real_accuracy: float = Field(
        default=0.95, ge=0, le=1,
        description="fraction; held-out accuracy below it on any label warns or raises")
    on_low_accuracy: Literal["warn", "raise"] = "warn"
    device: str = Field(default="cpu", description="torch device the classifier runs on")
    num_threads: int | None = Field(
        default=1, ge=1,
        description="CPU threads torch may use while the judge trains (None: torch's "
                    "setting). Its convolutions are tiny: measured on 2 busy cores, one "
                    "thread trained 5-15x faster than two")

    @model_validator(mode="after")
    def _labels_are_names(self) -> Self:
        bad = [label for label in self.labels if not _LABEL.match(label)]
        if bad:
            raise ValueError(f"label keys must be letters, digits, '_' or '-' and not start "
                             f"with a digit, got {bad}")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"label keys must be distinct, got {self.labels}")
        unknown = [label for label in self.color_invariant if label not in self.labels]
        if unknown:
            raise ValueError(f"color_invariant names {unknown}, which are not among the labels "
                             f"{self.labels}")
        return self

    def training_config(self) -> dict[str, Any]:
        """The fields that define the trained classifier (see :data:`TRAINING_FIELDS`)."""
        return self.model_dump(include=set(TRAINING_FIELDS))


@hookimpl
def voxcore_register_metrics(register: Any) -> None:
    """Register the ``judge`` metric."""
    register("judge", config=JudgeConfig, factory="voxcore_judge.metric:build_judge",
             prepare="voxcore_judge.judge:judge_preparation",
             description="per-label accuracy and FID from a small timm classifier trained on "
                         "the real images (offline stand-in for CLIPScore / Emo-A / FID)")
