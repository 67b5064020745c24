"""The text encoder conformance suite passes a correct encoder and fails broken ones.

A small correct encoder (byte embeddings plus a projection of their masked mean) runs the
whole suite; each broken variant differs from it by one bug that one check must catch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from voxcore.interfaces import SpeechFeatures, TextEncoder
from voxcore.testing.text_encoder import TextEncoderSuite

BOS = 256


class MeanContextEncoder(torch.nn.Module):
    """Correct: each token is its byte embedding plus a projection of the text's mean."""

    output_dim = 8

    def __init__(self) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(257, self.output_dim)
        self.context = torch.nn.Linear(self.output_dim, self.output_dim)

    def token_ids(self, text: str) -> list[int]:
        return [BOS, *text.encode("utf-8")]

    def embed(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [self.token_ids(text) for text in texts]
        length = max(len(row) for row in rows)
        ids = torch.tensor([row + [0] * (length - len(row)) for row in rows])
        mask = torch.arange(length) < torch.tensor([len(row) for row in rows]).unsqueeze(1)
        return self.embedding(ids), mask

    def mean(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        weight = mask.unsqueeze(-1).to(x.dtype)
        return (x * weight).sum(dim=1, keepdim=True) / weight.sum(dim=1, keepdim=True)

    def encode_text(self, texts: Sequence[str]) -> SpeechFeatures:
        x, mask = self.embed(texts)
        features = x + self.context(self.mean(x, mask))
        return SpeechFeatures(features.masked_fill(~mask.unsqueeze(-1), 0.0), mask, 1.0)


class PaddingMeanEncoder(MeanContextEncoder):
    """Bug: mean-pools over padding too, into every token."""

    def mean(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1, keepdim=True)


class NoBosEncoder(MeanContextEncoder):
    """Bug: no BOS token, so the empty string has no valid token at all."""

    def token_ids(self, text: str) -> list[int]:
        return list(text.encode("utf-8")) or [0]

    def embed(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        x, mask = super().embed(texts)
        empty = torch.tensor([text == "" for text in texts]).unsqueeze(1)
        return x, mask & ~empty


class AsciiOnlyEncoder(MeanContextEncoder):
    """Bug: silently drops every non-ASCII character."""

    def token_ids(self, text: str) -> list[int]:
        return [BOS, *text.encode("ascii", "ignore")]


class UnusedLayerEncoder(MeanContextEncoder):
    """Bug: a layer that is built (and saved) but never used, so it can never be trained."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = torch.nn.Linear(self.output_dim, self.output_dim)


class UnsavedStateEncoder(MeanContextEncoder):
    """Bug: a random mixing matrix kept in a non-persistent buffer, so state_dict misses it."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mix", torch.randn(self.output_dim, self.output_dim),
                             persistent=False)

    def encode_text(self, texts: Sequence[str]) -> SpeechFeatures:
        out = super().encode_text(texts)
        return SpeechFeatures(out.features @ self.get_buffer("mix"), out.mask, out.frame_rate)


class FixedInitEncoder(MeanContextEncoder):
    """Bug: initializes from a private fixed seed, so every build is the same."""

    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator))


class NoisyEncoder(MeanContextEncoder):
    """Bug: adds fresh random noise (say, dropout left on) at every call."""

    def encode_text(self, texts: Sequence[str]) -> SpeechFeatures:
        out = super().encode_text(texts)
        return SpeechFeatures(out.features + 0.01 * torch.randn(1), out.mask, out.frame_rate)


class TestMeanContextEncoder(TextEncoderSuite):
    def build_encoder(self) -> TextEncoder:
        return MeanContextEncoder()


def _suite_for(encoder_type: type[MeanContextEncoder]) -> TextEncoderSuite:
    class Suite(TextEncoderSuite):
        def build_encoder(self) -> TextEncoder:
            return encoder_type()

    return Suite()


def test_padding_check_catches_mean_over_padding() -> None:
    with pytest.raises(AssertionError, match="short text padded in a batch vs alone"):
        _suite_for(PaddingMeanEncoder).test_padding_does_not_leak()


def test_empty_string_check_catches_missing_bos() -> None:
    with pytest.raises(AssertionError, match="the empty string in a batch: no valid token"):
        _suite_for(NoBosEncoder).test_empty_string()


def test_non_ascii_check_catches_dropped_characters() -> None:
    with pytest.raises(AssertionError, match="non-ASCII characters are dropped"):
        _suite_for(AsciiOnlyEncoder).test_non_ascii_text()


def test_gradient_check_catches_unused_layer() -> None:
    with pytest.raises(AssertionError, match="no gradient reaches parameter 'unused.weight'"):
        _suite_for(UnusedLayerEncoder).test_gradients_reach_every_parameter()


def test_round_trip_check_catches_unsaved_state(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="some state is not saved"):
        _suite_for(UnsavedStateEncoder).test_state_dict_round_trip(tmp_path)


def test_round_trip_check_needs_seeds_that_differ(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="give the same features"):
        _suite_for(FixedInitEncoder).test_state_dict_round_trip(tmp_path)


def test_determinism_check_catches_noise() -> None:
    with pytest.raises(AssertionError, match="encoding the same batch twice differs"):
        _suite_for(NoisyEncoder).test_encode_is_deterministic()


def test_suite_needs_build_encoder() -> None:
    with pytest.raises(NotImplementedError, match="must override build_encoder"):
        TextEncoderSuite().test_output_shapes_and_dtypes()
