"""The bottleneck conformance suite passes a correct bottleneck and fails broken ones.

A small correct bottleneck (each frame projected, plus masked attention over its item for
context) runs the whole suite; each broken variant differs from it by one bug that one check
must catch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from voxcore.interfaces import Bottleneck, Condition, SpeechFeatures
from voxcore.testing.bottleneck import BottleneckSuite


class AttentionBottleneck(torch.nn.Module):
    """Correct: frame projection + single-head attention that only sees valid frames."""

    def __init__(self, input_dim: int, output_dim: int, pooled_dim: int | None) -> None:
        super().__init__()
        self.input_dim, self.output_dim, self.pooled_dim = input_dim, output_dim, pooled_dim
        self.frame = torch.nn.Linear(input_dim, output_dim)
        self.query = torch.nn.Linear(input_dim, output_dim)
        self.key = torch.nn.Linear(input_dim, output_dim)
        self.value = torch.nn.Linear(input_dim, output_dim)
        self.pool = torch.nn.Linear(output_dim, pooled_dim) if pooled_dim else None

    def inputs(self, features: SpeechFeatures) -> torch.Tensor:
        return features.features.masked_fill(~features.mask.unsqueeze(-1), 0.0)

    def key_mask(self, features: SpeechFeatures) -> torch.Tensor | None:
        return features.mask[:, None, :]

    def forward(self, features: SpeechFeatures) -> Condition:
        x, mask = self.inputs(features), features.mask
        scores = self.query(x) @ self.key(x).transpose(1, 2) / self.output_dim ** 0.5
        key_mask = self.key_mask(features)
        if key_mask is not None:
            scores = scores.masked_fill(~key_mask, float("-inf"))
        tokens = self.frame(x) + scores.softmax(dim=-1) @ self.value(x)
        tokens = tokens.masked_fill(~mask.unsqueeze(-1), 0.0)
        pooled = None
        if self.pool is not None:
            pooled = self.pool(tokens.sum(dim=1) / mask.sum(dim=1, keepdim=True))
        return Condition(tokens, mask, pooled)


class AttendsToZeroedPadding(AttentionBottleneck):
    """Bug: zeroes padded frames but attends to them (no key padding mask)."""

    def key_mask(self, features: SpeechFeatures) -> torch.Tensor | None:
        return None


class UnmaskedAttention(AttendsToZeroedPadding):
    """Bug: ignores the mask before attention: padded frames' values and all."""

    def inputs(self, features: SpeechFeatures) -> torch.Tensor:
        return features.features


class PaddedMeanPool(AttentionBottleneck):
    """Bug: the pooled vector averages over padded frames too."""

    def forward(self, features: SpeechFeatures) -> Condition:
        out = super().forward(features)
        assert self.pool is not None
        tokens = self.frame(features.features)
        return Condition(out.tokens, out.mask, self.pool(tokens.mean(dim=1)))


class PositionsFromEnd(AttentionBottleneck):
    """Bug: a position signal counted from the end of the padded batch, not each item's start."""

    def inputs(self, features: SpeechFeatures) -> torch.Tensor:
        frames = features.features.shape[1]
        ramp = torch.arange(frames, 0, -1, dtype=torch.float32)[None, :, None] / frames
        return super().inputs(features) + ramp


class Noisy(AttentionBottleneck):
    """Bug: fresh random noise at every call, as dropout left on in eval mode would give."""

    def forward(self, features: SpeechFeatures) -> Condition:
        out = super().forward(features)
        return Condition(out.tokens + 0.01 * torch.randn(1), out.mask, out.pooled)


class UnsavedState(AttentionBottleneck):
    """Bug: a random mix kept in a non-persistent buffer, so state_dict misses it."""

    def __init__(self, input_dim: int, output_dim: int, pooled_dim: int | None) -> None:
        super().__init__(input_dim, output_dim, pooled_dim)
        self.register_buffer("mix", torch.randn(output_dim, output_dim), persistent=False)

    def forward(self, features: SpeechFeatures) -> Condition:
        out = super().forward(features)
        return Condition(out.tokens @ self.get_buffer("mix"), out.mask, out.pooled)


class UnusedParameter(AttentionBottleneck):
    """Bug: a parameter that nothing uses, so training would never update it."""

    def __init__(self, input_dim: int, output_dim: int, pooled_dim: int | None) -> None:
        super().__init__(input_dim, output_dim, pooled_dim)
        self.forgotten = torch.nn.Linear(output_dim, output_dim)


class KeepsEveryToken(AttentionBottleneck):
    """Bug (for a suite expecting ratio 2): never shortens the sequence."""


class TestAttentionBottleneck(BottleneckSuite):
    def build_bottleneck(self, input_dim: int, output_dim: int,
                         pooled_dim: int | None) -> Bottleneck:
        return AttentionBottleneck(input_dim, output_dim, pooled_dim)


def _suite_for(kind: type[AttentionBottleneck], ratio: int | None = None) -> BottleneckSuite:
    class Suite(BottleneckSuite):
        length_ratio = ratio

        def build_bottleneck(self, input_dim: int, output_dim: int,
                             pooled_dim: int | None) -> Bottleneck:
            return kind(input_dim, output_dim, pooled_dim)

    return Suite()


def test_padding_check_catches_attention_without_key_mask() -> None:
    with pytest.raises(AssertionError, match="padding leaks into valid outputs"):
        _suite_for(UnmaskedAttention).test_padding_values_do_not_leak(pooled_dim=None)


def test_padding_check_catches_mean_pool_over_padding() -> None:
    suite = _suite_for(PaddedMeanPool)
    # Tokens are fine, so only the pooled comparison can fail.
    with pytest.raises(AssertionError, match="pooled outputs differ"):
        suite.test_padding_values_do_not_leak(pooled_dim=4)


def test_alone_check_catches_attention_to_zeroed_padding() -> None:
    suite = _suite_for(AttendsToZeroedPadding)
    # Padded frames are zeros whatever their values were, so only running alone shows it.
    suite.test_padding_values_do_not_leak(pooled_dim=None)
    with pytest.raises(AssertionError, match="in a padded batch vs run alone"):
        suite.test_item_alone_matches_batch(pooled_dim=None)


def test_alone_check_catches_positions_that_depend_on_padding() -> None:
    suite = _suite_for(PositionsFromEnd)
    suite.test_padding_values_do_not_leak(pooled_dim=None)  # blind to this bug by design
    with pytest.raises(AssertionError, match="in a padded batch vs run alone"):
        suite.test_item_alone_matches_batch(pooled_dim=None)


def test_gradient_check_catches_padding_influence() -> None:
    with pytest.raises(AssertionError, match="gradient at padded frames is not zero"):
        _suite_for(UnmaskedAttention).test_gradients_reach_parameters_and_inputs(pooled_dim=None)


def test_gradient_check_catches_unused_parameter() -> None:
    with pytest.raises(AssertionError, match="forgotten.weight"):
        _suite_for(UnusedParameter).test_gradients_reach_parameters_and_inputs(pooled_dim=None)


def test_determinism_check_catches_noise() -> None:
    with pytest.raises(AssertionError, match="dropout left on"):
        _suite_for(Noisy).test_deterministic_in_eval(pooled_dim=None)


def test_round_trip_check_catches_unsaved_state(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="some state is not saved"):
        _suite_for(UnsavedState).test_state_dict_round_trip(None, tmp_path)


def test_shape_check_catches_wrong_length_ratio() -> None:
    with pytest.raises(AssertionError, match=r"expected ceil\(L / 2\)"):
        _suite_for(KeepsEveryToken, ratio=2).test_output_shapes_and_dtypes(pooled_dim=None)


def test_suite_needs_build_bottleneck() -> None:
    with pytest.raises(NotImplementedError, match="must override build_bottleneck"):
        BottleneckSuite().test_output_shapes_and_dtypes(pooled_dim=None)
