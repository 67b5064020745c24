"""Conformance suite for image generators (:class:`voxcore.interfaces.ImageGenerator`).

A plugin's test module subclasses :class:`GeneratorSuite` and says how to build a tiny
generator with random weights; pytest then runs every check below on it::

    from voxcore.testing.generator import GeneratorSuite

    class TestTinyUnet(GeneratorSuite):
        schedulers = ("ddim", "dpm-solver++")
        num_inference_steps = 2

        def build_generator(self):
            return TinyUnetGenerator(TinyUnetConfig(resolution=16, block_out_channels=[16, 32],
                                                    cross_attention_dim=32))

The suite seeds torch (:attr:`GeneratorSuite.seed`) before each build. The test batch holds
:attr:`GeneratorSuite.lengths` valid condition tokens per item, padded to the longest with
random values at the padded positions, as nothing may depend on them. Noise and timesteps are
always drawn from a seeded ``torch.Generator``, never from torch's global random state.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from voxcore.interfaces import Condition, ImageGenerator
from voxcore.io import load_module, save_module

__all__ = ["GeneratorSuite"]


class GeneratorSuite:
    """Checks every image generator must pass; subclass it as ``Test<Name>`` in a plugin's tests.

    Override :meth:`build_generator`. The base class's name does not start with ``Test``, so
    pytest only collects its subclasses.
    """

    #: Sampling schedulers to check :meth:`ImageGenerator.generate` with (one run each).
    schedulers: tuple[str, ...] = ("ddim",)
    #: Sampling steps per generated batch: few, to keep the suite fast.
    num_inference_steps: int = 2
    #: A guidance scale above 1, to exercise classifier-free guidance.
    guidance_scale: float = 3.0
    #: Valid condition tokens of each item of the test batch (padded to the longest).
    lengths: tuple[int, ...] = (6, 3)
    #: Seed set with ``torch.manual_seed`` before every :meth:`build_generator` call.
    seed: int = 0
    #: True for a generator whose own weights do not train (a frozen pretrained UNet): then
    #: only its learned null condition trains, and that gets gradient from dropped items
    #: only, so the suite does not require the loss's gradient to reach its parameters.
    frozen: bool = False
    #: Tolerances for losses that must not change (other padding values, more padding,
    #: dropped conditions). Tight on purpose: at random initialization the condition moves
    #: the loss by little, so a leak shows up as a small relative change. A correct
    #: implementation is usually bit-exact here; loosen only if your kernels reorder sums.
    loss_atol: float = 1e-6
    loss_rtol: float = 1e-6
    #: Tolerances for images that must not change (other padding values).
    image_atol: float = 1e-5
    image_rtol: float = 1e-4
    #: Tolerance for an item's image sampled in a batch vs alone (with its own generator):
    #: kernels for another batch size round floats differently, and sampling amplifies that,
    #: so this is looser than :attr:`image_atol` but well under one 8-bit level (1/255); noise
    #: shared across the batch moves pixels by far more.
    batch_image_atol: float = 1e-3

    def build_generator(self) -> ImageGenerator:
        """Return a tiny (random-weight) generator; torch is seeded first."""
        raise NotImplementedError(f"{type(self).__name__} must override build_generator() to "
                                  "return the generator under test")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run every check that takes ``scheduler`` once per entry of :attr:`schedulers`."""
        if "scheduler" in metafunc.fixturenames:
            metafunc.parametrize("scheduler", self.schedulers,
                                 ids=[f"scheduler={s}" for s in self.schedulers])

    # -- helpers ---------------------------------------------------------------------------

    def make_generator(self, seed: int | None = None) -> ImageGenerator:
        """:meth:`build_generator` under ``torch.manual_seed(seed)``."""
        torch.manual_seed(self.seed if seed is None else seed)
        generator = self.build_generator()
        self.module(generator)
        return generator

    @staticmethod
    def module(generator: ImageGenerator) -> torch.nn.Module:
        """``generator`` as a ``torch.nn.Module``, failing the check if it is not one."""
        assert isinstance(generator, torch.nn.Module), (
            f"{type(generator).__name__} must be a torch.nn.Module (for .to(), state_dict(), "
            "parameters())")
        return generator

    @staticmethod
    def rng(seed: int) -> torch.Generator:
        """A CPU ``torch.Generator`` seeded with ``seed``."""
        return torch.Generator().manual_seed(seed)

    def images(self, generator: ImageGenerator, seed: int = 1) -> torch.Tensor:
        """Random float images ``[B, 3, R, R]`` in ``[0, 1]``, one per entry of :attr:`lengths`."""
        size = (len(self.lengths), 3, generator.resolution, generator.resolution)
        return torch.rand(size, generator=self.rng(seed))

    def condition(self, generator: ImageGenerator, seed: int = 2,
                  lengths: Sequence[int] | None = None, padded_to: int | None = None,
                  grad: bool = False) -> Condition:
        """A random condition of the generator's width with ``lengths`` valid tokens per item.

        Padded positions hold random values too; ``padded_to`` pads further (with random
        values) to that many tokens. The pooled vector is present iff the generator takes one.
        With ``grad`` the tokens (and pooled vector) require grad.
        """
        lengths = list(self.lengths if lengths is None else lengths)
        width = max(lengths) if padded_to is None else padded_to
        rng = self.rng(seed)
        tokens = torch.randn(len(lengths), width, generator.cross_attention_dim, generator=rng)
        mask = torch.arange(width).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
        pooled = None
        if generator.pooled_dim is not None:
            pooled = torch.randn(len(lengths), generator.pooled_dim, generator=rng)
            pooled.requires_grad_(grad)
        return Condition(tokens.requires_grad_(grad), mask, pooled)

    def with_padding(self, condition: Condition, values: torch.Tensor) -> Condition:
        """``condition`` with its padded token positions set to ``values`` (same shape)."""
        tokens = torch.where(condition.mask.unsqueeze(-1), condition.tokens, values)
        return Condition(tokens, condition.mask, condition.pooled)

    def loss(self, generator: ImageGenerator, images: torch.Tensor, condition: Condition,
             drop: torch.Tensor | None = None, seed: int = 3) -> torch.Tensor:
        """``generator.training_loss`` with noise and timesteps drawn under ``seed``."""
        return generator.training_loss(images, condition, drop=drop, generator=self.rng(seed))

    @classmethod
    def rngs(cls, seed: int, count: int) -> list[torch.Generator]:
        """``count`` CPU generators seeded ``seed``, ``seed + 1``, ...: one per item."""
        return [cls.rng(seed + index) for index in range(count)]

    @staticmethod
    def item(condition: Condition, index: int) -> Condition:
        """Item ``index`` of ``condition`` alone, as a batch of one."""
        pooled = None if condition.pooled is None else condition.pooled[index:index + 1]
        return Condition(condition.tokens[index:index + 1], condition.mask[index:index + 1],
                         pooled)

    def sample(self, generator: ImageGenerator, condition: Condition, scheduler: str,
               guidance_scale: float | None = None, seed: int = 4,
               rng: torch.Generator | list[torch.Generator] | None = None) -> torch.Tensor:
        """``generator.generate`` under ``seed`` (or ``rng``); checks the images' shape, range
        and dtype."""
        scale = self.guidance_scale if guidance_scale is None else guidance_scale
        images = generator.generate(condition, num_inference_steps=self.num_inference_steps,
                                    guidance_scale=scale, scheduler=scheduler,
                                    generator=self.rng(seed) if rng is None else rng)
        what = f"generate(scheduler={scheduler!r}, guidance_scale={scale})"
        batch = condition.tokens.shape[0]
        want = (batch, 3, generator.resolution, generator.resolution)
        assert isinstance(images, torch.Tensor) and tuple(images.shape) == want, (
            f"{what} must return [B, 3, R, R] = {want}, got "
            f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images)}")
        assert images.dtype.is_floating_point, f"{what} returned {images.dtype}, expected float"
        assert bool(torch.isfinite(images).all()), f"{what} returned NaN or infinite pixels"
        low, high = float(images.min()), float(images.max())
        assert low >= 0.0 and high <= 1.0, (
            f"{what} returned pixels in [{low:.4f}, {high:.4f}]; images must lie in [0, 1]")
        return images

    def assert_same_loss(self, got: torch.Tensor, want: torch.Tensor, what: str) -> None:
        """``got`` equals ``want`` within the suite's tolerances."""
        torch.testing.assert_close(got.detach(), want.detach(), atol=self.loss_atol,
                                   rtol=self.loss_rtol,
                                   msg=lambda m: f"{what}: the loss changed. {m}")

    # -- checks ----------------------------------------------------------------------------

    def test_is_module_and_image_generator(self) -> None:
        generator = self.make_generator()
        assert isinstance(generator, ImageGenerator), (
            f"{type(generator).__name__} lacks part of the ImageGenerator protocol "
            "(cross_attention_dim, pooled_dim, resolution, null_condition, training_loss, "
            "generate)")
        assert isinstance(generator.resolution, int) and generator.resolution > 0, (
            f"resolution must be a positive int, got {generator.resolution!r}")
        width = generator.cross_attention_dim
        assert isinstance(width, int) and width > 0, (
            f"cross_attention_dim must be a positive int, got {width!r}")
        assert generator.pooled_dim is None or (
            isinstance(generator.pooled_dim, int) and generator.pooled_dim > 0), (
            f"pooled_dim must be None or a positive int, got {generator.pooled_dim!r}")

    def test_null_condition_is_valid(self) -> None:
        generator = self.make_generator()
        for batch in (1, 3):
            null = generator.null_condition(batch)
            assert isinstance(null, Condition), (
                f"null_condition must return a Condition, got {type(null).__name__}")
            tokens = null.tokens
            assert tokens.shape[0] == batch and tokens.shape[2] == generator.cross_attention_dim, (
                f"null_condition({batch}).tokens must be [{batch}, M, "
                f"{generator.cross_attention_dim}], got {tuple(tokens.shape)}")
            assert bool(null.mask.any(dim=1).all()), (
                f"every item of null_condition({batch}) needs a valid token")
            assert bool(torch.isfinite(tokens[null.mask]).all()), "null tokens are not finite"
            if generator.pooled_dim is None:
                assert null.pooled is None, "pooled_dim is None but the null condition has pooled"
            else:
                assert null.pooled is not None and tuple(null.pooled.shape) == (
                    batch, generator.pooled_dim), (
                    f"null_condition({batch}).pooled must be [{batch}, {generator.pooled_dim}], "
                    f"got {None if null.pooled is None else tuple(null.pooled.shape)}")

    def test_training_loss_is_finite_scalar_with_gradients(self) -> None:
        generator = self.make_generator()
        module = self.module(generator)
        condition = self.condition(generator, grad=True)
        loss = self.loss(generator, self.images(generator), condition)
        assert isinstance(loss, torch.Tensor) and loss.dim() == 0, (
            f"training_loss must return a scalar tensor, got "
            f"{tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss)}")
        assert loss.dtype.is_floating_point and bool(torch.isfinite(loss)), (
            f"training_loss is {loss.item()} ({loss.dtype}), expected a finite float")
        torch.autograd.backward(loss)
        reached = [name for name, p in module.named_parameters()
                   if p.grad is not None and bool(p.grad.abs().sum() > 0)]
        assert reached or self.frozen, (
            "the loss's gradient reaches none of the generator's parameters (set `frozen = "
            "True` in the suite if the generator's weights are not meant to train)")
        bad = [name for name, p in module.named_parameters()
               if p.grad is not None and not bool(torch.isfinite(p.grad).all())]
        assert not bad, f"non-finite gradients for: {', '.join(bad)}"
        grad = condition.tokens.grad
        assert grad is not None, (
            "no gradient reaches the condition tokens (the bottleneck could not learn)")
        assert bool(torch.isfinite(grad).all()), "non-finite gradient at the condition tokens"
        for row, length in enumerate(self.lengths):
            assert bool(grad[row, :length].abs().sum() > 0), (
                f"item {row}: no gradient reaches its {length} valid condition tokens")
        assert bool((grad[~condition.mask] == 0).all()), (
            "the gradient at padded condition tokens is not zero, so padding influences the loss")
        if condition.pooled is not None:
            assert condition.pooled.grad is not None and bool(
                condition.pooled.grad.abs().sum() > 0), "no gradient reaches Condition.pooled"

    def test_training_loss_is_reproducible_under_seed(self) -> None:
        generator = self.make_generator()
        images, condition = self.images(generator), self.condition(generator)
        first = self.loss(generator, images, condition, seed=3)
        torch.manual_seed(999)  # the global state must not matter, only the generator
        second = self.loss(generator, images, condition, seed=3)
        assert torch.equal(first.detach(), second.detach()), (
            f"the same torch.Generator seed gave losses {first.item()} and {second.item()}: "
            "draw noise and timesteps with the `generator` argument")
        other = self.loss(generator, images, condition, seed=4)
        assert not torch.equal(first.detach(), other.detach()), (
            "two different seeds gave exactly the same loss: is `generator` used for the noise?")

    def test_padding_does_not_leak_into_loss(self) -> None:
        generator = self.make_generator()
        images, condition = self.images(generator), self.condition(generator)
        want = self.loss(generator, images, condition)
        noise = 100 * torch.randn(condition.tokens.shape, generator=self.rng(5))
        got = self.loss(generator, images, self.with_padding(condition, noise))
        self.assert_same_loss(got, want, "large random values at the padded condition tokens "
                                         "(padding leaks: pass the mask to cross-attention)")

    def test_extra_padding_does_not_change_loss(self) -> None:
        generator = self.make_generator()
        images = self.images(generator)
        condition = self.condition(generator)
        want = self.loss(generator, images, condition)
        batch, _, dim = condition.tokens.shape
        extra = torch.randn(batch, 5, dim, generator=self.rng(5))
        longer = Condition(torch.cat([condition.tokens, extra], dim=1),
                           torch.cat([condition.mask, torch.zeros(batch, 5, dtype=torch.bool)],
                                     dim=1), condition.pooled)
        got = self.loss(generator, images, longer)
        self.assert_same_loss(got, want, "the same condition with 5 more padded tokens "
                                         "(padded positions take part in attention)")

    def test_padding_does_not_leak_into_images(self) -> None:
        generator = self.make_generator()
        condition = self.condition(generator)
        scheduler = self.schedulers[0]
        want = self.sample(generator, condition, scheduler)
        noise = 100 * torch.randn(condition.tokens.shape, generator=self.rng(5))
        got = self.sample(generator, self.with_padding(condition, noise), scheduler)
        torch.testing.assert_close(got, want, atol=self.image_atol, rtol=self.image_rtol,
                                   msg=lambda m: (
            "images generated with large random values at the padded condition tokens differ "
            f"(padding leaks into sampling, with or without guidance). {m}"))

    def test_dropped_items_ignore_condition(self) -> None:
        generator = self.make_generator()
        images = self.images(generator)
        batch = len(self.lengths)
        drop = torch.ones(batch, dtype=torch.bool)
        condition = self.condition(generator, grad=True)
        want = self.loss(generator, images, condition, drop=drop)
        other = self.condition(generator, seed=6, lengths=[1] * batch,
                               padded_to=max(self.lengths) + 2)
        self.assert_same_loss(self.loss(generator, images, other, drop=drop), want,
                              "drop=True everywhere, with another condition (dropped items "
                              "must not see their condition)")
        self.assert_same_loss(self.loss(generator, images, generator.null_condition(batch)),
                              want, "drop=True everywhere vs conditioning on null_condition() "
                                    "(dropped items must use the null condition)")
        torch.autograd.backward(want)
        grad = condition.tokens.grad
        assert grad is None or bool((grad == 0).all()), (
            "with drop=True everywhere a gradient still reaches the condition tokens")

    def test_generate(self, scheduler: str) -> None:
        generator = self.make_generator()
        condition = self.condition(generator)
        first = self.sample(generator, condition, scheduler, seed=4)
        torch.manual_seed(999)  # the global state must not matter, only the generator
        second = self.sample(generator, condition, scheduler, seed=4)
        assert torch.equal(first, second), (
            f"scheduler {scheduler!r}: the same seed gave different images (draw all noise "
            "with the `generator` argument)")
        other = self.sample(generator, condition, scheduler, seed=5)
        assert float((first - other).abs().max()) > 1e-3, (
            f"scheduler {scheduler!r}: different seeds gave the same images")

    def test_items_with_their_own_generators_do_not_depend_on_the_batch(
            self, scheduler: str) -> None:
        generator = self.make_generator()
        self.module(generator).eval()
        condition = self.condition(generator)
        batch = condition.tokens.shape[0]
        together = self.sample(generator, condition, scheduler, rng=self.rngs(7, batch))
        for index in range(batch):
            alone = self.sample(generator, self.item(condition, index), scheduler,
                                rng=[self.rng(7 + index)])
            torch.testing.assert_close(together[index:index + 1], alone,
                                       atol=self.batch_image_atol, rtol=0,
                                       msg=lambda m, index=index: (  # type: ignore[misc]
                f"scheduler {scheduler!r}: item {index} sampled in a batch with a list of one "
                "generator per item differs from the same item sampled alone with its "
                "generator (draw item i's noise, initial and per step, with generator[i]; "
                f"voxcore passes such a list so an image does not depend on its batch). {m}"))

    def test_guidance_scales(self) -> None:
        generator = self.make_generator()
        condition = self.condition(generator)
        scheduler = self.schedulers[0]
        plain = self.sample(generator, condition, scheduler, guidance_scale=1.0)
        guided = self.sample(generator, condition, scheduler, guidance_scale=self.guidance_scale)
        assert float((plain - guided).abs().max()) > 1e-4, (
            f"guidance_scale {self.guidance_scale} gave the same images as 1.0: classifier-free "
            "guidance against the null condition has no effect")

    def test_state_dict_round_trip(self, tmp_path: Path) -> None:
        source = self.make_generator()
        path = tmp_path / "generator.safetensors"
        save_module(self.module(source), path)
        condition = self.condition(source)
        images = self.images(source)
        scheduler = self.schedulers[0]
        want_loss = self.loss(source, images, condition)
        want_images = self.sample(source, condition, scheduler)

        target = self.make_generator(seed=self.seed + 12345)
        before = self.sample(target, condition, scheduler)
        assert not torch.equal(before, want_images), (
            "generators built under two different seeds give the same images, so this check "
            "cannot tell whether the state was loaded (are weights initialized randomly?)")
        load_module(self.module(target), path)
        what = ("a generator built under another seed and loaded from the saved state_dict vs "
                "the original (some state is not saved: a non-persistent buffer or a plain "
                "tensor attribute?)")
        got_loss = self.loss(target, images, condition)
        assert torch.equal(got_loss.detach(), want_loss.detach()), (
            f"{what}: loss {got_loss.item()} vs {want_loss.item()}")
        got_images = self.sample(target, condition, scheduler)
        torch.testing.assert_close(got_images, want_images, atol=0.0, rtol=0.0,
                                   msg=lambda m: f"{what}: images differ. {m}")
