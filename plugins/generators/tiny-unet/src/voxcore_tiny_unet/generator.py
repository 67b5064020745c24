"""The ``tiny-unet`` image generator: a diffusers ``UNet2DConditionModel`` in pixel space."""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
from torch import nn

with warnings.catch_warnings():
    # diffusers 0.36 decorates an unrelated model with a CUDA autocast at import time, which
    # warns on every machine without CUDA; the warning says nothing about this plugin.
    warnings.filterwarnings("ignore", message="User provided device_type of 'cuda'")
    from diffusers import UNet2DConditionModel

from voxcore.plugin_api import (
    Condition,
    LearnedNullCondition,
    check_edit,
    check_images_shape,
    diffusion_loss,
    diffusion_target,
    masked_tokens,
    random_timesteps,
    seeded_randn,
    stack_conditions,
)
from voxcore_tiny_unet import TinyUnetConfig
from voxcore_tiny_unet.schedulers import (
    SCHEDULERS,
    build_sampling_scheduler,
    build_training_scheduler,
)

__all__ = ["TinyUnetGenerator", "build_unet"]


def build_unet(config: TinyUnetConfig) -> UNet2DConditionModel:
    """The UNet described by ``config``, with random weights.

    Every level but the first (full resolution) has attention, as does the middle block.
    """
    channels = config.block_out_channels
    levels = len(channels)
    attends = [levels == 1 or i > 0 for i in range(levels)]
    down = tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in attends)
    up = tuple("CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(attends))
    # diffusers reads `attention_head_dim` as the number of heads (diffusers issue #2011), so
    # the heads per level are computed here to give each head `attention_head_dim` channels.
    heads = tuple(c // config.attention_head_dim for c in channels)
    extra: dict[str, object] = {}
    if config.pooled_dim is not None:
        # Linear -> SiLU -> Linear of the pooled vector, added to the time embedding.
        extra = {"class_embed_type": "projection",
                 "projection_class_embeddings_input_dim": config.pooled_dim}
    return UNet2DConditionModel(
        sample_size=config.resolution,
        in_channels=3,
        out_channels=3,
        down_block_types=down,
        up_block_types=up,
        block_out_channels=tuple(channels),
        layers_per_block=config.layers_per_block,
        cross_attention_dim=config.cross_attention_dim,
        attention_head_dim=heads,
        # GroupNorm needs every channel count divisible by the group count.
        norm_num_groups=math.gcd(32, *channels),
        resnet_time_scale_shift=config.time_scale_shift,
        **extra,
    )


class TinyUnetGenerator(LearnedNullCondition, nn.Module):
    """A small conditional diffusion model on RGB pixels (no VAE), for CPU training.

    Implements :class:`voxcore.interfaces.ImageGenerator`. The condition's tokens enter the
    UNet's cross-attention with their mask (padding is never attended to); the optional
    pooled vector is added to the time embedding. Classifier-free guidance uses a learned
    null condition of ``config.null_length`` tokens.
    """

    component = "tiny-unet"
    #: The sampling schedulers ``generate`` accepts.
    schedulers: tuple[str, ...] = tuple(SCHEDULERS)

    def __init__(self, config: TinyUnetConfig) -> None:
        super().__init__()
        self.config = config
        self.cross_attention_dim: int = config.cross_attention_dim
        self.pooled_dim: int | None = config.pooled_dim
        self.resolution: int = config.resolution
        self.unet = build_unet(config)
        self.init_null_condition(config.null_length)
        self._noise_scheduler = build_training_scheduler(config)

    def training_loss(
        self,
        images: torch.Tensor,
        condition: Condition,
        *,
        drop: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Mean diffusion loss of ``images`` (float ``[B, 3, R, R]`` in ``[0, 1]``).

        Noise and timesteps are drawn with ``generator``; items where ``drop`` (bool ``[B]``)
        is true are conditioned on :meth:`null_condition` instead. The target is the noise
        (``epsilon``) or the velocity (``v_prediction``); with ``snr_gamma`` set, each item's
        loss is weighted by Min-SNR-gamma.
        """
        batch = images.shape[0]
        check_images_shape(images, self.resolution, "tiny-unet")
        condition = self.training_condition(condition, batch, drop)
        clean = images.to(self.null_tokens.dtype) * 2 - 1
        noise = seeded_randn(clean.shape, generator, clean.device, clean.dtype)
        timesteps = random_timesteps(batch, self.config.num_train_timesteps, generator,
                                     clean.device)
        scheduler = self._noise_scheduler
        noisy = scheduler.add_noise(clean, noise, timesteps)
        prediction = self._denoise(noisy, timesteps, condition)
        target = diffusion_target(scheduler, clean, noise, timesteps,
                                  self.config.prediction_type)
        return diffusion_loss(prediction, target, timesteps,
                              alphas_cumprod=scheduler.alphas_cumprod,
                              prediction_type=self.config.prediction_type,
                              snr_gamma=self.config.snr_gamma)

    @torch.no_grad()
    def generate(
        self,
        condition: Condition,
        *,
        num_inference_steps: int,
        guidance_scale: float,
        scheduler: str,
        generator: torch.Generator | list[torch.Generator] | None = None,
    ) -> torch.Tensor:
        """Sample one image per item of ``condition``: float ``[B, 3, R, R]`` in ``[0, 1]``.

        ``scheduler`` is ``"ddim"``, ``"dpm-solver++"`` or ``"ddpm"``; with
        ``guidance_scale != 1`` classifier-free guidance against the learned null condition
        is applied. The initial (and any DDPM) noise is drawn with ``generator`` (a list: item
        ``i``'s with ``generator[i]``, as diffusers' schedulers do).
        """
        sampler = build_sampling_scheduler(scheduler, self.config)
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be at least 1, got {num_inference_steps}")
        batch = condition.tokens.shape[0]
        self.check_condition(condition, batch)
        device, dtype = self.null_tokens.device, self.null_tokens.dtype
        sampler.set_timesteps(num_inference_steps, device=device)
        shape = (batch, 3, self.resolution, self.resolution)
        sample = seeded_randn(shape, generator, device, dtype)
        sample = sample * sampler.init_noise_sigma
        return self._sample(sample, sampler, sampler.timesteps, condition, guidance_scale,
                            generator)

    @torch.no_grad()
    def edit(
        self,
        images: torch.Tensor,
        condition: Condition,
        *,
        strength: float,
        num_inference_steps: int,
        guidance_scale: float,
        scheduler: str,
        generator: torch.Generator | list[torch.Generator] | None = None,
    ) -> torch.Tensor:
        """Redraw ``images`` (``[B, 3, R, R]`` in ``[0, 1]``) under ``condition`` (SDEdit).

        As diffusers' img2img pipelines do: the images are noised to the timestep ``strength``
        of the way into the schedule (0 keeps them, 1 starts from almost pure noise) and the
        last ``strength * num_inference_steps`` sampling steps are run from there.
        """
        batch = condition.tokens.shape[0]
        check_edit(images, batch, self.resolution, strength, "tiny-unet")
        self.check_condition(condition, batch)
        sampler = build_sampling_scheduler(scheduler, self.config)
        device, dtype = self.null_tokens.device, self.null_tokens.dtype
        sampler.set_timesteps(num_inference_steps, device=device)
        steps = min(max(round(num_inference_steps * strength), 1), num_inference_steps)
        start = (num_inference_steps - steps) * sampler.order
        timesteps = sampler.timesteps[start:]
        if hasattr(sampler, "set_begin_index"):
            sampler.set_begin_index(start)
        clean = images.to(device=device, dtype=dtype) * 2 - 1
        noise = seeded_randn(clean.shape, generator, device, dtype)
        sample = sampler.add_noise(clean, noise, timesteps[:1].expand(batch))
        return self._sample(sample, sampler, timesteps, condition, guidance_scale, generator)

    def _sample(self, sample: torch.Tensor, sampler: Any, timesteps: torch.Tensor,
                condition: Condition, guidance_scale: float,
                generator: torch.Generator | list[torch.Generator] | None) -> torch.Tensor:
        """Run ``sampler`` over ``timesteps`` from ``sample``; images in ``[0, 1]``."""
        guided = guidance_scale != 1.0
        if guided:
            condition = stack_conditions(condition, self.null_condition(sample.shape[0]))
        for t in timesteps:
            inputs = torch.cat([sample, sample]) if guided else sample
            inputs = sampler.scale_model_input(inputs, t)
            prediction = self._denoise(inputs, t.expand(inputs.shape[0]), condition)
            if guided:
                conditional, unconditional = prediction.chunk(2)
                prediction = unconditional + guidance_scale * (conditional - unconditional)
            sample = sampler.step(prediction, t, sample, generator=generator).prev_sample
        return ((sample + 1) / 2).clamp(0, 1).float()

    def _denoise(self, noisy: torch.Tensor, timesteps: torch.Tensor,
                 condition: Condition) -> torch.Tensor:
        tokens = masked_tokens(condition, noisy.dtype)
        pooled = None if condition.pooled is None else condition.pooled.to(noisy.dtype)
        output: torch.Tensor = self.unet(
            noisy, timesteps, encoder_hidden_states=tokens,
            encoder_attention_mask=condition.mask, class_labels=pooled, return_dict=False)[0]
        return output
