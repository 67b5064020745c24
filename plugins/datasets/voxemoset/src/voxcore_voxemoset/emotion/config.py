"""Settings of the ``speech-emotion`` recognizer (pydantic only: cheap to import)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voxcore.plugin_api import PAPER_EMOTIONS, DatasetRef, VoiceCorpusRef

__all__ = ["TRAINING_FIELDS", "SpeechEmotionConfig"]

#: The fields that define the trained classifier (part of its cache key).
TRAINING_FIELDS = ("train_voices", "train_data", "label", "emotions", "n_mels", "channels",
                   "epochs", "batch_size", "lr", "max_seconds", "max_per_emotion", "seed")


class SpeechEmotionConfig(BaseModel):
    """Settings of the ``speech-emotion`` recognizer."""

    model_config = ConfigDict(extra="forbid")

    train_voices: list[VoiceCorpusRef] | None = Field(
        default=None,
        description="reference-voice corpora to learn from (their train split; their test "
                    "split measures it); the voxemoset builder fills in its own voices")
    train_data: DatasetRef | None = Field(
        default=None, description="or: a registered dataset of labelled speech (its train "
                                  "split; e.g. voxshapes with label: mood)")
    label: str = Field(default="emotion", description="train_data: the label key to learn")
    emotions: list[str] = Field(default_factory=lambda: list(PAPER_EMOTIONS), min_length=2,
                                description="the classes it learns and scores")
    n_mels: int = Field(default=64, ge=8, description="log-mel bands (16 kHz, 10 ms hop)")
    channels: int = Field(default=96, ge=8, description="width of the convolutions")
    epochs: int = Field(default=30, ge=1)
    batch_size: int = Field(default=32, ge=1)
    lr: float = Field(default=3e-3, gt=0, description="AdamW learning rate (cosine decay)")
    max_seconds: float = Field(default=6.0, gt=0, description="longer utterances are cut")
    max_per_emotion: int | None = Field(default=None, ge=1,
                                        description="train on at most this many utterances "
                                                    "per emotion (None: all)")
    seed: int = 0
    cache_dir: str | None = Field(default=None, description="where trained classifiers are "
                                                            "kept; None: "
                                                            "~/.cache/voxcore/speech-emotion")
    num_threads: int | None = Field(default=1, ge=1,
                                    description="CPU threads while training (None: torch's)")

    @model_validator(mode="after")
    def _one_source(self) -> SpeechEmotionConfig:
        if self.train_voices is not None and self.train_data is not None:
            raise ValueError("give train_voices or train_data, not both")
        return self

    def training_config(self) -> dict[str, Any]:
        """The fields that define the trained classifier."""
        return self.model_dump(mode="json", include=set(TRAINING_FIELDS))
