"""A small word-level CTC speech recogniser on log-mel features, and its files on disk.

The recogniser is VoxShapes-scale's analogue of Whisper's encoder: trained on (speech,
transcript) pairs, then frozen and used as the speech encoder of a diffusion model. Its output
classes are whole words (a closed vocabulary taken from the training transcripts) plus the CTC
blank, so greedy decoding yields word ids directly.

A trained recogniser is a folder with ``recognizer.json`` (:class:`RecognizerSpec`: the
vocabulary, the mel front end's settings and the network's sizes) and
``recognizer.safetensors``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from voxcore_mel import MelConfig

from voxcore.plugin_api import (
    TransformerBlock,
    UserError,
    sinusoidal_positions,
    write_text_atomic,
    zero_padding,
)

__all__ = ["BLANK", "FORMAT", "SPEC_FILE", "WEIGHTS_FILE", "RecognizerSpec", "WordRecognizer",
           "greedy_words", "load_recognizer", "save_recognizer", "transcript_words"]

FORMAT = "voxcore-ctc-recognizer/1"
SPEC_FILE = "recognizer.json"
WEIGHTS_FILE = "recognizer.safetensors"
#: Class 0 is CTC's blank; word ``i`` of the vocabulary is class ``i + 1``.
BLANK = 0
#: Each of the two strided convolutions halves the frame rate.
DOWNSAMPLE = 4

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def transcript_words(text: str) -> list[str]:
    """The words of a transcript as the recogniser spells them: lower case, no punctuation."""
    return _WORD.findall(text.lower())


class RecognizerSpec(BaseModel):
    """What ``recognizer.json`` holds: enough to rebuild the network and read its output."""

    model_config = ConfigDict(extra="forbid")

    format: str = Field(default=FORMAT, description="file format tag")
    vocabulary: list[str] = Field(min_length=1, description="class i + 1 is vocabulary[i]")
    mel: MelConfig = Field(description="the log-mel front end the recogniser was trained on")
    width: int = Field(default=128, gt=0, description="channels of the convs and Transformer")
    num_layers: int = Field(default=2, ge=0, description="Transformer layers")
    num_heads: int = Field(default=4, gt=0, description="attention heads per layer")
    mlp_ratio: float = Field(default=2.0, gt=0, description="MLP width / width")
    trained_on: str = Field(default="", description="where the training pairs came from")
    heldout: dict[str, float] = Field(default_factory=dict,
                                      description="held-out figures measured after training")


class WordRecognizer(nn.Module):
    """Two strided 1-D convolutions (4x fewer frames), a masked Transformer, word logits.

    Padding never changes a valid output: after each convolution the frames past an
    utterance's end are zeroed, as they would be had it been encoded alone.
    """

    def __init__(self, spec: RecognizerSpec) -> None:
        super().__init__()
        self.spec = spec
        width = spec.width
        self.conv1 = nn.Conv1d(spec.mel.n_mels, width, kernel_size=5, stride=2, padding=2)
        self.conv2 = nn.Conv1d(width, width, kernel_size=5, stride=2, padding=2)
        self.blocks = nn.ModuleList(TransformerBlock(width, spec.num_heads, spec.mlp_ratio)
                                    for _ in range(spec.num_layers))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, len(spec.vocabulary) + 1)

    def hidden_states(self, mel: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Mel frames ``[B, N, n_mels]`` -> hidden states ``[B, ceil(N/4), width]`` and mask."""
        x, mask = self._conv(self.conv1, mel, mask)
        x, mask = self._conv(self.conv2, x, mask)
        x = x + sinusoidal_positions(x.shape[1], x.shape[2], device=x.device, dtype=x.dtype)
        for block in self.blocks:
            x = block(x, mask)
        return zero_padding(self.norm(x), mask), mask

    def forward(self, mel: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Word logits ``[B, ceil(N/4), vocabulary + 1]`` (class 0 = blank) and their mask."""
        hidden, mask = self.hidden_states(mel, mask)
        logits: Tensor = self.head(hidden)
        return logits, mask

    @staticmethod
    def _conv(conv: nn.Conv1d, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        x = F.gelu(conv(zero_padding(x, mask).transpose(1, 2))).transpose(1, 2)
        mask = mask[:, ::2][:, : x.shape[1]]
        return zero_padding(x, mask), mask


def greedy_words(logits: Tensor, mask: Tensor) -> list[list[int]]:
    """Best-path CTC decoding: per item, the word classes (1-based) with repeats and blanks
    removed."""
    best = logits.argmax(dim=-1).masked_fill(~mask, BLANK)
    previous = F.pad(best, (1, 0), value=BLANK)[:, :-1]
    keep = (best != BLANK) & (best != previous)
    return [row[chosen].tolist() for row, chosen in zip(best, keep, strict=True)]


def save_recognizer(model: WordRecognizer, folder: Path) -> None:
    """Write the recogniser's spec and weights (safetensors) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().contiguous()
             for name, tensor in model.state_dict().items()}
    temporary = folder / f".{WEIGHTS_FILE}.tmp"
    save_file(state, str(temporary))
    temporary.replace(folder / WEIGHTS_FILE)
    write_text_atomic(folder / SPEC_FILE, model.spec.model_dump_json(indent=2) + "\n")


def load_recognizer(folder: str | Path, *, source: str = "recognizer") -> WordRecognizer:
    """The recogniser saved in ``folder`` by ``voxcore train-recognizer`` (in eval mode)."""
    path = Path(folder).expanduser()
    howto = ("train one with 'voxcore train-recognizer --dataset voxshapes --dataset-option "
             f"root=DATA_DIR --out {path}' (about a minute on a CPU)")
    if not (path / SPEC_FILE).is_file() or not (path / WEIGHTS_FILE).is_file():
        raise UserError(f"{source}: {path} holds no trained recogniser ({SPEC_FILE} and "
                        f"{WEIGHTS_FILE} are needed); {howto}")
    try:
        spec = RecognizerSpec.model_validate(json.loads((path / SPEC_FILE).read_text()))
    except (ValueError, OSError) as exc:
        raise UserError(f"{source}: {path / SPEC_FILE} is not a recogniser spec ({exc}); "
                        f"{howto}") from None
    if spec.format != FORMAT:
        raise UserError(f"{source}: {path / SPEC_FILE} has format {spec.format!r}, this "
                        f"voxcore-ctc reads {FORMAT!r}; {howto}")
    model = WordRecognizer(spec)
    try:
        model.load_state_dict(load_file(str(path / WEIGHTS_FILE)))
    except (RuntimeError, OSError) as exc:
        raise UserError(f"{source}: {path / WEIGHTS_FILE} does not fit {path / SPEC_FILE} "
                        f"({exc}); {howto}") from None
    return model.eval()


def vocabulary_of(transcripts: Sequence[str]) -> list[str]:
    """Every word of ``transcripts``, sorted (the recogniser's closed vocabulary)."""
    return sorted({word for text in transcripts for word in transcript_words(text)})
