"""Conformance suite for bottlenecks (:class:`voxcore.interfaces.Bottleneck`).

A plugin's test module subclasses :class:`BottleneckSuite` and says how to build a small
bottleneck of given widths; pytest then runs every check below on it, once per entry of
:attr:`BottleneckSuite.pooled_dims`::

    from voxcore.testing.bottleneck import BottleneckSuite

    class TestSib(BottleneckSuite):
        length_ratio = 8

        def build_bottleneck(self, input_dim, output_dim, pooled_dim):
            return SpeechInformationBottleneck(SibConfig(input_dim=input_dim,
                                                         output_dim=output_dim,
                                                         pooled_dim=pooled_dim, num_heads=2))

The suite seeds torch (:attr:`BottleneckSuite.seed`) before each build and runs the
bottleneck in eval mode. The test batch holds three items of :attr:`BottleneckSuite.lengths`
frames, padded to the longest; the features at padded frames are random, as nothing may
depend on them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from voxcore.interfaces import Bottleneck, Condition, SpeechFeatures
from voxcore.io import load_module, save_module

__all__ = ["BottleneckSuite"]


class BottleneckSuite:
    """Checks every bottleneck must pass; subclass it as ``Test<Name>`` in a plugin's tests.

    Override :meth:`build_bottleneck`. The base class's name does not start with ``Test``, so
    pytest only collects its subclasses.
    """

    #: Width of the speech features fed in.
    input_dim: int = 16
    #: Width of the condition tokens expected out.
    output_dim: int = 24
    #: Every check runs once per entry; ``None`` = a bottleneck without a pooled output.
    pooled_dims: tuple[int | None, ...] = (None, 12)
    #: Expected token-count reduction: an item of ``L`` valid frames gives ``ceil(L / ratio)``
    #: valid tokens. ``None`` skips that check.
    length_ratio: int | None = None
    #: Valid frames of each item of the test batch (the batch is padded to the longest).
    lengths: tuple[int, ...] = (37, 20, 5)
    #: Seed set with ``torch.manual_seed`` before every :meth:`build_bottleneck` call.
    seed: int = 0
    #: Tolerances for comparing an item run alone with its row in a padded batch.
    atol: float = 1e-5
    rtol: float = 1e-4

    def build_bottleneck(self, input_dim: int, output_dim: int,
                         pooled_dim: int | None) -> Bottleneck:
        """Return a small (random-weight) bottleneck of these widths; torch is seeded first."""
        raise NotImplementedError(f"{type(self).__name__} must override build_bottleneck() to "
                                  "return the bottleneck under test")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run every check that takes ``pooled_dim`` once per entry of :attr:`pooled_dims`."""
        if "pooled_dim" in metafunc.fixturenames:
            metafunc.parametrize("pooled_dim", self.pooled_dims,
                                 ids=[f"pooled_dim={p}" for p in self.pooled_dims])

    # -- helpers ---------------------------------------------------------------------------

    def make_bottleneck(self, pooled_dim: int | None, seed: int | None = None) -> Bottleneck:
        """:meth:`build_bottleneck` under ``torch.manual_seed(seed)``, in eval mode."""
        torch.manual_seed(self.seed if seed is None else seed)
        bottleneck = self.build_bottleneck(self.input_dim, self.output_dim, pooled_dim)
        self.module(bottleneck).eval()
        return bottleneck

    @staticmethod
    def module(bottleneck: Bottleneck) -> torch.nn.Module:
        """``bottleneck`` as a ``torch.nn.Module``, failing the check if it is not one."""
        assert isinstance(bottleneck, torch.nn.Module), (
            f"{type(bottleneck).__name__} must be a torch.nn.Module (for .to(), state_dict(), "
            "parameters())")
        return bottleneck

    def features(self, lengths: Sequence[int] | None = None, seed: int = 1) -> SpeechFeatures:
        """A padded batch of random features with ``lengths`` valid frames per item.

        Padded frames hold random values too. Independent of torch's global random state.
        """
        lengths = list(self.lengths if lengths is None else lengths)
        generator = torch.Generator().manual_seed(seed)
        values = torch.randn(len(lengths), max(lengths), self.input_dim, generator=generator)
        mask = torch.arange(max(lengths)).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
        return SpeechFeatures(values, mask, frame_rate=50.0)

    def run(self, bottleneck: Bottleneck, features: SpeechFeatures) -> Condition:
        """Call ``bottleneck`` without recording gradients; check it returns a Condition."""
        with torch.no_grad():
            out = bottleneck(features)
        assert isinstance(out, Condition), (
            f"a bottleneck must return a Condition, got {type(out).__name__}")
        return out

    def assert_same_valid(self, got: Condition, want: Condition, got_row: int, want_row: int,
                          what: str, exact: bool = False) -> None:
        """Row ``got_row`` of ``got`` equals row ``want_row`` of ``want`` at valid tokens.

        Pooled outputs are compared too when present. ``exact`` uses zero tolerance.
        """
        atol, rtol = (0.0, 0.0) if exact else (self.atol, self.rtol)
        got_n, want_n = int(got.mask[got_row].sum()), int(want.mask[want_row].sum())
        assert got_n == want_n, f"{what}: {got_n} valid tokens, expected {want_n}"
        torch.testing.assert_close(
            got.tokens[got_row][got.mask[got_row]], want.tokens[want_row][want.mask[want_row]],
            atol=atol, rtol=rtol, msg=lambda m: f"{what}: tokens differ at valid positions. {m}")
        assert (got.pooled is None) == (want.pooled is None), f"{what}: pooled present in one only"
        if got.pooled is not None and want.pooled is not None:
            torch.testing.assert_close(got.pooled[got_row], want.pooled[want_row],
                                       atol=atol, rtol=rtol,
                                       msg=lambda m: f"{what}: pooled outputs differ. {m}")

    # -- checks ----------------------------------------------------------------------------

    def test_is_module_and_bottleneck(self, pooled_dim: int | None) -> None:
        bottleneck = self.make_bottleneck(pooled_dim)
        self.module(bottleneck)
        assert isinstance(bottleneck, Bottleneck), (
            f"{type(bottleneck).__name__} lacks part of the Bottleneck protocol "
            "(input_dim, output_dim, pooled_dim, __call__)")
        got = (bottleneck.input_dim, bottleneck.output_dim, bottleneck.pooled_dim)
        want = (self.input_dim, self.output_dim, pooled_dim)
        assert got == want, f"(input_dim, output_dim, pooled_dim) is {got}, but {want} was asked"

    def test_output_shapes_and_dtypes(self, pooled_dim: int | None) -> None:
        bottleneck = self.make_bottleneck(pooled_dim)
        out = self.run(bottleneck, self.features())
        batch = len(self.lengths)
        assert out.tokens.dim() == 3 and out.tokens.shape[0] == batch, (
            f"tokens must be [{batch}, M, {self.output_dim}], got {tuple(out.tokens.shape)}")
        assert out.tokens.shape[2] == self.output_dim, (
            f"token width {out.tokens.shape[2]} differs from output_dim {self.output_dim}")
        assert out.tokens.dtype == torch.float32, (
            f"float32 features in gave {out.tokens.dtype} tokens, expected float32")
        tokens = out.tokens.shape[1]
        assert out.mask.dtype == torch.bool and tuple(out.mask.shape) == (batch, tokens), (
            f"mask must be bool [{batch}, {tokens}], got {out.mask.dtype} "
            f"{tuple(out.mask.shape)}")
        counts = out.mask.sum(dim=1).tolist()
        assert all(c > 0 for c in counts), f"every item needs a valid token; counts {counts}"
        assert bool(torch.isfinite(out.tokens[out.mask]).all()), (
            "some valid tokens are NaN or infinite")
        if self.length_ratio is not None:
            want = [math.ceil(n / self.length_ratio) for n in self.lengths]
            assert counts == want, (
                f"items of {list(self.lengths)} frames gave {counts} valid tokens; with a length "
                f"ratio of {self.length_ratio} expected ceil(L / {self.length_ratio}) = {want}")
        if pooled_dim is None:
            assert out.pooled is None, (
                f"pooled_dim is None but a pooled output of shape "
                f"{tuple(out.pooled.shape)} came back")
        else:
            assert out.pooled is not None, f"pooled_dim={pooled_dim} but pooled is None"
            assert tuple(out.pooled.shape) == (batch, pooled_dim), (
                f"pooled must be [{batch}, {pooled_dim}], got {tuple(out.pooled.shape)}")
            assert out.pooled.dtype == torch.float32, f"pooled is {out.pooled.dtype}"
            assert bool(torch.isfinite(out.pooled).all()), "pooled is NaN or infinite"

    def test_padding_values_do_not_leak(self, pooled_dim: int | None) -> None:
        bottleneck = self.make_bottleneck(pooled_dim)
        clean = self.features()
        generator = torch.Generator().manual_seed(2)
        noise = 1e3 * torch.randn(clean.features.shape, generator=generator)
        dirty = SpeechFeatures(torch.where(clean.mask.unsqueeze(-1), clean.features, noise),
                               clean.mask, clean.frame_rate)
        want, got = self.run(bottleneck, clean), self.run(bottleneck, dirty)
        assert torch.equal(got.mask, want.mask), "the padding's values changed the output mask"
        for row in range(len(self.lengths)):
            self.assert_same_valid(
                got, want, row, row,
                f"row {row} ({self.lengths[row]} valid frames) with large random values at the "
                "padded frames vs the same batch with other padding (padding leaks into valid "
                "outputs: mask attention keys, pooling and convolutions)")

    def test_item_alone_matches_batch(self, pooled_dim: int | None) -> None:
        bottleneck = self.make_bottleneck(pooled_dim)
        batched_features = self.features()
        batched = self.run(bottleneck, batched_features)
        for row, length in enumerate(self.lengths):
            alone_features = SpeechFeatures(batched_features.features[row:row + 1, :length],
                                            batched_features.mask[row:row + 1, :length],
                                            batched_features.frame_rate)
            alone = self.run(bottleneck, alone_features)
            self.assert_same_valid(
                batched, alone, row, 0,
                f"row {row} ({length} frames) in a padded batch vs run alone, cropped to its "
                "length")

    def test_deterministic_in_eval(self, pooled_dim: int | None) -> None:
        bottleneck = self.make_bottleneck(pooled_dim)
        first = self.run(bottleneck, self.features())
        second = self.run(bottleneck, self.features())
        assert torch.equal(first.mask, second.mask), "masks differ between two identical calls"
        for row in range(len(self.lengths)):
            self.assert_same_valid(second, first, row, row,
                                   "the same batch run twice in eval mode (dropout left on?)",
                                   exact=True)

    def test_build_is_deterministic_under_seed(self, pooled_dim: int | None) -> None:
        first = self.run(self.make_bottleneck(pooled_dim), self.features())
        second = self.run(self.make_bottleneck(pooled_dim), self.features())
        for row in range(len(self.lengths)):
            self.assert_same_valid(second, first, row, row,
                                   f"two bottlenecks built under seed {self.seed}", exact=True)

    def test_gradients_reach_parameters_and_inputs(self, pooled_dim: int | None) -> None:
        bottleneck = self.make_bottleneck(pooled_dim)
        module = self.module(bottleneck)
        clean = self.features()
        values = clean.features.clone().requires_grad_(True)
        out = bottleneck(SpeechFeatures(values, clean.mask, clean.frame_rate))
        # Random weights, not a plain sum: the sum of a LayerNorm's outputs has no gradient.
        generator = torch.Generator().manual_seed(3)
        weights = torch.randn(out.tokens.shape, generator=generator)
        loss = (out.tokens * weights)[out.mask].sum()
        if out.pooled is not None:
            loss = loss + (out.pooled * torch.randn(out.pooled.shape, generator=generator)).sum()
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        # allow_unused: an unused parameter comes back as None instead of raising.
        grads: list[torch.Tensor | None] = list(torch.autograd.grad(
            loss, [values, *(p for _, p in named)], allow_unused=True))
        input_grad, param_grads = grads[0], grads[1:]
        missing = [name for (name, _), g in zip(named, param_grads, strict=True) if g is None]
        assert not missing, (f"a loss on the valid outputs leaves these parameters without a "
                             f"gradient (unused?): {', '.join(missing)}")
        bad = [name for (name, _), g in zip(named, param_grads, strict=True)
               if g is not None and not bool(torch.isfinite(g).all())]
        assert not bad, f"non-finite gradients for: {', '.join(bad)}"
        assert input_grad is not None, "no gradient reaches the input features"
        assert bool(torch.isfinite(input_grad[clean.mask]).all()), (
            "non-finite gradient at valid frames")
        for row, length in enumerate(self.lengths):
            assert bool(input_grad[row, :length].abs().sum() > 0), (
                f"row {row}: no gradient reaches its valid frames")
        assert bool((input_grad[~clean.mask] == 0).all()), (
            "the gradient at padded frames is not zero, so padding influences the outputs")

    def test_state_dict_round_trip(self, pooled_dim: int | None, tmp_path: Path) -> None:
        source = self.make_bottleneck(pooled_dim)
        path = tmp_path / "bottleneck.safetensors"
        save_module(self.module(source), path)
        target = self.make_bottleneck(pooled_dim, seed=self.seed + 12345)
        want = self.run(source, self.features())
        if self.module(target).state_dict():
            before = self.run(target, self.features())
            assert not torch.equal(before.tokens[before.mask], want.tokens[want.mask]), (
                "bottlenecks built under two different seeds give the same tokens, so this "
                "check cannot tell whether the state was loaded (are weights initialized "
                "randomly?)")
        load_module(self.module(target), path)
        got = self.run(target, self.features())
        assert torch.equal(got.mask, want.mask), "masks differ after a state_dict round trip"
        for row in range(len(self.lengths)):
            self.assert_same_valid(
                got, want, row, row,
                "a bottleneck built under another seed and loaded from the saved state_dict vs "
                "the original (some state is not saved: a non-persistent buffer or plain "
                "attribute?)", exact=True)
