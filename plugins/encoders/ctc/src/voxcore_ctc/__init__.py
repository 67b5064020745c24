"""voxcore plugin: a small word-level CTC speech recogniser as a frozen speech encoder.

``voxcore train-recognizer`` trains the recogniser on a dataset's (speech, transcript) pairs in
about a minute on a CPU; the ``ctc-words`` encoder then turns speech into one token per
recognised word, followed by the utterance's prosody (pooled log-mel frames). It is the
quickstart's analogue of the paper's pretrained speech encoders (Whisper, SONAR): trained on
speech and text, frozen when the image model trains.

The recogniser is the encoder's *preparation* (see :class:`voxcore.plugin_api.Preparation`):
``voxcore prepare`` and ``voxcore train`` train it (or reuse the cached one) as a visible
step; building the encoder never trains anything.

This module is imported whenever voxcore loads its plugins, so it only declares the config,
registers the encoder and adds the command; torch is imported when one is built or run.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from voxcore_mel import MelConfig
from voxcore_sib import SibConfig

from voxcore.plugin_api import BottleneckConfig, DatasetRef, hookimpl

__all__ = ["CtcWordsConfig", "RecognizerTraining", "WordsProsodyConfig",
           "voxcore_add_commands",
           "voxcore_register_bottlenecks", "voxcore_register_encoders"]


class RecognizerTraining(BaseModel):
    """How a recogniser is trained when ``ctc-words`` trains its own (the same settings as
    ``voxcore train-recognizer``'s options)."""

    model_config = ConfigDict(extra="forbid")

    mel: MelConfig = Field(
        default_factory=lambda: MelConfig(n_mels=80, hop_length=320, normalize="utterance"),
        description="the log-mel front end (50 frames per second by default)")
    width: int = Field(default=128, gt=0, description="channels of the convs and Transformer")
    num_layers: int = Field(default=2, ge=0, description="Transformer layers")
    num_heads: int = Field(default=4, gt=0, description="attention heads per layer")
    steps: int = Field(default=300, gt=0, description="CTC training steps")
    batch_size: int = Field(default=32, gt=0, description="utterances per step")
    lr: float = Field(default=2e-3, gt=0, description="AdamW learning rate")
    seed: int = 0

    @model_validator(mode="after")
    def _heads_divide_width(self) -> Self:
        if self.width % self.num_heads:
            raise ValueError(f"num_heads ({self.num_heads}) must divide width ({self.width})")
        return self


class CtcWordsConfig(BaseModel):
    """Settings of the ``ctc-words`` encoder (a recipe's ``encoder.config``).

    Give either ``recognizer`` (a folder from ``voxcore train-recognizer``) or ``train_data``:
    then the recogniser is the encoder's preparation, trained on that dataset's speech and
    transcripts by ``voxcore prepare`` / ``voxcore train`` (about a minute on a CPU) and
    cached, keyed by the audio, the transcripts and ``training``.
    """

    model_config = ConfigDict(extra="forbid")

    recognizer: str | None = Field(
        default=None,
        description="folder written by 'voxcore train-recognizer --out DIR' (holding "
                    "recognizer.json and recognizer.safetensors)")
    train_data: DatasetRef | None = Field(
        default=None,
        description="registered dataset with audio and transcripts to train the recogniser "
                    "on when 'recognizer' is not given")
    heldout_data: DatasetRef | None = Field(
        default=None,
        description="with train_data: a dataset to measure the trained recogniser on (its "
                    "figures are logged and saved in recognizer.json)")
    training: RecognizerTraining = Field(default_factory=RecognizerTraining)
    cache_dir: str | None = Field(
        default=None,
        description="where recognisers trained from train_data are kept; None = "
                    "'.recognizer-cache' beside the dataset's manifest, else "
                    "~/.cache/voxcore/recognizer")
    prosody_stride: int = Field(
        default=1, ge=0,
        description="append the utterance's log-mel frames averaged over this many frames "
                    "after the word tokens (how it was said; 1 = every frame); 0 = words only")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.recognizer is None) == (self.train_data is None):
            raise ValueError("give either 'recognizer' (a folder from 'voxcore "
                             "train-recognizer') or 'train_data' (a dataset to train one on), "
                             "not both and not neither")
        if self.heldout_data is not None and self.train_data is None:
            raise ValueError("'heldout_data' goes with 'train_data'")
        return self


class WordsProsodyConfig(BottleneckConfig):
    """Settings of the ``words-prosody`` bottleneck (a recipe's ``bottleneck.config``).

    ``input_dim``, ``output_dim`` and ``pooled_dim`` are filled in from the encoder and the
    generator (which must take a pooled vector).
    """

    #: The prosody always goes to the generator's pooled input.
    pooled_output: ClassVar[Literal["optional", "required", "never"]] = "required"

    prosody_dim: int = Field(default=80, gt=0,
                             description="channels of a prosody frame: the ctc-words encoder's "
                                         "n_mels (the last channels of its features)")
    prosody: SibConfig = Field(
        default_factory=lambda: SibConfig(ratio=8, widths=[128, 128, 128], num_heads=4),
        description="the SIB the prosody frames go through before pooling (its input, output "
                    "and pooled widths are filled in)")


@hookimpl
def voxcore_register_encoders(register: Any) -> None:
    """Register the ``ctc-words`` encoder."""
    register("ctc-words", config=CtcWordsConfig, factory="voxcore_ctc.encoder:CtcWordsEncoder",
             prepare="voxcore_ctc.preparation:recognizer_preparation",
             description="words heard by a small CTC recogniser (prepared from train_data, or "
                         "'voxcore train-recognizer') + prosody frames")


@hookimpl
def voxcore_add_commands(commands: Any) -> None:
    """Add ``voxcore train-recognizer``."""
    from voxcore_ctc.commands import add_train_recognizer

    add_train_recognizer(commands)


@hookimpl
def voxcore_register_bottlenecks(register: Any) -> None:
    """Register the ``words-prosody`` bottleneck."""
    register("words-prosody", config=WordsProsodyConfig,
             factory="voxcore_ctc.bottleneck:WordsProsodyBottleneck",
             description="ctc-words features: word tokens to cross-attention, prosody frames "
                         "through a SIB to the pooled input")
