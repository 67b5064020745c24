"""Config models of the reference-voice corpora (pydantic only: cheap to import).

Every corpus shares how its utterances are split and filtered (:class:`VoiceCorpusConfig`):

- ``split_file``: EmoBox's split of the corpus (the paper's split: VoxStudio Appendix A), read
  for fold ``fold``; utterances EmoBox leaves out are left out here too;
- otherwise a speaker-disjoint split: the corpus's speakers are ordered by the SHA-256 of
  ``"<seed>:<speaker>"`` (speaker ids as in the references, e.g. ``crema-d/1001``) and the
  first ``round(test_fraction * speakers)`` of them (at least one, never all) are the test
  speakers. It depends only on the speaker ids and the seed, so a speaker stays in its split
  whatever files are added, filtered or limited;
- ``emotions`` keeps only those emotions (the paper's five by default: neutral, calm, surprise
  and contempt are dropped); ``limit_per_emotion`` keeps a few of each for quick trials.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from voxcore.plugin_api import CANONICAL_EMOTIONS, PAPER_EMOTIONS
from voxcore_voxemoset.voices.labels import canonical_emotion

__all__ = ["CremaDConfig", "MeadConfig", "RavdessConfig", "VoiceCorpusConfig",
           "VoiceTableConfig"]


class VoiceCorpusConfig(BaseModel):
    """What every reference-voice corpus shares: its split and its filters."""

    model_config = ConfigDict(extra="forbid")

    split_file: str | None = Field(
        default=None,
        description="EmoBox's split of this corpus (github.com/emo-box/EmoBox, data/<dataset>/): "
                    "its folder (e.g. EmoBox/data/cremad), a fold_<n> folder, or one of a "
                    "fold's <dataset>_{train,test}_fold_<n>.jsonl/.json files; None = a "
                    "speaker-disjoint split drawn from seed and test_fraction")
    fold: int = Field(default=1, ge=1,
                      description="which EmoBox fold to read when split_file is a folder "
                                  "(RAVDESS has 6 folds, CREMA-D and MEAD one)")
    test_fraction: float = Field(
        default=0.2, gt=0.0, lt=1.0,
        description="without split_file: the fraction of speakers whose utterances are the "
                    "test split (at least one speaker, never all)")
    seed: int = Field(default=0,
                      description="without split_file: orders the speakers (SHA-256 of "
                                  "'<seed>:<speaker>'), so another seed picks other test speakers")
    emotions: list[str] = Field(
        default_factory=lambda: list(PAPER_EMOTIONS),
        description="keep only these emotions (names of voxcore's CANONICAL_EMOTIONS; corpus "
                    "words such as 'happy' or 'angry' are accepted and mapped)")
    limit_per_emotion: int | None = Field(
        default=None, ge=1,
        description="keep at most N utterances of each emotion in each split, taking the "
                    "speakers in turn (for quick trials); None = all")

    @field_validator("emotions")
    @classmethod
    def _canonical_emotions(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one emotion")
        names: list[str] = []
        for word in value:
            name = canonical_emotion(word)
            if name is None:
                raise ValueError(f"unknown emotion {word!r}; emotions: "
                                 f"{', '.join(CANONICAL_EMOTIONS)}")
            if name not in names:
                names.append(name)
        return names


class CremaDConfig(VoiceCorpusConfig):
    """Settings of ``crema-d``: CREMA-D's ``AudioWAV/<Actor>_<Sentence>_<Emotion>_<Level>.wav``."""

    root: str = Field(default="data/CREMA-D",
                      description="the CREMA-D folder holding AudioWAV/ (or AudioWAV itself)")
    levels: list[Literal["LO", "MD", "HI", "XX"]] | None = Field(
        default=None,
        description="keep only these intensity levels (LO low, MD medium, HI high, XX "
                    "unspecified; only the sentence IEO has LO/MD/HI); None = all")


class RavdessConfig(VoiceCorpusConfig):
    """Settings of ``ravdess``: RAVDESS speech, ``Actor_NN/03-01-EE-II-SS-RR-AA.wav``."""

    root: str = Field(default="data/RAVDESS",
                      description="the folder holding the Actor_01 ... Actor_24 folders of "
                                  "Audio_Speech_Actors_01-24.zip (or the zip's folder of that "
                                  "name above them); searched recursively")
    intensities: list[Literal["normal", "strong"]] | None = Field(
        default=None,
        description="keep only these emotional intensities (neutral has only normal); "
                    "None = both")


class MeadConfig(VoiceCorpusConfig):
    """Settings of ``mead``: MEAD's ``<Speaker>/audio/<emotion>/level_<n>/<nnn>.wav``."""

    root: str = Field(default="data/MEAD",
                      description="the folder holding one folder per speaker (M003, W009, ...), "
                                  "each with MEAD's audio/ tree; the released .m4a files need "
                                  ".wav copies beside them (see the README)")
    levels: list[int] | None = Field(
        default=None,
        description="keep only these intensity levels (1 weak, 2 medium, 3 strong; neutral "
                    "has only level 1); None = all")
    sentences: str | None = Field(
        default=None,
        description="a CSV or JSON file giving the text of each utterance (columns emotion, "
                    "level (optional), number, text; see the README); None = no transcripts "
                    "(the builder transcribes the references)")

    @field_validator("levels")
    @classmethod
    def _known_levels(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (not value or any(level not in (1, 2, 3) for level in value)):
            raise ValueError(f"MEAD's levels are 1, 2 and 3, got {value}")
        return value


class VoiceTableConfig(VoiceCorpusConfig):
    """Settings of ``voice-table``: a CSV/JSONL of ``audio,emotion,speaker[,transcript][,split]``
    rows."""

    root: str = Field(
        default="data/voices.csv",
        description="the table: a .csv (with a header row) or .jsonl file, one utterance per "
                    "row: audio (path relative to the file), emotion, speaker, and optionally "
                    "transcript and split (train/test; rows without one are split by speaker)")
    corpus: str = Field(
        default="voice-table", min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="the corpus name: the prefix of reference and speaker ids (e.g. 'esd')")
