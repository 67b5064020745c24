"""Config models of the public datasets (pydantic only: cheap to import).

Every config has a ``split`` field (``voxcore evaluate --split`` swaps it) and a ``limit``
(keep only the first N samples, in file order, so a quick run is deterministic).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "EMOSET_EMOTIONS",
    "PAPER_EMOTIONS",
    "PAPER_MERGED",
    "PAPER_DROPPED",
    "Flickr8kAudioConfig",
    "ManifestColumns",
    "ManifestConfig",
    "SpokenCocoConfig",
    "VoxEmosetConfig",
]

#: EmoSet's eight Mikels categories, as spelled in its folder and file names.
EMOSET_EMOTIONS: tuple[str, ...] = ("amusement", "awe", "contentment", "excitement",
                                    "anger", "disgust", "fear", "sadness")
#: The five classes VoxEmoset and the paper's Emo-A use.
PAPER_EMOTIONS: tuple[str, ...] = ("enjoyment", "anger", "disgust", "fear", "sadness")
#: EmoSet categories the paper merges into ``enjoyment`` (hard to tell apart by voice).
PAPER_MERGED: tuple[str, ...] = ("amusement", "excitement")
#: EmoSet categories the paper leaves out of VoxEmoset (hard to express by voice).
PAPER_DROPPED: tuple[str, ...] = ("awe", "contentment")

_LIMIT = Field(default=None, ge=1,
               description="keep only the first N samples (in file order); None = all")
_CHECK = Field(default=True,
               description="check that every referenced audio and image file exists (a fast "
                           "stat per file; files are decoded later, when training)")


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SpokenCocoConfig(_Config):
    """Settings of the ``spokencoco`` dataset: SpokenCOCO speech with MS-COCO 2014 images."""

    root: str = Field(default="data/SpokenCOCO",
                      description="the SpokenCOCO folder: SpokenCOCO_{train,val}.json and wavs/")
    image_root: str = Field(default="data/coco",
                            description="the MS-COCO 2014 folder holding train2014/ and val2014/")
    split: Literal["train", "val", "test"] = Field(
        default="train",
        description="without karpathy_json: train/val are the release's SpokenCOCO_train.json "
                    "and SpokenCOCO_val.json (test is unavailable); with it: Karpathy's "
                    "train (incl. restval), val or test images, taken from both files")
    karpathy_json: str | None = Field(
        default=None,
        description="Karpathy's dataset_coco.json (caption_datasets.zip); when set, the split "
                    "follows the Karpathy split exactly")
    captions: Literal["all", "first"] = Field(
        default="all",
        description="all: one sample per spoken caption (about 5 per image); first: one "
                    "sample per image, its first caption")
    limit: int | None = _LIMIT
    check_files: bool = _CHECK

    @model_validator(mode="after")
    def _test_needs_karpathy(self) -> Self:
        if self.split == "test" and self.karpathy_json is None:
            raise ValueError("split 'test' needs karpathy_json: the SpokenCOCO release has "
                             "only train and val files; set karpathy_json to Karpathy's "
                             "dataset_coco.json for the Karpathy test split")
        return self


class Flickr8kAudioConfig(_Config):
    """Settings of ``flickr8k-audio``: the Flickr Audio Caption Corpus with Flickr8k."""

    audio_root: str = Field(default="data/flickr_audio",
                            description="the flickr_audio folder: wav2capt.txt, wav2spk.txt, "
                                        "wavs/")
    image_root: str = Field(default="data/Flicker8k_Dataset",
                            description="the Flickr8k image folder (the release spells it "
                                        "'Flicker8k_Dataset')")
    text_root: str = Field(default="data/Flickr8k_text",
                           description="the Flickr8k_text folder: Flickr8k.token.txt and "
                                       "Flickr_8k.{train,dev,test}Images.txt")
    split: Literal["train", "dev", "test"] = Field(
        default="test", description="the official Flickr8k split (6000/1000/1000 images)")
    limit: int | None = _LIMIT
    check_files: bool = _CHECK


class VoxEmosetConfig(_Config):
    """Settings of the ``voxemoset`` dataset (layout in the package README)."""

    root: str = Field(default="data/VoxEmoset",
                      description="folder holding voxemoset_{split}.jsonl, image/ and audio/")
    split: Literal["train", "val", "test"] = Field(
        default="train", description="EmoSet's own split (the paper keeps it)")
    emotion_classes: Literal["paper5", "emoset8", "raw"] = Field(
        default="paper5",
        description="paper5: the paper's 5 classes (amusement+excitement -> enjoyment, awe "
                    "and contentment samples dropped); emoset8: EmoSet's 8 categories as is; "
                    "raw: any label, unchecked")
    limit: int | None = _LIMIT
    check_files: bool = _CHECK


class ManifestColumns(_Config):
    """Which column (CSV) or key (JSONL) holds each field; None = the field is not read."""

    id: str | None = Field(default="id", description="unique sample id; missing = row number")
    audio: str | None = Field(default="audio", description="audio file, relative to the file")
    image: str | None = Field(default="image", description="image file, relative to the file")
    transcript: str | None = Field(default="transcript", description="what is said")
    speaker: str | None = Field(default="speaker", description="speaker id")


class ManifestConfig(_Config):
    """Settings of the generic ``manifest`` dataset: a JSONL or CSV file of samples."""

    path: str = Field(
        description="a .jsonl or .csv file; '{split}' in it is replaced by split, e.g. "
                    "data/my/{split}.csv. Paths in it are relative to its folder")
    split: str = Field(default="train", min_length=1,
                       description="fills '{split}' in path, or selects rows by split_column")
    split_column: str | None = Field(
        default=None, description="column/key naming each row's split (one file, all splits)")
    format: Literal["auto", "jsonl", "csv"] = Field(
        default="auto", description="auto: from the file's suffix (.jsonl/.json or .csv/.tsv)")
    columns: ManifestColumns = Field(default_factory=ManifestColumns,
                                     description="column names of the sample fields")
    labels: list[str] = Field(
        default_factory=lambda: ["emotion"],
        description="columns copied into Sample.labels (under the same name) when present")
    require: list[Literal["audio", "image", "transcript"]] = Field(
        default_factory=lambda: ["audio", "image"],  # type: ignore[arg-type]
        description="fields every row must have (a row without one is reported)")
    limit: int | None = _LIMIT
    check_files: bool = _CHECK

    @model_validator(mode="after")
    def _split_source(self) -> Self:
        if "{split}" in self.path and self.split_column is not None:
            raise ValueError("use either '{split}' in path or split_column, not both")
        for name in self.require:
            if getattr(self.columns, name) is None:
                raise ValueError(f"require lists {name!r} but columns.{name} is None")
        return self
