"""The ``voxemoset`` builder's options (pydantic only: cheap to import).

Every stage is a registered component named with ``{name, config}``, so another captioner,
speech synthesizer, emotion recognizer or voice corpus is a config change. Shorthands keep
the command line short: ``--images DIR`` (a folder or a CSV/JSONL file), ``--voices
crema-d=DIR ravdess=DIR``, ``--captioner captions-file`` (a name alone).
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from voxcore.plugin_api import (
    PAPER_EMOTIONS,
    CaptionerRef,
    ComponentRef,
    EmotionRecognizerRef,
    EncoderRef,
    SynthesizerRef,
    VoiceCorpusRef,
)

__all__ = ["EMOSET_SPLITS", "EmotionCheckConfig", "ImagesConfig", "VoxEmosetBuildConfig"]

#: EmoSet-118K's splits, in the order they are built.
EMOSET_SPLITS: tuple[str, ...] = ("train", "val", "test")

ReferenceSplit = Literal["train", "test"]
#: Which references speak each split: test voices only for test captions, so no test voice
#: is heard in training (val is EmoSet's training-side split).
_REFERENCE_SPLITS: dict[str, ReferenceSplit] = {"train": "train", "val": "train",
                                                "test": "test"}


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImagesConfig(_Config):
    """Where the images and their emotion labels come from."""

    root: str = Field(description="EmoSet-118K's folder (info.json, train/val/test.json, "
                                  "image/, annotation/) or a CSV/JSONL file of image,emotion "
                                  "rows (paths relative to the file; an optional split column)")
    format: Literal["auto", "emoset", "table"] = Field(
        default="auto", description="auto: emoset for a folder, table for a .csv/.tsv/.jsonl "
                                    "file")
    classes: Literal["paper5", "raw"] = Field(
        default="paper5",
        description="paper5: EmoSet's amusement and excitement become enjoyment, awe and "
                    "contentment are left out (the paper); raw: labels as they are")
    splits: list[str] = Field(default_factory=lambda: list(EMOSET_SPLITS), min_length=1,
                              description="the collection's splits to build")
    image_column: str = Field(default="image", description="table: the image path column")
    emotion_column: str = Field(default="emotion", description="table: the label column")
    split_column: str = Field(default="split",
                              description="table: the split column (absent: every row is "
                                          "'train')")
    id_column: str = Field(default="id", description="table: the id column (absent: the "
                                                     "image file's name without suffix)")


class EmotionCheckConfig(_Config):
    """How the emotion of each utterance is checked (the paper: emotion2vec, re-made when weak).
    """

    recognizer: EmotionRecognizerRef = Field(
        default_factory=lambda: EmotionRecognizerRef(name="speech-emotion"),
        description="registered speech emotion recognizer; a config field 'train_voices' "
                    "left unset is filled with the build's voices")
    threshold: float = Field(default=0.5, ge=0.0, le=1.0,
                             description="an utterance whose probability of its emotion is "
                                         "below this is made again")
    retries: int = Field(default=2, ge=0,
                         description="times a weak utterance is made again, each with "
                                     "another reference voice and seed, before it is dropped")
    batch_size: int = Field(default=16, ge=1, description="utterances scored at once")

    @field_validator("recognizer", mode="before")
    @classmethod
    def _name_alone(cls, value: Any) -> Any:
        return _ref_from_name(value)


class VoxEmosetBuildConfig(_Config):
    """Settings of ``voxcore data voxemoset``: images, reference voices and the four stages.

    The defaults need no downloaded weights (captions from a file, espeak-ng speech, a speech
    emotion classifier trained on the reference voices); ``recipes/builds/voxemoset-paper.yaml``
    has the paper's stages (LLaVA-OneVision, F5-TTS, emotion2vec).
    """

    images: ImagesConfig = Field(description="the images and their labels (--images DIR)")
    voices: list[VoiceCorpusRef] = Field(
        min_length=1,
        description="reference-voice corpora (--voices crema-d=DIR ravdess=DIR mead=DIR)")
    emotions: list[str] = Field(default_factory=lambda: list(PAPER_EMOTIONS), min_length=1,
                                description="the classes built (images of other labels are "
                                            "left out)")
    captioner: CaptionerRef = Field(
        default_factory=lambda: CaptionerRef(name="captions-file"),
        description="registered captioner (llava-onevision: the paper's)")
    captions_per_image: int = Field(default=3, ge=1, description="captions (and utterances) "
                                                                 "per image")
    caption_retries: int = Field(default=2, ge=0,
                                 description="times an image whose captions fail the check "
                                             "is captioned again before it is recorded failed")
    caption_batch_size: int = Field(default=8, ge=1, description="images captioned at once")
    synthesizer: SynthesizerRef = Field(default_factory=lambda: SynthesizerRef(name="espeak"),
                                        description="registered speech synthesizer (f5-tts: "
                                                    "the paper's)")
    synthesis_batch_size: int = Field(default=8, ge=1, description="utterances made at once")
    emotion_check: EmotionCheckConfig = Field(default_factory=EmotionCheckConfig,
                                              description="the emotion check of each utterance")
    asr: EncoderRef | None = Field(
        default=None,
        description="a registered encoder that can transcribe (e.g. {name: asr}): transcribes "
                    "reference voices that come without a transcript, when the synthesizer "
                    "needs one")
    reference_splits: dict[str, ReferenceSplit] = Field(
        default_factory=lambda: dict(_REFERENCE_SPLITS),
        description="which references speak each image split (test voices only for test "
                    "captions)")
    sample_rate: int = Field(default=16_000, ge=8_000, description="rate of the written speech "
                                                                   "(the paper: 16 kHz)")
    link_images: Literal["hardlink", "copy", "symlink"] = Field(
        default="hardlink",
        description="how images enter the output: hardlink (copy where it cannot), copy, or "
                    "symlink")
    limit: int | None = Field(default=None, ge=1,
                              description="a trial: at most N images per split, every class "
                                          "in turn")
    seed: int = Field(default=0, description="draws references and synthesis seeds")
    dnsmos_samples: int = Field(
        default=0, ge=0,
        description="score the speech quality of this many random utterances with DNSMOS "
                    "(the report's NMOS column; the paper: 10000; needs "
                    "voxcore-voxemoset[dnsmos]); 0 = none")
    examples_per_class: int = Field(default=2, ge=0, description="examples per class and split "
                                                                 "on the report's example page")
    device: str = Field(default="auto", description="auto (each process its GPU, else CPU), "
                                                    "cpu, cuda or cuda:N")
    progress: bool = Field(default=True, description="progress bars with ETA per stage")

    @field_validator("images", mode="before")
    @classmethod
    def _images_path(cls, value: Any) -> Any:
        return {"root": value} if isinstance(value, str) else value

    @field_validator("voices", mode="before")
    @classmethod
    def _voices_shorthand(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        refs: list[Any] = []
        for item in items:
            if isinstance(item, str):
                name, equals, root = item.partition("=")
                if not equals or not name or not root:
                    raise ValueError(f"{item!r}: give a corpus as NAME=FOLDER, e.g. "
                                     "crema-d=data/CREMA-D")
                refs.append({"name": name, "config": {"root": root}})
            else:
                refs.append(item)
        return refs

    @field_validator("captioner", "synthesizer", "asr", mode="before")
    @classmethod
    def _name_alone(cls, value: Any) -> Any:
        return _ref_from_name(value)

    @model_validator(mode="after")
    def _splits_have_references(self) -> Self:
        missing = [s for s in self.images.splits if s not in self.reference_splits]
        if missing:
            raise ValueError(f"reference_splits says nothing of split(s) {', '.join(missing)}; "
                             "map each image split to 'train' or 'test' references")
        return self


def _ref_from_name(value: Any) -> Any:
    """A component given by its name alone (``--captioner captions-file``)."""
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, ComponentRef):
        return value
    return value
