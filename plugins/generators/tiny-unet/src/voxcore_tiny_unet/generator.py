"""The ``tiny-unet`` image generator: a diffusers ``UNet2DConditionModel`` in pixel space."""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

with warnings.catch_warnings():
    # diffusers 0.36 decorates an unrelated model with a CUDA autocast at import time, which
    # warns on every machine without CUDA; the warning says nothing about this plugin.
    warnings.filterwarnings("ignore", message="User provided device_type of 'cuda'")
    from diffusers import UNet2DConditionModel

from voxcore.conditioning import (
    check_condition,
    check_drop,
    check_edit,
    min_snr_weights,
    replace_dropped,
    seeded_randn,
    stack_conditions,
)
from voxcore.interfaces import Condition
from voxcore_tiny_unet import TinyUnetConfig
from voxcore_tiny_unet.schedulers import build_sampling_scheduler, build_training_scheduler

__all__ = ["TinyUnetGenerator", "build_unet"]

_NULL_INIT_STD = 0.02


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


class TinyUnetGenerator(nn.Module):
    """A small conditional diffusion model on RGB pixels (no VAE), for CPU training.

    Implements :class:`voxcore.interfaces.ImageGenerator`. The condition's tokens enter the
    UNet's cross-attention with their mask (padding is never attended to); the optional
    pooled vector is added to the time embedding. Classifier-free guidance uses a learned
    null condition of ``config.null_length`` tokens.
    """

    def __init__(self, config: TinyUnetConfig) -> None:
        super().__init__()
        self.config = config
        self.cross_attention_dim: int = config.cross_attention_dim
        self.pooled_dim: int | None = config.pooled_dim
        self.resolution: int = config.resolution
        self.unet = build_unet(config)
        self.null_tokens = nn.Parameter(
            torch.randn(config.null_length, config.cross_attention_dim) * _NULL_INIT_STD)
        self.null_pooled: nn.Parameter | None = None
        if config.pooled_dim is not None:
            self.null_pooled = nn.Parameter(torch.randn(config.pooled_dim) * _NULL_INIT_STD)
        self._noise_scheduler = build_training_scheduler(config)

    def null_condition(self, batch_size: int) -> Condition:
        """The learned "no condition" for ``batch_size`` items (all tokens valid)."""
        tokens = self.null_tokens.unsqueeze(0).expand(batch_size, -1, -1)
        mask = torch.ones(tokens.shape[:2], dtype=torch.bool, device=tokens.device)
        pooled = None
        if self.null_pooled is not None:
            pooled = self.null_pooled.unsqueeze(0).expand(batch_size, -1)
        return Condition(tokens=tokens, mask=mask, pooled=pooled)

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
        expected = (batch, 3, self.resolution, self.resolution)
        if tuple(images.shape) != expected:
            raise ValueError(f"tiny-unet expects images of shape {expected} "
                             f"([B, 3, resolution, resolution]), got {tuple(images.shape)}")
        self._check(condition, batch)
        if drop is not None:
            check_drop(drop, batch)
            condition = self._replace_dropped(condition, drop)

        clean = images.to(self.null_tokens.dtype) * 2 - 1
        noise = seeded_randn(clean.shape, generator, clean.device, clean.dtype)
        where = clean.device if generator is None else generator.device
        timesteps = torch.randint(0, self.config.num_train_timesteps, (batch,),
                                  generator=generator, device=where).to(clean.device)
        scheduler = self._noise_scheduler
        noisy = scheduler.add_noise(clean, noise, timesteps)
        prediction = self._denoise(noisy, timesteps, condition)
        if self.config.prediction_type == "epsilon":
            target = noise
        else:
            target = scheduler.get_velocity(clean, noise, timesteps)
        per_item = F.mse_loss(prediction.float(), target.float(), reduction="none")
        per_item = per_item.mean(dim=(1, 2, 3))
        if self.config.snr_gamma is not None:
            per_item = per_item * self._min_snr_weights(timesteps)
        return per_item.mean()

    @torch.no_grad()
    def generate(
        self,
        condition: Condition,
        *,
        num_inference_steps: int,
        guidance_scale: float,
        scheduler: str,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Sample one image per item of ``condition``: float ``[B, 3, R, R]`` in ``[0, 1]``.

        ``scheduler`` is ``"ddim"``, ``"dpm-solver++"`` or ``"ddpm"``; with
        ``guidance_scale != 1`` classifier-free guidance against the learned null condition
        is applied. The initial (and any DDPM) noise is drawn with ``generator``.
        """
        sampler = build_sampling_scheduler(scheduler, self.config)
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be at least 1, got {num_inference_steps}")
        batch = condition.tokens.shape[0]
        self._check(condition, batch)
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
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Redraw ``images`` (``[B, 3, R, R]`` in ``[0, 1]``) under ``condition`` (SDEdit).

        As diffusers' img2img pipelines do: the images are noised to the timestep ``strength``
        of the way into the schedule (0 keeps them, 1 starts from almost pure noise) and the
        last ``strength * num_inference_steps`` sampling steps are run from there.
        """
        batch = condition.tokens.shape[0]
        check_edit(images, batch, self.resolution, strength, "tiny-unet")
        self._check(condition, batch)
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
                generator: torch.Generator | None) -> torch.Tensor:
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
        mask = condition.mask
        # Masked attention already ignores padding; zeroing it too keeps non-finite padding
        # values out of the attention matmul.
        tokens = condition.tokens.to(noisy.dtype).masked_fill(~mask.unsqueeze(-1), 0.0)
        pooled = None if condition.pooled is None else condition.pooled.to(noisy.dtype)
        output: torch.Tensor = self.unet(
            noisy, timesteps, encoder_hidden_states=tokens, encoder_attention_mask=mask,
            class_labels=pooled, return_dict=False)[0]
        return output

    def _replace_dropped(self, condition: Condition, drop: torch.Tensor) -> Condition:
        """``condition`` with the items where ``drop`` is true replaced by the null condition."""
        return replace_dropped(condition, self.null_condition(drop.shape[0]), drop)

    def _check(self, condition: Condition, batch: int) -> None:
        check_condition(condition, batch, self.cross_attention_dim, self.pooled_dim, "tiny-unet")

    def _min_snr_weights(self, timesteps: torch.Tensor) -> torch.Tensor:
        """Min-SNR-gamma weights (Hang et al. 2023), as in diffusers' train_text_to_image.py."""
        gamma = self.config.snr_gamma
        assert gamma is not None
        return min_snr_weights(self._noise_scheduler.alphas_cumprod, timesteps, gamma,
                               self.config.prediction_type)
