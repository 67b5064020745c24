"""The ``words-prosody`` bottleneck: what was said to cross-attention, how it was said to the
time embedding.

It reads the ``ctc-words`` encoder's features (word tokens, then prosody frames) and sends
them two ways, as SDXL sends its text two ways: one token per recognised word (a learned
embedding, a position, a LayerNorm) is the condition's ``tokens``; the prosody frames go
through a speech information bottleneck (SIB) whose pooled vector is the condition's
``pooled``, which the generator adds to its time embedding. Measured on VoxShapes (README,
quickstart status): frames in the same cross-attention as the words left content at chance,
while this split drew the right content and the mood.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from voxcore_sib import SibConfig, SpeechInformationBottleneck

from voxcore.plugin_api import (
    BottleneckWidths,
    Condition,
    ConfigProblem,
    SpeechFeatures,
    UserError,
    sinusoidal_positions,
    zero_padding,
)
from voxcore_ctc import WordsProsodyConfig

__all__ = ["WordsProsodyBottleneck"]


class WordsProsodyBottleneck(BottleneckWidths, nn.Module):
    """``ctc-words`` features ``[B, words + frames, vocabulary + prosody_dim]`` -> word tokens
    ``[B, max words, output_dim]`` and a pooled prosody vector ``[B, pooled_dim]``.

    A token is a word when any of its first ``input_dim - prosody_dim`` channels (the one-hot
    word) is non-zero, otherwise a prosody frame (its last ``prosody_dim`` channels). An
    utterance with no recognised word gets one word token made of the position code alone.
    """

    config: WordsProsodyConfig

    def __init__(self, config: WordsProsodyConfig) -> None:
        super().__init__()
        input_dim, output_dim = self.adopt_widths(config)
        if config.pooled_dim is None:
            raise ConfigProblem("pooled_dim", "words-prosody gives the prosody to the "
                                "generator's pooled input, but the generator has none; give "
                                "the generator a pooled input (tiny-unet: "
                                "generator.config.pooled_dim: 128)")
        if input_dim <= config.prosody_dim:
            raise ConfigProblem("input_dim", f"the encoder's features are {input_dim} wide, not "
                                f"wider than prosody_dim={config.prosody_dim}; words-prosody "
                                "reads the ctc-words encoder's features (vocabulary + n_mels "
                                "channels): use encoder ctc-words")
        self.vocabulary_size = input_dim - config.prosody_dim
        self.words = nn.Linear(self.vocabulary_size, output_dim, bias=False)
        # One-hot rows pick columns: unit-variance columns make it an embedding table.
        nn.init.normal_(self.words.weight)
        self.norm = nn.LayerNorm(output_dim)
        prosody = config.prosody.model_dump()
        prosody.update(input_dim=config.prosody_dim, output_dim=output_dim,
                       pooled_dim=config.pooled_dim)
        self.prosody = SpeechInformationBottleneck(SibConfig.model_validate(prosody))

    def forward(self, features: SpeechFeatures) -> Condition:
        """Split ``features`` into words and prosody frames; condition on both."""
        values, mask = features.features, features.mask
        is_word = mask & (values[..., : self.vocabulary_size] != 0).any(dim=-1)
        is_frame = mask & ~is_word
        if not bool(is_frame.any(dim=1).all()):
            raise UserError("bottleneck 'words-prosody' got an utterance with no prosody "
                            "frames; set the ctc-words encoder's prosody_stride above 0")
        words, word_mask = _gather(values[..., : self.vocabulary_size], is_word, at_least=1)
        tokens = self.words(words)
        tokens = tokens + sinusoidal_positions(tokens.shape[1], tokens.shape[2],
                                               device=tokens.device, dtype=tokens.dtype)
        tokens = zero_padding(self.norm(tokens), word_mask)
        frames, frame_mask = _gather(values[..., self.vocabulary_size:], is_frame, at_least=1)
        pooled = self.prosody(SpeechFeatures(frames, frame_mask, features.frame_rate)).pooled
        return Condition(tokens=tokens, mask=word_mask, pooled=pooled)

    def extra_repr(self) -> str:
        return (f"vocabulary={self.vocabulary_size}, prosody_dim={self.config.prosody_dim}, "
                f"output_dim={self.output_dim}, pooled_dim={self.pooled_dim}")


def _gather(values: Tensor, chosen: Tensor, *, at_least: int) -> tuple[Tensor, Tensor]:
    """The rows of ``values`` ``[B, N, C]`` where ``chosen`` ``[B, N]``, moved to the front of
    each item and zero-padded to the longest (at least ``at_least`` rows, all kept valid
    from the first one on: a row for an item that has none is all zeros)."""
    counts = chosen.sum(dim=1)
    length = max(int(counts.max()) if counts.numel() else 0, at_least)
    # A stable sort puts the chosen rows first, in their order.
    order = torch.sort((~chosen).to(torch.int8), dim=1, stable=True).indices[:, :length]
    gathered = torch.gather(values, 1, order.unsqueeze(-1).expand(-1, -1, values.shape[-1]))
    positions = torch.arange(length, device=values.device)
    mask = positions.unsqueeze(0) < counts.clamp(min=at_least).unsqueeze(1)
    gathered = torch.where((positions.unsqueeze(0) < counts.unsqueeze(1)).unsqueeze(-1),
                           gathered, gathered.new_zeros(()))
    return gathered, mask
