"""The generator conformance suite passes a correct generator and fails broken ones.

A small correct generator (a two-convolution denoiser whose condition is an attention-pooled
vector of the valid tokens, cosine noise in continuous time, deterministic DDIM sampling) runs
the whole suite; each broken variant differs from it by one bug that one check must catch.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from voxcore.conditioning import seeded_randn
from voxcore.interfaces import Condition, ImageGenerator
from voxcore.testing.generator import GeneratorSuite


class ToyGenerator(nn.Module):
    """Correct: masked attention pooling of the tokens conditions a tiny convolutional denoiser."""

    cross_attention_dim = 8
    resolution = 8
    channels = 8

    def __init__(self, pooled_dim: int | None = None) -> None:
        super().__init__()
        width, channels = self.cross_attention_dim, self.channels
        self.pooled_dim = pooled_dim
        self.query = nn.Parameter(torch.randn(width))
        self.cond_proj = nn.Linear(width, channels)
        self.time_proj = nn.Linear(1, channels)
        self.conv_in = nn.Conv2d(3, channels, 3, padding=1)
        self.conv_out = nn.Conv2d(channels, 3, 3, padding=1)
        self.null_tokens = nn.Parameter(torch.randn(1, width))
        self.pooled_proj = nn.Linear(pooled_dim, channels) if pooled_dim else None
        self.null_pooled = nn.Parameter(torch.randn(pooled_dim)) if pooled_dim else None

    def null_condition(self, batch_size: int) -> Condition:
        tokens = self.null_tokens.unsqueeze(0).expand(batch_size, -1, -1)
        pooled = None if self.null_pooled is None else self.null_pooled.expand(batch_size, -1)
        return Condition(tokens, torch.ones(tokens.shape[:2], dtype=torch.bool), pooled)

    def attention_weights(self, condition: Condition) -> torch.Tensor:
        scores = condition.tokens @ self.query
        return scores.masked_fill(~condition.mask, float("-inf")).softmax(dim=1)

    def context(self, condition: Condition) -> torch.Tensor:
        """``[B, channels]``: what the denoiser sees of the condition."""
        tokens = condition.tokens.masked_fill(~condition.mask.unsqueeze(-1), 0.0)
        summary = (self.attention_weights(condition).unsqueeze(-1) * tokens).sum(dim=1)
        context: torch.Tensor = self.cond_proj(summary)
        if self.pooled_proj is not None and condition.pooled is not None:
            context = context + self.pooled_proj(condition.pooled)
        return context

    def training_context(self, condition: Condition, drop: torch.Tensor | None) -> torch.Tensor:
        context = self.context(condition)
        if drop is None:
            return context
        null = self.context(self.null_condition(drop.shape[0]))
        return torch.where(drop.unsqueeze(1), null, context)

    def predict(self, noisy: torch.Tensor, t: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        hidden = self.conv_in(noisy) + (context + self.time_proj(t.unsqueeze(1)))[:, :, None, None]
        output: torch.Tensor = self.conv_out(F.silu(hidden))
        return output

    def draw(self, images: torch.Tensor,
             generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.rand(images.shape[0], generator=generator) * 0.98 + 0.01
        return t, torch.randn(images.shape, generator=generator)

    def training_loss(self, images: torch.Tensor, condition: Condition, *,
                      drop: torch.Tensor | None = None,
                      generator: torch.Generator | None = None) -> torch.Tensor:
        clean = images * 2 - 1
        t, noise = self.draw(clean, generator)
        angle = (t * math.pi / 2)[:, None, None, None]
        noisy = angle.cos() * clean + angle.sin() * noise
        return F.mse_loss(self.predict(noisy, t, self.training_context(condition, drop)), noise)

    def guide(self, conditional: torch.Tensor, unconditional: torch.Tensor,
              scale: float) -> torch.Tensor:
        return unconditional + scale * (conditional - unconditional)

    def initial_noise(self, shape: tuple[int, ...],
                      generator: torch.Generator | list[torch.Generator] | None) -> torch.Tensor:
        return seeded_randn(shape, generator, torch.device("cpu"), torch.float32)

    @torch.no_grad()
    def generate(self, condition: Condition, *, num_inference_steps: int,
                 guidance_scale: float, scheduler: str,
                 generator: torch.Generator | list[torch.Generator] | None = None,
                 ) -> torch.Tensor:
        if scheduler != "ddim":
            raise ValueError(f"unknown scheduler {scheduler!r}; only 'ddim'")
        batch = condition.tokens.shape[0]
        context = self.context(condition)
        null = self.context(self.null_condition(batch))
        sample = self.initial_noise((batch, 3, self.resolution, self.resolution), generator)
        times = torch.linspace(0.99, 0.0, num_inference_steps + 1)
        for t, t_next in zip(times[:-1], times[1:], strict=True):
            eps = self.predict(sample, t.expand(batch), context)
            if guidance_scale != 1.0:
                eps = self.guide(eps, self.predict(sample, t.expand(batch), null), guidance_scale)
            angle, angle_next = float(t) * math.pi / 2, float(t_next) * math.pi / 2
            clean = ((sample - math.sin(angle) * eps) / math.cos(angle)).clamp(-1, 1)
            sample = math.cos(angle_next) * clean + math.sin(angle_next) * eps
        return ((sample + 1) / 2).clamp(0, 1)


class LeakyPaddingGenerator(ToyGenerator):
    """Bug: attention pooling ignores the mask, so padded tokens change the condition."""

    def attention_weights(self, condition: Condition) -> torch.Tensor:
        return (condition.tokens @ self.query).softmax(dim=1)

    def context(self, condition: Condition) -> torch.Tensor:
        summary = (self.attention_weights(condition).unsqueeze(-1) * condition.tokens).sum(dim=1)
        context: torch.Tensor = self.cond_proj(summary)
        if self.pooled_proj is not None and condition.pooled is not None:
            context = context + self.pooled_proj(condition.pooled)
        return context


class PaddingCountsGenerator(ToyGenerator):
    """Bug: zeroes padded tokens but still lets them take attention weight."""

    def attention_weights(self, condition: Condition) -> torch.Tensor:
        scores = condition.tokens.masked_fill(~condition.mask.unsqueeze(-1), 0.0) @ self.query
        return scores.softmax(dim=1)


class IgnoresDropGenerator(ToyGenerator):
    """Bug: condition dropout is not applied, so there is no learned null condition."""

    def training_context(self, condition: Condition, drop: torch.Tensor | None) -> torch.Tensor:
        return self.context(condition)


class GlobalRandomGenerator(ToyGenerator):
    """Bug: noise and timesteps come from torch's global random state, not ``generator``."""

    def draw(self, images: torch.Tensor,
             generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        return super().draw(images, None)


class NoGuidanceGenerator(ToyGenerator):
    """Bug: the guidance scale is ignored."""

    def guide(self, conditional: torch.Tensor, unconditional: torch.Tensor,
              scale: float) -> torch.Tensor:
        return conditional


class SharedNoiseGenerator(ToyGenerator):
    """Bug: a list of per-item generators is reduced to its first, which draws the whole batch."""

    def initial_noise(self, shape: tuple[int, ...],
                      generator: torch.Generator | list[torch.Generator] | None) -> torch.Tensor:
        first = generator[0] if isinstance(generator, list) else generator
        return torch.randn(shape, generator=first)


class UnsavedNullGenerator(ToyGenerator):
    """Bug: the null condition is a non-persistent buffer, so state_dict() misses it."""

    def __init__(self, pooled_dim: int | None = None) -> None:
        super().__init__(pooled_dim)
        del self.null_tokens
        self.register_buffer("null_tokens", torch.randn(1, self.cross_attention_dim),
                             persistent=False)


class TestToyGenerator(GeneratorSuite):
    def build_generator(self) -> ImageGenerator:
        return ToyGenerator()


class TestToyGeneratorPooled(GeneratorSuite):
    def build_generator(self) -> ImageGenerator:
        return ToyGenerator(pooled_dim=4)


def _suite_for(generator_type: type[ToyGenerator]) -> GeneratorSuite:
    class Suite(GeneratorSuite):
        def build_generator(self) -> ImageGenerator:
            return generator_type()

    return Suite()


def test_padding_check_catches_unmasked_attention() -> None:
    suite = _suite_for(LeakyPaddingGenerator)
    with pytest.raises(AssertionError, match="padding leaks"):
        suite.test_padding_does_not_leak_into_loss()
    with pytest.raises(AssertionError, match="padding leaks into sampling"):
        suite.test_padding_does_not_leak_into_images()


def test_extra_padding_check_catches_padding_in_softmax() -> None:
    suite = _suite_for(PaddingCountsGenerator)
    suite.test_padding_does_not_leak_into_loss()  # the values are hidden; the count is not
    with pytest.raises(AssertionError, match="5 more padded tokens"):
        suite.test_extra_padding_does_not_change_loss()


def test_drop_check_catches_ignored_drop() -> None:
    with pytest.raises(AssertionError, match="dropped items must not see their condition"):
        _suite_for(IgnoresDropGenerator).test_dropped_items_ignore_condition()


def test_seed_check_catches_global_random_state() -> None:
    with pytest.raises(AssertionError, match="draw noise and timesteps with the `generator`"):
        _suite_for(GlobalRandomGenerator).test_training_loss_is_reproducible_under_seed()


def test_guidance_check_catches_ignored_scale() -> None:
    with pytest.raises(AssertionError, match="guidance against the null condition has no effect"):
        _suite_for(NoGuidanceGenerator).test_guidance_scales()


def test_batch_check_catches_noise_shared_across_the_batch() -> None:
    with pytest.raises(AssertionError, match="differs from the same item sampled alone"):
        _suite_for(SharedNoiseGenerator).test_items_with_their_own_generators_do_not_depend_on_the_batch(
            "ddim")


def test_round_trip_check_catches_unsaved_state(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="some state is not saved"):
        _suite_for(UnsavedNullGenerator).test_state_dict_round_trip(tmp_path)


def test_suite_needs_build_generator() -> None:
    with pytest.raises(NotImplementedError, match="must override build_generator"):
        GeneratorSuite().test_is_module_and_image_generator()
