"""Tests of the words-prosody bottleneck: conformance on ctc-words-shaped features, routing,
and the errors that say how to fix a recipe."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import torch
from pydantic import ValidationError
from voxcore_ctc import WordsProsodyConfig
from voxcore_ctc.bottleneck import WordsProsodyBottleneck
from voxcore_sib import SibConfig

from voxcore.plugin_api import SpeechFeatures, UserError
from voxcore.testing.bottleneck import BottleneckSuite

PROSODY_DIM = 10
SMALL_SIB = SibConfig(ratio=4, widths=[16, 16], num_heads=2)


def build(input_dim: int = 16, output_dim: int = 24, pooled_dim: int | None = 12,
          **settings: object) -> WordsProsodyBottleneck:
    return WordsProsodyBottleneck(WordsProsodyConfig(
        input_dim=input_dim, output_dim=output_dim, pooled_dim=pooled_dim,
        prosody_dim=PROSODY_DIM, prosody=SMALL_SIB, **settings))


def ctc_features(lengths: Sequence[int], words: Sequence[int], width: int = 16,
                 seed: int = 1) -> SpeechFeatures:
    """Like the ctc-words encoder's: ``words[i]`` one-hot word tokens, then prosody frames;
    padding holds random values."""
    generator = torch.Generator().manual_seed(seed)
    vocabulary = width - PROSODY_DIM
    values = torch.randn(len(lengths), max(lengths), width, generator=generator)
    for row, (length, count) in enumerate(zip(lengths, words, strict=True)):
        ids = torch.randint(0, vocabulary, (count,), generator=generator)
        values[row, :length] = 0
        values[row, torch.arange(count), ids] = 1
        values[row, count:length, vocabulary:] = torch.randn(length - count, PROSODY_DIM,
                                                             generator=generator)
    mask = torch.arange(max(lengths)).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    return SpeechFeatures(values, mask, frame_rate=50.0)


class TestWordsProsody(BottleneckSuite):
    pooled_dims = (12,)

    def build_bottleneck(self, input_dim: int, output_dim: int,
                         pooled_dim: int | None) -> WordsProsodyBottleneck:
        return build(input_dim, output_dim, pooled_dim)

    def features(self, lengths: Sequence[int] | None = None, seed: int = 1) -> SpeechFeatures:
        lengths = list(self.lengths if lengths is None else lengths)
        return ctc_features(lengths, [min(3, n - 1) for n in lengths], seed=seed)


def test_words_go_to_tokens_and_frames_to_pooled() -> None:
    torch.manual_seed(0)
    bottleneck = build().eval()
    features = ctc_features([9, 6], [3, 0])
    out = bottleneck(features)
    assert out.mask.sum(1).tolist() == [3, 1]  # no word heard: one token (its position)
    assert out.pooled is not None and out.pooled.shape == (2, 12)
    # Changing a frame changes only the pooled vector; changing a word only the tokens.
    louder = features.features.clone()
    louder[0, 5, 6:] += 3.0
    moved = bottleneck(SpeechFeatures(louder, features.mask, 50.0))
    torch.testing.assert_close(moved.tokens, out.tokens)
    assert not torch.allclose(moved.pooled[0], out.pooled[0])
    other_word = features.features.clone()
    other_word[0, 1, :6] = torch.nn.functional.one_hot(
        (other_word[0, 1, :6].argmax() + 1) % 6, 6).float()
    reworded = bottleneck(SpeechFeatures(other_word, features.mask, 50.0))
    torch.testing.assert_close(reworded.pooled, out.pooled)
    assert not torch.allclose(reworded.tokens[0, 1], out.tokens[0, 1])
    torch.testing.assert_close(reworded.tokens[0, 0], out.tokens[0, 0])


def test_the_same_word_is_the_same_embedding_at_the_same_position() -> None:
    torch.manual_seed(0)
    bottleneck = build().eval()
    features = ctc_features([8, 8], [2, 2])
    values = features.features.clone()
    values[1, :2] = values[0, :2]
    out = bottleneck(SpeechFeatures(values, features.mask, 50.0))
    torch.testing.assert_close(out.tokens[0, :2], out.tokens[1, :2])


def test_needs_a_pooled_input_and_wider_features() -> None:
    with pytest.raises(ValueError, match="generator.config.pooled_dim"):
        build(pooled_dim=None)
    with pytest.raises(ValueError, match="not wider than prosody_dim=10"):
        build(input_dim=10)


def test_features_without_frames_say_what_to_fix() -> None:
    bottleneck = build().eval()
    with pytest.raises(UserError, match="prosody_stride above 0"):
        bottleneck(ctc_features([3], [3]))


def test_config_rejects_typos() -> None:
    with pytest.raises(ValidationError, match="prosdy"):
        WordsProsodyConfig.model_validate({"prosdy": {}})
    with pytest.raises(ValidationError, match="ratio"):
        WordsProsodyConfig.model_validate({"prosody": {"ratio": 0}})
    assert WordsProsodyConfig().prosody.ratio == 8
