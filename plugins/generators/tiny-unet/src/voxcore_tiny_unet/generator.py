"""The ``tiny-unet`` image generator: a conditional UNet in pixel space.

The UNet (:mod:`voxcore_tiny_unet.unet`) has the architecture and weight names of diffusers'
``UNet2DConditionModel`` and the samplers (:mod:`voxcore_tiny_unet.sampling`) step as
diffusers' do, but both are plain torch: building and running the generator never imports
diffusers, which alone would take seconds to import.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

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
from voxcore_tiny_unet.interop import load_unet_folder, save_unet_folder
from voxcore_tiny_unet.sampling import Sampler
from voxcore_tiny_unet.schedulers import (
    SCHEDULERS,
    build_sampling_scheduler,
    build_training_scheduler,
)
from voxcore_tiny_unet.unet import build_unet

__all__ = ["TinyUnetGenerator", "build_unet"]

#: The folder of an exported run that holds the UNet in diffusers' format.
UNET_FOLDER = "unet"


class TinyUnetGenerator(LearnedNullCondition, nn.Module):
    """A small conditional diffusion model on RGB pixels (no VAE), for CPU training.

    Implements :class:`voxcore.interfaces.ImageGenerator`. The condition's tokens enter the
    UNet's cross-attention with their mask (padding is never attended to); the optional
    pooled vector is added to the time embedding. Classifier-free guidance uses a learned
    null condition of ``config.null_length`` tokens.

    The UNet has the same architecture and weight names as diffusers'
    ``UNet2DConditionModel``: ``voxcore export`` writes it as a diffusers ``unet/`` folder
    (``UNet2DConditionModel.from_pretrained`` reads it), and weights trained with the
    diffusers-based versions of this generator load unchanged.
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
        sampler.set_begin_index(start)
        clean = images.to(device=device, dtype=dtype) * 2 - 1
        noise = seeded_randn(clean.shape, generator, device, dtype)
        sample = sampler.add_noise(clean, noise, timesteps[:1].expand(batch))
        return self._sample(sample, sampler, timesteps, condition, guidance_scale, generator)

    def _sample(self, sample: torch.Tensor, sampler: Sampler, timesteps: torch.Tensor,
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
        output: torch.Tensor = self.unet(noisy, timesteps, tokens, condition.mask, pooled)
        return output

    # -- interop -----------------------------------------------------------------------------

    def save_interop(self, folder: Path, state: dict[str, torch.Tensor]
                     ) -> dict[str, torch.Tensor]:
        """Write the UNet as a diffusers ``unet/`` folder (``config.json`` and
        ``diffusion_pytorch_model.safetensors``); return the rest of ``state``."""
        prefix = "unet."
        unet = {key[len(prefix):]: value for key, value in state.items()
                if key.startswith(prefix)}
        save_unet_folder(folder / UNET_FOLDER, self.config, unet)
        return {key: value for key, value in state.items() if not key.startswith(prefix)}

    def load_interop(self, folder: Path) -> dict[str, torch.Tensor]:
        """The UNet tensors :meth:`save_interop` wrote, named as in this generator (none for
        folders exported before it wrote them: their UNet is in voxcore's own file)."""
        if not (folder / UNET_FOLDER).is_dir():
            return {}
        return {f"unet.{key}": value
                for key, value in load_unet_folder(folder / UNET_FOLDER).items()}
