"""The encoder conformance suite passes a correct encoder and fails broken ones.

A small correct encoder (non-overlapping frames projected by a learned linear layer) runs the
whole suite; each broken variant differs from it by one bug that one check must catch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from voxcore.audio import lengths_to_mask, to_mono_batch
from voxcore.interfaces import SpeechEncoder, SpeechFeatures, Waveform
from voxcore.testing.encoder import EncoderSuite

HOP = 160


class FrameEncoder(torch.nn.Module):
    """Correct: frames of HOP samples (the last partial frame dropped), then a linear layer."""

    sample_rate = 16000
    output_dim = 8

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(HOP, self.output_dim)

    def frames(self, waveforms: Sequence[Waveform]) -> tuple[torch.Tensor, torch.Tensor]:
        batch, lengths = to_mono_batch(waveforms, self.sample_rate)
        n = batch.shape[1] // HOP
        return batch[:, : n * HOP].reshape(batch.shape[0], n, HOP), lengths // HOP

    def finish(self, features: torch.Tensor, counts: torch.Tensor) -> SpeechFeatures:
        mask = lengths_to_mask(counts, features.shape[1])
        return SpeechFeatures(features.masked_fill(~mask.unsqueeze(-1), 0.0), mask,
                              self.sample_rate / HOP)

    def encode(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        frames, counts = self.frames(waveforms)
        return self.finish(self.proj(frames), counts)


class LeakyEncoder(FrameEncoder):
    """Bug: normalizes over the whole padded batch, so padding changes valid frames."""

    def encode(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        frames, counts = self.frames(waveforms)
        features = self.proj(frames)
        return self.finish((features - features.mean()) / features.std(), counts)


class NoisyEncoder(FrameEncoder):
    """Bug: adds fresh random noise (say, dropout left on) at every call."""

    def encode(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        frames, counts = self.frames(waveforms)
        return self.finish(self.proj(frames) + 0.01 * torch.randn(1), counts)


class UnsavedStateEncoder(FrameEncoder):
    """Bug: a random projection kept in a non-persistent buffer, so state_dict misses it."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mix", torch.randn(self.output_dim, self.output_dim),
                             persistent=False)

    def encode(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        frames, counts = self.frames(waveforms)
        return self.finish(self.proj(frames) @ self.get_buffer("mix"), counts)


class StereoSumEncoder(FrameEncoder):
    """Bug: sums channels instead of averaging them, so stereo is twice as loud as mono."""

    def encode(self, waveforms: Sequence[Waveform]) -> SpeechFeatures:
        summed = [Waveform(w.samples.sum(dim=0, keepdim=True), w.sample_rate) for w in waveforms]
        return super().encode(summed)


class TestFrameEncoder(EncoderSuite):
    def build_encoder(self) -> SpeechEncoder:
        return FrameEncoder()


def _suite_for(encoder_type: type[FrameEncoder]) -> EncoderSuite:
    class Suite(EncoderSuite):
        def build_encoder(self) -> SpeechEncoder:
            return encoder_type()

    return Suite()


def test_padding_check_catches_batch_normalization() -> None:
    with pytest.raises(AssertionError, match="padded in a batch vs encoded alone"):
        _suite_for(LeakyEncoder).test_padding_does_not_leak()


def test_determinism_check_catches_noise() -> None:
    with pytest.raises(AssertionError, match="encoding the same batch twice differs"):
        _suite_for(NoisyEncoder).test_encode_is_deterministic()


def test_round_trip_check_catches_unsaved_state(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="some state is not saved"):
        _suite_for(UnsavedStateEncoder).test_state_dict_round_trip(tmp_path)


def test_stereo_check_catches_channel_sum() -> None:
    with pytest.raises(AssertionError, match="two identical channels vs mono"):
        _suite_for(StereoSumEncoder).test_identical_stereo_equals_mono()


def test_suite_needs_build_encoder() -> None:
    with pytest.raises(NotImplementedError, match="must override build_encoder"):
        EncoderSuite().test_output_shapes_and_dtypes()
