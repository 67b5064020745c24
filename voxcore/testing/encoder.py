"""Conformance suite for speech encoders (:class:`voxcore.interfaces.SpeechEncoder`).

A plugin's test module subclasses :class:`EncoderSuite` and says how to build a small
encoder; pytest then runs every check below on it::

    from voxcore.testing.encoder import EncoderSuite

    class TestMelEncoder(EncoderSuite):
        def build_encoder(self) -> SpeechEncoder:
            return MelEncoder(MelConfig())

The suite seeds torch (:attr:`EncoderSuite.seed`) before each build and puts ``nn.Module``
encoders in eval mode. Subclasses may loosen :attr:`EncoderSuite.atol` / :attr:`EncoderSuite.rtol`
(for comparisons between a batched and a single encoding, which legitimately differ by float
rounding) but should not need to override any test.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from voxcore.interfaces import SpeechEncoder, SpeechFeatures, Waveform
from voxcore.io import load_module, save_module

__all__ = ["EncoderSuite", "synthetic_waveform"]


def synthetic_waveform(
    seconds: float, sample_rate: int, *, channels: int = 1, seed: int = 0
) -> Waveform:
    """A speech-like test signal: a 150 Hz to 2 kHz chirp with harmonics plus quiet noise.

    Deterministic for a given ``seed`` and independent of torch's global random state.
    """
    length = max(1, round(seconds * sample_rate))
    t = torch.arange(length, dtype=torch.float64) / sample_rate
    duration = length / sample_rate
    f0, f1 = 150.0, 2000.0
    # Phase of a linear chirp: integral of f0 + (f1 - f0) * t / duration.
    phase = 2 * math.pi * (f0 * t + (f1 - f0) * t.square() / (2 * duration))
    signal = 0.4 * torch.sin(phase) + 0.2 * torch.sin(2 * phase) + 0.1 * torch.sin(3 * phase)
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(length, generator=generator, dtype=torch.float64)
    mono = (signal + 0.02 * noise).to(torch.float32)
    return Waveform(samples=mono.unsqueeze(0).repeat(channels, 1), sample_rate=sample_rate)


class EncoderSuite:
    """Checks every speech encoder must pass; subclass it as ``Test<Name>`` in a plugin's tests.

    Override :meth:`build_encoder`. The base class's name does not start with ``Test``, so
    pytest only collects its subclasses.
    """

    #: Seed set with ``torch.manual_seed`` before every :meth:`build_encoder` call.
    seed: int = 0
    #: Tolerances for comparing the same utterance encoded alone and in a padded batch.
    atol: float = 1e-4
    rtol: float = 1e-4
    #: Durations (seconds) of the two utterances of the test batch.
    short_seconds: float = 0.5
    long_seconds: float = 1.1

    def build_encoder(self) -> SpeechEncoder:
        """Return a small (random-weight) encoder; the suite seeds torch before calling it."""
        raise NotImplementedError(f"{type(self).__name__} must override build_encoder() to "
                                  "return the encoder under test")

    # -- helpers ---------------------------------------------------------------------------

    def make_encoder(self, seed: int | None = None) -> SpeechEncoder:
        """:meth:`build_encoder` under ``torch.manual_seed(seed)``, in eval mode."""
        torch.manual_seed(self.seed if seed is None else seed)
        encoder = self.build_encoder()
        if isinstance(encoder, torch.nn.Module):
            encoder.eval()
        return encoder

    def short_waveform(self, sample_rate: int, channels: int = 1) -> Waveform:
        """The short test utterance."""
        return synthetic_waveform(self.short_seconds, sample_rate, channels=channels, seed=1)

    def long_waveform(self, sample_rate: int, channels: int = 1) -> Waveform:
        """The long test utterance."""
        return synthetic_waveform(self.long_seconds, sample_rate, channels=channels, seed=2)

    def batch(self, encoder: SpeechEncoder) -> list[Waveform]:
        """``[short, long]`` at the encoder's own sample rate."""
        rate = encoder.sample_rate
        return [self.short_waveform(rate), self.long_waveform(rate)]

    def assert_same_valid(
        self, got: SpeechFeatures, want: SpeechFeatures, got_row: int, want_row: int, what: str
    ) -> None:
        """Row ``got_row`` of ``got`` equals row ``want_row`` of ``want`` at valid frames."""
        got_n = int(got.mask[got_row].sum())
        want_n = int(want.mask[want_row].sum())
        assert got_n == want_n, f"{what}: {got_n} valid frames, expected {want_n}"
        got_valid = got.features[got_row][got.mask[got_row]].detach()
        want_valid = want.features[want_row][want.mask[want_row]].detach()
        torch.testing.assert_close(got_valid, want_valid, atol=self.atol, rtol=self.rtol,
                                   msg=lambda m: f"{what}: features differ at valid frames. {m}")

    # -- checks ----------------------------------------------------------------------------

    def test_is_module_and_speech_encoder(self) -> None:
        encoder = self.make_encoder()
        assert isinstance(encoder, torch.nn.Module), (
            f"{type(encoder).__name__} must be a torch.nn.Module (for .to(), state_dict())")
        assert isinstance(encoder, SpeechEncoder), (
            f"{type(encoder).__name__} lacks part of the SpeechEncoder protocol "
            "(sample_rate, output_dim, encode)")
        assert isinstance(encoder.sample_rate, int) and encoder.sample_rate > 0, (
            f"sample_rate must be a positive int, got {encoder.sample_rate!r}")
        assert isinstance(encoder.output_dim, int) and encoder.output_dim > 0, (
            f"output_dim must be a positive int, got {encoder.output_dim!r}")

    def test_output_shapes_and_dtypes(self) -> None:
        encoder = self.make_encoder()
        out = encoder.encode(self.batch(encoder))
        assert isinstance(out, SpeechFeatures), (
            f"encode must return SpeechFeatures, got {type(out).__name__}")
        batch, frames, dim = out.features.shape
        assert batch == 2, f"2 waveforms in, features for {batch} out"
        assert dim == encoder.output_dim, (
            f"feature width {dim} differs from output_dim {encoder.output_dim}")
        assert out.features.is_floating_point(), f"features are {out.features.dtype}, not float"
        assert out.mask.dtype == torch.bool and tuple(out.mask.shape) == (2, frames), (
            f"mask must be bool [2, {frames}], got {out.mask.dtype} {tuple(out.mask.shape)}")
        counts = out.mask.sum(dim=1).tolist()
        for row, count in enumerate(counts):
            assert bool(out.mask[row, :count].all()), (
                f"row {row}: valid frames must come first, then padding; mask {out.mask[row]}")
        assert counts[1] > counts[0], (
            f"the {self.long_seconds} s utterance has {counts[1]} valid frames, not more than "
            f"the {self.short_seconds} s one ({counts[0]})")
        valid = out.features.detach()[out.mask]
        assert bool(torch.isfinite(valid).all()), "some valid features are NaN or infinite"
        assert out.frame_rate > 0, f"frame_rate must be positive, got {out.frame_rate}"
        for row, seconds in enumerate((self.short_seconds, self.long_seconds)):
            expected = seconds * out.frame_rate
            assert abs(counts[row] - expected) <= 0.25 * expected + 2, (
                f"row {row}: {counts[row]} valid frames for {seconds} s at frame_rate "
                f"{out.frame_rate}; expected about {expected:.1f}")

    def test_padding_does_not_leak(self) -> None:
        encoder = self.make_encoder()
        rate = encoder.sample_rate
        short, long = self.short_waveform(rate), self.long_waveform(rate)
        # The short item comes second so that a row-indexing bug cannot hide behind row 0.
        batched = encoder.encode([long, short])
        alone = encoder.encode([short])
        self.assert_same_valid(batched, alone, 1, 0,
                               "short utterance padded in a batch vs encoded alone")
        long_alone = encoder.encode([long])
        self.assert_same_valid(batched, long_alone, 0, 0,
                               "long utterance in a batch vs encoded alone")

    def test_accepts_stereo_at_another_rate(self) -> None:
        encoder = self.make_encoder()
        other_rate = 22050 if encoder.sample_rate != 22050 else 44100
        stereo = self.long_waveform(other_rate, channels=2)
        out = encoder.encode([stereo, self.short_waveform(encoder.sample_rate)])
        assert out.features.shape[0] == 2 and out.features.shape[2] == encoder.output_dim, (
            f"unexpected features shape {tuple(out.features.shape)}")
        count = int(out.mask[0].sum())
        expected = self.long_seconds * out.frame_rate
        assert abs(count - expected) <= 0.25 * expected + 2, (
            f"{self.long_seconds} s of stereo at {other_rate} Hz gave {count} valid frames; "
            f"expected about {expected:.1f} (is the input resampled?)")
        assert bool(torch.isfinite(out.features.detach()[out.mask]).all()), (
            "stereo input gave NaN or infinite features")

    def test_identical_stereo_equals_mono(self) -> None:
        encoder = self.make_encoder()
        rate = 22050 if encoder.sample_rate != 22050 else 44100
        mono = encoder.encode([self.long_waveform(rate, channels=1)])
        stereo = encoder.encode([self.long_waveform(rate, channels=2)])
        self.assert_same_valid(stereo, mono, 0, 0, "stereo with two identical channels vs mono")

    def test_encode_is_deterministic(self) -> None:
        encoder = self.make_encoder()
        first = encoder.encode(self.batch(encoder))
        second = encoder.encode(self.batch(encoder))
        assert torch.equal(first.mask, second.mask), "masks differ between two identical calls"
        torch.testing.assert_close(second.features.detach(), first.features.detach(),
                                   atol=0.0, rtol=0.0,
                                   msg=lambda m: f"encoding the same batch twice differs. {m}")

    def test_build_is_deterministic_under_seed(self) -> None:
        first_encoder = self.make_encoder()
        first = first_encoder.encode(self.batch(first_encoder))
        second_encoder = self.make_encoder()
        second = second_encoder.encode(self.batch(second_encoder))
        assert torch.equal(first.mask, second.mask), "masks differ between two seeded builds"
        torch.testing.assert_close(
            second.features.detach(), first.features.detach(), atol=0.0, rtol=0.0,
            msg=lambda m: f"two encoders built under seed {self.seed} differ. {m}")

    def test_state_dict_round_trip(self, tmp_path: Path) -> None:
        source = self.make_encoder()
        assert isinstance(source, torch.nn.Module), "the encoder must be a torch.nn.Module"
        path = tmp_path / "encoder.safetensors"
        save_module(source, path)
        target = self.make_encoder(seed=self.seed + 12345)
        assert isinstance(target, torch.nn.Module), "the encoder must be a torch.nn.Module"
        load_module(target, path)
        want = source.encode(self.batch(source))
        got = target.encode(self.batch(target))
        assert torch.equal(got.mask, want.mask), "masks differ after a state_dict round trip"
        torch.testing.assert_close(
            got.features.detach(), want.features.detach(), atol=0.0, rtol=0.0,
            msg=lambda m: ("an encoder built under another seed and loaded from the saved "
                           "state_dict differs from the original: some state is not saved "
                           f"(a non-persistent buffer or plain attribute?). {m}"))

    def test_encode_under_no_grad(self) -> None:
        encoder = self.make_encoder()
        with torch.no_grad():
            out = encoder.encode(self.batch(encoder))
        assert bool(torch.isfinite(out.features[out.mask]).all()), (
            "features computed under torch.no_grad() are not finite")
        want = encoder.encode(self.batch(encoder))
        torch.testing.assert_close(out.features, want.features.detach(), atol=self.atol,
                                   rtol=self.rtol,
                                   msg=lambda m: f"no_grad changes the features. {m}")
