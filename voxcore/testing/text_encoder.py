"""Conformance suite for text encoders (:class:`voxcore.interfaces.TextEncoder`).

A text encoder is the text-to-image baseline's encoder: it reads transcripts instead of
speech, returns the same :class:`~voxcore.interfaces.SpeechFeatures` and is trained with the
rest of the model. A plugin's test module subclasses :class:`TextEncoderSuite` and says how to
build a small one; pytest then runs every check below on it::

    from voxcore.testing.text_encoder import TextEncoderSuite

    class TestTrainableTextEncoder(TextEncoderSuite):
        def build_encoder(self) -> TextEncoder:
            return TrainableTextEncoder(TextEncoderConfig(width=32, num_layers=1))

The suite seeds torch (:attr:`TextEncoderSuite.seed`) before each build and puts the encoder
in eval mode (train mode only for the gradient check). Subclasses may loosen
:attr:`TextEncoderSuite.atol` / :attr:`TextEncoderSuite.rtol` (a text encoded alone and in a
padded batch legitimately differ by float rounding) but should not need to override any test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch

from voxcore.interfaces import SpeechFeatures, TextEncoder
from voxcore.io import load_module, save_module

__all__ = ["TextEncoderSuite"]


class TextEncoderSuite:
    """Checks every text encoder must pass; subclass it as ``Test<Name>`` in a plugin's tests.

    Override :meth:`build_encoder`. The base class's name does not start with ``Test``, so
    pytest only collects its subclasses.
    """

    #: Seed set with ``torch.manual_seed`` before every :meth:`build_encoder` call.
    seed: int = 0
    #: Tolerances for comparing the same text encoded alone and in a padded batch.
    atol: float = 1e-4
    rtol: float = 1e-4
    #: The two texts of the test batch; the second must need more tokens than the first.
    short_text: str = "a red circle"
    long_text: str = "a small blue square below a big green triangle, drawn on white paper"
    #: Text with accents, a dash and CJK characters: none of it is ASCII.
    non_ascii_text: str = "café — naïve 日本"
    #: A text far longer than any transcript; an encoder must accept (or truncate) it.
    very_long_text: str = "the quick brown fox jumps over the lazy dog. " * 80

    def build_encoder(self) -> TextEncoder:
        """Return a small (random-weight) encoder; the suite seeds torch before calling it."""
        raise NotImplementedError(f"{type(self).__name__} must override build_encoder() to "
                                  "return the encoder under test")

    # -- helpers ---------------------------------------------------------------------------

    def make_encoder(self, seed: int | None = None) -> TextEncoder:
        """:meth:`build_encoder` under ``torch.manual_seed(seed)``, in eval mode."""
        torch.manual_seed(self.seed if seed is None else seed)
        encoder = self.build_encoder()
        if isinstance(encoder, torch.nn.Module):
            encoder.eval()
        return encoder

    def batch(self) -> list[str]:
        """``[short, long]``."""
        return [self.short_text, self.long_text]

    def assert_same_valid(
        self, got: SpeechFeatures, want: SpeechFeatures, got_row: int, want_row: int, what: str
    ) -> None:
        """Row ``got_row`` of ``got`` equals row ``want_row`` of ``want`` at valid tokens."""
        got_n = int(got.mask[got_row].sum())
        want_n = int(want.mask[want_row].sum())
        assert got_n == want_n, f"{what}: {got_n} valid tokens, expected {want_n}"
        got_valid = got.features[got_row][got.mask[got_row]].detach()
        want_valid = want.features[want_row][want.mask[want_row]].detach()
        torch.testing.assert_close(got_valid, want_valid, atol=self.atol, rtol=self.rtol,
                                   msg=lambda m: f"{what}: features differ at valid tokens. {m}")

    def assert_valid_and_finite(self, out: SpeechFeatures, row: int, what: str) -> None:
        """Row ``row`` has at least one valid token and its valid features are finite."""
        count = int(out.mask[row].sum())
        assert count >= 1, (
            f"{what}: no valid token, so attention downstream would have no key "
            "(emit at least a BOS token)")
        assert bool(torch.isfinite(out.features[row][out.mask[row]].detach()).all()), (
            f"{what}: some valid features are NaN or infinite")

    # -- checks ----------------------------------------------------------------------------

    def test_is_module_and_text_encoder(self) -> None:
        encoder = self.make_encoder()
        assert isinstance(encoder, torch.nn.Module), (
            f"{type(encoder).__name__} must be a torch.nn.Module (for .to(), state_dict())")
        assert isinstance(encoder, TextEncoder), (
            f"{type(encoder).__name__} lacks part of the TextEncoder protocol "
            "(output_dim, encode_text)")
        assert isinstance(encoder.output_dim, int) and encoder.output_dim > 0, (
            f"output_dim must be a positive int, got {encoder.output_dim!r}")

    def test_output_shapes_and_dtypes(self) -> None:
        encoder = self.make_encoder()
        out = encoder.encode_text(self.batch())
        assert isinstance(out, SpeechFeatures), (
            f"encode_text must return SpeechFeatures, got {type(out).__name__}")
        batch, tokens, dim = out.features.shape
        assert batch == 2, f"2 texts in, features for {batch} out"
        assert dim == encoder.output_dim, (
            f"feature width {dim} differs from output_dim {encoder.output_dim}")
        assert out.features.is_floating_point(), f"features are {out.features.dtype}, not float"
        assert out.mask.dtype == torch.bool and tuple(out.mask.shape) == (2, tokens), (
            f"mask must be bool [2, {tokens}], got {out.mask.dtype} {tuple(out.mask.shape)}")
        counts = out.mask.sum(dim=1).tolist()
        for row, count in enumerate(counts):
            assert bool(out.mask[row, :count].all()), (
                f"row {row}: valid tokens must come first, then padding; mask {out.mask[row]}")
        assert counts[1] > counts[0], (
            f"the {len(self.long_text)}-character text has {counts[1]} valid tokens, not more "
            f"than the {len(self.short_text)}-character one ({counts[0]})")
        for row in range(2):
            self.assert_valid_and_finite(out, row, f"row {row}")
        assert out.frame_rate > 0 and math.isfinite(out.frame_rate), (
            f"frame_rate must be positive and finite, got {out.frame_rate}")
        assert out.mask.device == out.features.device, (
            f"mask on {out.mask.device}, features on {out.features.device}")
        if isinstance(encoder, torch.nn.Module):
            first = next(iter(encoder.parameters()), None)
            if first is not None:
                assert out.features.device == first.device, (
                    f"features on {out.features.device}, the encoder's weights on "
                    f"{first.device}")

    def test_padding_does_not_leak(self) -> None:
        encoder = self.make_encoder()
        # The short text comes second so that a row-indexing bug cannot hide behind row 0.
        batched = encoder.encode_text([self.long_text, self.short_text])
        alone = encoder.encode_text([self.short_text])
        self.assert_same_valid(batched, alone, 1, 0, "short text padded in a batch vs alone")
        long_alone = encoder.encode_text([self.long_text])
        self.assert_same_valid(batched, long_alone, 0, 0, "long text in a batch vs alone")

    def test_empty_string(self) -> None:
        encoder = self.make_encoder()
        batched = encoder.encode_text([self.long_text, ""])
        self.assert_valid_and_finite(batched, 1, "the empty string in a batch")
        alone = encoder.encode_text([""])
        self.assert_valid_and_finite(alone, 0, "the empty string alone")
        self.assert_same_valid(batched, alone, 1, 0, "the empty string padded in a batch vs alone")

    def test_non_ascii_text(self) -> None:
        encoder = self.make_encoder()
        out = encoder.encode_text([self.short_text, self.non_ascii_text])
        self.assert_valid_and_finite(out, 1, f"{self.non_ascii_text!r}")
        ascii_only = "".join(c for c in self.non_ascii_text if c.isascii())
        stripped = encoder.encode_text([ascii_only])
        alone = encoder.encode_text([self.non_ascii_text])
        same_count = int(stripped.mask[0].sum()) == int(alone.mask[0].sum())
        assert not (same_count and torch.allclose(
            stripped.features[0].detach(), alone.features[0].detach(), atol=self.atol)), (
            f"{self.non_ascii_text!r} encodes exactly like {ascii_only!r}: the non-ASCII "
            "characters are dropped")

    def test_very_long_text(self) -> None:
        encoder = self.make_encoder()
        out = encoder.encode_text([self.short_text, self.very_long_text])
        self.assert_valid_and_finite(out, 1, f"a {len(self.very_long_text)}-character text")
        self.assert_valid_and_finite(out, 0, "a short text batched with a very long one")

    def test_encode_is_deterministic(self) -> None:
        encoder = self.make_encoder()
        first = encoder.encode_text(self.batch())
        second = encoder.encode_text(self.batch())
        assert torch.equal(first.mask, second.mask), "masks differ between two identical calls"
        torch.testing.assert_close(second.features.detach(), first.features.detach(),
                                   atol=0.0, rtol=0.0,
                                   msg=lambda m: f"encoding the same batch twice differs. {m}")

    def test_build_is_deterministic_under_seed(self) -> None:
        first = self.make_encoder().encode_text(self.batch())
        second = self.make_encoder().encode_text(self.batch())
        assert torch.equal(first.mask, second.mask), "masks differ between two seeded builds"
        torch.testing.assert_close(
            second.features.detach(), first.features.detach(), atol=0.0, rtol=0.0,
            msg=lambda m: f"two encoders built under seed {self.seed} differ. {m}")

    def test_gradients_reach_every_parameter(self) -> None:
        encoder = self.make_encoder()
        assert isinstance(encoder, torch.nn.Module), "the encoder must be a torch.nn.Module"
        encoder.train()
        trainable = [(name, p) for name, p in encoder.named_parameters() if p.requires_grad]
        assert trainable, (
            f"{type(encoder).__name__} has no trainable parameter, but a text encoder is "
            "trained with the rest of the model")
        out = encoder.encode_text(self.batch() + [""])
        assert out.features.requires_grad, "features are detached from the encoder's weights"
        # A fixed random readout rather than a norm: a final LayerNorm makes a norm constant.
        generator = torch.Generator().manual_seed(0)
        readout = torch.randn(encoder.output_dim, generator=generator).to(out.features)
        loss = (out.features[out.mask] * readout).sum()
        torch.autograd.backward(loss)
        for name, parameter in trainable:
            grad = parameter.grad
            assert grad is not None, f"no gradient reaches parameter {name!r}"
            assert bool(torch.isfinite(grad).all()), f"the gradient of {name!r} is not finite"
            assert bool(grad.any()), f"the gradient of {name!r} is zero everywhere"

    def test_state_dict_round_trip(self, tmp_path: Path) -> None:
        source = self.make_encoder()
        assert isinstance(source, torch.nn.Module), "the encoder must be a torch.nn.Module"
        path = tmp_path / "text_encoder.safetensors"
        save_module(source, path)
        target = self.make_encoder(seed=self.seed + 12345)
        assert isinstance(target, torch.nn.Module), "the encoder must be a torch.nn.Module"
        want = source.encode_text(self.batch())
        before = target.encode_text(self.batch())
        assert not torch.allclose(before.features.detach(), want.features.detach()), (
            f"encoders built under seeds {self.seed} and {self.seed + 12345} give the same "
            "features, so this round trip could not tell a lost weight from a loaded one; "
            "are the weights random at build time?")
        load_module(target, path)
        got = target.encode_text(self.batch())
        assert torch.equal(got.mask, want.mask), "masks differ after a state_dict round trip"
        torch.testing.assert_close(
            got.features.detach(), want.features.detach(), atol=0.0, rtol=0.0,
            msg=lambda m: ("an encoder built under another seed and loaded from the saved "
                           "state_dict differs from the original: some state is not saved "
                           f"(a non-persistent buffer or plain attribute?). {m}"))

    def test_encode_under_no_grad(self) -> None:
        encoder = self.make_encoder()
        with torch.no_grad():
            out = encoder.encode_text(self.batch())
        assert bool(torch.isfinite(out.features[out.mask]).all()), (
            "features computed under torch.no_grad() are not finite")
        want = encoder.encode_text(self.batch())
        torch.testing.assert_close(out.features, want.features.detach(), atol=self.atol,
                                   rtol=self.rtol,
                                   msg=lambda m: f"no_grad changes the features. {m}")

    def test_accepts_any_sequence(self) -> None:
        encoder = self.make_encoder()
        texts: Sequence[str] = tuple(self.batch())
        from_tuple = encoder.encode_text(texts)
        from_list = encoder.encode_text(list(texts))
        assert torch.equal(from_tuple.mask, from_list.mask), "a tuple and a list give other masks"
        torch.testing.assert_close(from_tuple.features.detach(), from_list.features.detach(),
                                   atol=0.0, rtol=0.0,
                                   msg=lambda m: f"a tuple and a list of texts differ. {m}")
