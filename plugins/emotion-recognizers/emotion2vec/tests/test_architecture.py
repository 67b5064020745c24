"""The size of emotion2vec+ large, built from its config on the ``meta`` device, and a full-size
(random-weight) check that batching changes no score."""

from __future__ import annotations

import pytest
import torch
from voxcore_emotion2vec.architecture import PLUS_LARGE, TINY
from voxcore_emotion2vec.inference import (
    frame_lengths,
    label_logits,
    normalised_batch,
    receptive_field,
)
from voxcore_emotion2vec.loading import build_emotion2vec

#: Parameters of emotion2vec+ large's inference graph (decoder dropped), by construction from
#: :data:`PLUS_LARGE`: 12 blocks of width 1024 (8 + a 4-block prenet), the convolutional
#: feature extractor and positional encoder, 10 extra tokens, a 9-way output layer.
PLUS_LARGE_PARAMETERS = 162_140_185


def parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_emotion2vec_plus_large_has_162_million_parameters() -> None:
    with torch.device("meta"):
        model = build_emotion2vec(PLUS_LARGE, vocab_size=9)
    assert parameters(model) == PLUS_LARGE_PARAMETERS
    blocks = len(model.blocks) + len(model.modality_encoders["AUDIO"].context_encoder.blocks)
    assert (blocks, model.blocks[0].attn.qkv.in_features) == (12, 1024)
    # model.pt stores three float32 values per parameter: 1.95 GB on the hub.
    assert round(3 * 4 * PLUS_LARGE_PARAMETERS / 1e9, 2) == 1.95


def test_frames_come_at_50_hz_after_a_25_ms_receptive_field() -> None:
    with torch.device("meta"):
        model = build_emotion2vec(PLUS_LARGE, vocab_size=9)
    assert receptive_field(model) == 400
    lengths = torch.tensor([400, 16_000, 68_000])
    assert frame_lengths(model, lengths).tolist() == [1, 49, 212]


@pytest.mark.slow
def test_full_size_model_scores_a_batch_as_single_utterances() -> None:
    torch.manual_seed(0)
    model = build_emotion2vec(PLUS_LARGE, vocab_size=9)
    assert parameters(model) == PLUS_LARGE_PARAMETERS
    generator = torch.Generator().manual_seed(1)
    waves = [0.1 * torch.randn(n, generator=generator) for n in (24_000, 40_000)]
    with torch.inference_mode():
        together = label_logits(model, *normalised_batch(model, waves))
        alone = torch.cat([label_logits(model, *normalised_batch(model, [w])) for w in waves])
    torch.testing.assert_close(together, alone, atol=1e-4, rtol=1e-4)


def test_the_tiny_model_is_tiny() -> None:
    with torch.device("meta"):
        assert parameters(build_emotion2vec(TINY, vocab_size=9)) < 60_000
