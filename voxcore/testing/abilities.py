"""Opt-in conformance suites for the optional abilities of :mod:`voxcore.interfaces`.

A component that has an ability subclasses its suite in its tests. The generator abilities
extend :class:`~voxcore.testing.GeneratorSuite` (so a generator that edits and caches
latents writes ``class TestMine(EditingSuite, LatentCacheSuite)`` and every generator check
runs once); the encoder abilities extend :class:`~voxcore.testing.EncoderSuite`.
:class:`TranscriberSuite` and :class:`PreparationSuite` stand alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import torch

from voxcore.interfaces import (
    Condition,
    DeclaresMinimumDuration,
    HasWeightsFingerprint,
    ImageGenerator,
    ListsSchedulers,
    Preparation,
    SpeechEncoder,
    SupportsEditing,
    SupportsGradientCheckpointing,
    SupportsInterop,
    SupportsLatentCache,
    Transcriber,
    Waveform,
)
from voxcore.testing.encoder import EncoderSuite, synthetic_waveform
from voxcore.testing.generator import GeneratorSuite

__all__ = ["EditingSuite", "GradientCheckpointingSuite", "InteropSuite", "LatentCacheSuite",
           "MinimumDurationSuite", "PreparationSuite", "SchedulersSuite", "TranscriberSuite",
           "WeightsFingerprintSuite", "run_preparation"]


class EditingSuite(GeneratorSuite):
    """:class:`~voxcore.interfaces.SupportsEditing`: ``edit`` keeps shapes and range, is
    reproducible under a seed, leaves less to the noise at a low strength than at a high one,
    and refuses a strength outside ``(0, 1]`` or images of another size."""

    #: Sampling steps at strength 1 for the editing checks.
    edit_steps: int = 4

    def edit(self, generator: Any, images: torch.Tensor, strength: float,
             seed: int = 5, condition: Condition | None = None,
             rng: torch.Generator | list[torch.Generator] | None = None) -> torch.Tensor:
        """``generator.edit`` of ``images`` under a random condition (or ``condition``),
        seeded (or drawn with ``rng``)."""
        if condition is None:
            condition = self.condition(generator, lengths=[3] * images.shape[0])
        edited: torch.Tensor = generator.edit(images, condition, strength=strength,
                              num_inference_steps=self.edit_steps,
                              guidance_scale=self.guidance_scale, scheduler=self.schedulers[0],
                              generator=self.rng(seed) if rng is None else rng)
        return edited

    def test_has_the_editing_ability(self) -> None:
        generator = self.make_generator()
        assert isinstance(generator, SupportsEditing), (
            f"{type(generator).__name__} has no edit(images, condition, *, strength, ...)")

    def test_edit_keeps_shape_and_range_and_is_reproducible(self) -> None:
        generator: Any = self.make_generator()
        self.module(generator).eval()
        images = self.images(generator)
        first = self.edit(generator, images, 0.6)
        assert tuple(first.shape) == tuple(images.shape), (
            f"edit must return images of the input's shape {tuple(images.shape)}, got "
            f"{tuple(first.shape)}")
        assert bool(torch.isfinite(first).all()) and float(first.min()) >= 0.0 and float(
            first.max()) <= 1.0, "edit must return finite pixels in [0, 1]"
        torch.testing.assert_close(first, self.edit(generator, images, 0.6),
                                   msg=lambda m: f"edit under one seed changed: {m}")

    def test_edits_with_their_own_generators_do_not_depend_on_the_batch(self) -> None:
        generator: Any = self.make_generator()
        self.module(generator).eval()
        images = self.images(generator)
        batch = images.shape[0]
        condition = self.condition(generator, lengths=[3] * batch)
        together = self.edit(generator, images, 0.6, condition=condition,
                             rng=self.rngs(8, batch))
        for index in range(batch):
            alone = self.edit(generator, images[index:index + 1], 0.6,
                              condition=self.item(condition, index), rng=[self.rng(8 + index)])
            torch.testing.assert_close(together[index:index + 1], alone,
                                       atol=self.batch_image_atol, rtol=0,
                                       msg=lambda m, index=index: (  # type: ignore[misc]
                f"edit of item {index} in a batch with one generator per item differs from "
                f"the same edit alone with its generator (use generator[i] for item i). {m}"))

    def test_low_strength_leaves_less_to_the_noise(self) -> None:
        # At a low strength the edit is mostly the image, so two seeds give close results; at
        # strength 1 it is drawn from the noise. (Comparing with the input image itself does
        # not work for a random-weight latent generator, whose VAE does not reproduce it.)
        generator: Any = self.make_generator()
        self.module(generator).eval()
        images = self.images(generator)

        def spread(strength: float) -> float:
            first, second = (self.edit(generator, images, strength, seed=s) for s in (5, 6))
            return float((first - second).abs().mean())

        low, high = spread(0.25), spread(1.0)
        assert low < high, (
            f"edits under two seeds differ by {low:.4f} at strength 0.25 and by {high:.4f} at "
            "strength 1.0: a low strength must keep more of the image")

    @pytest.mark.parametrize("strength", [0.0, 1.5])
    def test_refuses_a_strength_outside_zero_one(self, strength: float) -> None:
        generator: Any = self.make_generator()
        self.module(generator).eval()
        with pytest.raises(ValueError, match="strength"):
            self.edit(generator, self.images(generator), strength)

    def test_refuses_images_of_another_size(self) -> None:
        generator: Any = self.make_generator()
        self.module(generator).eval()
        images = self.images(generator)
        with pytest.raises(ValueError):
            self.edit(generator, images[..., : images.shape[-1] // 2], 0.5)


class LatentCacheSuite(GeneratorSuite):
    """:class:`~voxcore.interfaces.SupportsLatentCache`: a non-empty key, a deterministic
    encoding, and the same loss from the encoding as from the images."""

    def test_has_the_latent_cache_ability(self) -> None:
        generator = self.make_generator()
        assert isinstance(generator, SupportsLatentCache), (
            f"{type(generator).__name__} lacks image_cache_key / encode_for_cache / "
            "training_loss_from_encoded")
        key = generator.image_cache_key()
        assert isinstance(key, str) and key, "image_cache_key() must be a non-empty string"

    def test_encoding_is_deterministic_and_gives_the_same_loss(self) -> None:
        generator: Any = self.make_generator()
        self.module(generator).eval()
        images = self.images(generator)
        encoded = generator.encode_for_cache(images)
        torch.testing.assert_close(encoded, generator.encode_for_cache(images),
                                   msg=lambda m: f"encode_for_cache is not deterministic: {m}")
        assert encoded.shape[0] == images.shape[0], "one encoding row per image"
        condition = self.condition(generator)
        with torch.no_grad():
            direct = self.loss(generator, images, condition)
            cached = generator.training_loss_from_encoded(encoded, condition,
                                                          generator=self.rng(3))
        self.assert_same_loss(cached, direct, "training_loss_from_encoded(encode_for_cache(x))")


class InteropSuite(GeneratorSuite):
    """:class:`~voxcore.interfaces.SupportsInterop`: what ``save_interop`` writes and
    ``load_interop`` reads back, with what it leaves to voxcore, restores the trained state."""

    def test_interop_round_trip(self, tmp_path: Path) -> None:
        generator: Any = self.make_generator()
        assert isinstance(generator, SupportsInterop), (
            f"{type(generator).__name__} lacks save_interop / load_interop")
        module: Any = generator
        state = {k: v.detach().clone() for k, v in module.state_dict().items()
                 if k in {n for n, p in module.named_parameters() if p.requires_grad}}
        left = generator.save_interop(tmp_path, dict(state))
        assert isinstance(left, Mapping) and set(left) <= set(state), (
            "save_interop must return the part of the state it did not write")
        restored = {**generator.load_interop(tmp_path), **left}
        missing = sorted(set(state) - set(restored))
        assert not missing, f"load_interop + the rest lost {missing[:5]}"
        for key, value in state.items():
            torch.testing.assert_close(restored[key].to(value.dtype), value,
                                       msg=f"{key} changed after the interop round trip")


class GradientCheckpointingSuite(GeneratorSuite):
    """:class:`~voxcore.interfaces.SupportsGradientCheckpointing`: the loss and its gradients
    are the same with checkpointing on."""

    def test_checkpointing_keeps_loss_and_gradients(self) -> None:
        plain: Any = self.make_generator()
        checkpointed: Any = self.make_generator()
        assert isinstance(checkpointed, SupportsGradientCheckpointing), (
            f"{type(checkpointed).__name__} has no enable_gradient_checkpointing()")
        checkpointed.enable_gradient_checkpointing()
        images = self.images(plain)
        results = []
        generators: list[Any] = [plain, checkpointed]
        for generator in generators:
            module = self.module(generator).train()
            condition = self.condition(generator, grad=True)
            loss = self.loss(generator, images, condition)
            torch.autograd.backward(loss)
            grads = {n: p.grad.detach().clone() for n, p in module.named_parameters()
                     if p.grad is not None}
            results.append((loss.detach(), grads))
        self.assert_same_loss(results[1][0], results[0][0], "gradient checkpointing")
        assert results[0][1].keys() == results[1][1].keys()
        for name, grad in results[0][1].items():
            torch.testing.assert_close(results[1][1][name], grad, atol=1e-5, rtol=1e-4,
                                       msg=f"gradient checkpointing changed the gradient of "
                                           f"{name}")


class SchedulersSuite(GeneratorSuite):
    """:class:`~voxcore.interfaces.ListsSchedulers`: every scheduler it names samples, and a
    name it does not list is refused."""

    def test_every_listed_scheduler_samples(self) -> None:
        generator = self.make_generator()
        assert isinstance(generator, ListsSchedulers) and list(generator.schedulers), (
            f"{type(generator).__name__} must list its sampling schedulers in .schedulers")
        module = self.module(generator).eval()
        for name in generator.schedulers:
            self.sample(module, self.condition(generator), str(name))  # type: ignore[arg-type]

    def test_an_unlisted_scheduler_is_refused(self) -> None:
        generator: ImageGenerator = self.make_generator()
        with pytest.raises(ValueError):
            self.sample(generator, self.condition(generator), "no-such-scheduler")


class WeightsFingerprintSuite(EncoderSuite):
    """:class:`~voxcore.interfaces.HasWeightsFingerprint`: a non-empty fingerprint, the same
    for the same weights and another for other weights (override
    :meth:`build_encoder_with_other_weights`)."""

    def build_encoder_with_other_weights(self) -> SpeechEncoder:
        """The encoder of :meth:`build_encoder` with other weight files."""
        raise NotImplementedError(f"{type(self).__name__} must override "
                                  "build_encoder_with_other_weights()")

    def test_fingerprint_follows_the_weights(self) -> None:
        first, again = self.make_encoder(), self.make_encoder()
        assert isinstance(first, HasWeightsFingerprint) and isinstance(again,
                                                                       HasWeightsFingerprint)
        assert isinstance(first.weights_fingerprint, str) and first.weights_fingerprint, (
            "weights_fingerprint must be a non-empty string")
        assert first.weights_fingerprint == again.weights_fingerprint
        other = self.build_encoder_with_other_weights()
        assert isinstance(other, HasWeightsFingerprint)
        assert other.weights_fingerprint != first.weights_fingerprint, (
            "other weights must give another weights_fingerprint")


class MinimumDurationSuite(EncoderSuite):
    """:class:`~voxcore.interfaces.DeclaresMinimumDuration`: audio of the declared minimum
    gives at least one valid frame per utterance."""

    def test_minimum_duration_gives_a_frame(self) -> None:
        encoder = self.make_encoder()
        assert isinstance(encoder, DeclaresMinimumDuration)
        seconds = float(encoder.min_duration)
        assert seconds > 0, "min_duration must be a positive number of seconds"
        waveform = synthetic_waveform(seconds, encoder.sample_rate)
        features = encoder.encode([waveform])
        assert int(features.mask.sum()) >= 1, (
            f"{seconds} s (min_duration) gave no valid frame")


class TranscriberSuite:
    """:class:`~voxcore.interfaces.Transcriber`: one string per utterance, the same again, a
    non-empty fingerprint. Override :meth:`build_transcriber`."""

    sample_rate: int = 16000

    def build_transcriber(self) -> Transcriber:
        """A tiny transcriber (random weights are fine)."""
        raise NotImplementedError(f"{type(self).__name__} must override build_transcriber()")

    def waveforms(self) -> list[Waveform]:
        """Two short utterances of different lengths."""
        return [synthetic_waveform(0.5, self.sample_rate, seed=1),
                synthetic_waveform(0.8, self.sample_rate, seed=2)]

    def test_transcribes_one_string_per_utterance_reproducibly(self) -> None:
        transcriber = self.build_transcriber()
        assert isinstance(transcriber, Transcriber)
        assert isinstance(transcriber.transcriber_fingerprint, str) and (
            transcriber.transcriber_fingerprint), "transcriber_fingerprint must be non-empty"
        heard = transcriber.transcribe(self.waveforms())
        assert isinstance(heard, list) and len(heard) == 2 and all(
            isinstance(text, str) for text in heard), f"got {heard!r}"
        assert transcriber.transcribe(self.waveforms()) == heard, "transcripts changed"


def run_preparation(preparation: Preparation) -> Path:
    """Prepare ``preparation`` the way ``voxcore prepare`` does (reusing a finished artefact)
    and return its folder."""
    from voxcore.preparation import ensure_prepared

    return ensure_prepared(preparation).folder


class PreparationSuite:
    """:class:`~voxcore.interfaces.Preparation` of a component registered with ``prepare=``:
    a description, a stable cache folder, an artefact the built component loads, figures that
    can be recorded as JSON, a finished artefact reused, and building without one refused.

    Override :meth:`build_preparation` (from a config whose data and cache folder live in
    ``tmp_path``) and :meth:`build_component` (the component built with ``prepared=FOLDER``).
    """

    def build_preparation(self, tmp_path: Path) -> Preparation:
        """The preparation of a small config (data and cache under ``tmp_path``)."""
        raise NotImplementedError(f"{type(self).__name__} must override build_preparation()")

    def build_component(self, tmp_path: Path, prepared: Path | None) -> Any:
        """The component of the same config built with ``prepared=prepared``."""
        raise NotImplementedError(f"{type(self).__name__} must override build_component()")

    def test_is_a_preparation_with_a_stable_folder(self, tmp_path: Path) -> None:
        preparation = self.build_preparation(tmp_path)
        assert isinstance(preparation, Preparation)
        assert isinstance(preparation.description, str) and preparation.description
        assert Path(preparation.cache_folder()) == Path(
            self.build_preparation(tmp_path).cache_folder()), "cache_folder() must be stable"

    def test_prepares_an_artefact_the_component_uses(self, tmp_path: Path) -> None:
        preparation = self.build_preparation(tmp_path)
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        figures = preparation.prepare(scratch)
        json.dumps(dict(figures))  # recorded in versions.json
        assert any(scratch.iterdir()), "prepare() wrote nothing into its folder"
        assert self.build_component(tmp_path, scratch) is not None

    def test_a_finished_artefact_is_reused(self, tmp_path: Path) -> None:
        folder = run_preparation(self.build_preparation(tmp_path))
        stamps = {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}
        assert run_preparation(self.build_preparation(tmp_path)) == folder
        assert {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()} == stamps

    def test_building_without_the_artefact_is_refused(self, tmp_path: Path) -> None:
        from voxcore.errors import UserError

        with pytest.raises(UserError, match="prepare"):
            self.build_component(tmp_path, None)
