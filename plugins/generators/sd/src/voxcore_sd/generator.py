"""The ``sd15`` and ``sdxl`` generators: a Stable Diffusion UNet conditioned on speech.

Training is latent diffusion as in diffusers' ``train_text_to_image`` scripts: images are
encoded by the frozen VAE, noised with the checkpoint's own noise schedule, and the UNet
predicts the checkpoint's target (``epsilon`` or ``v_prediction``) from the condition's tokens
(cross-attention, with their mask) and, for SDXL, the pooled vector and ``time_ids``.
Sampling goes through the stock ``StableDiffusionPipeline`` / ``StableDiffusionXLPipeline``
fed with ``prompt_embeds`` and the learned null condition as ``negative_prompt_embeds``.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

with warnings.catch_warnings():
    # diffusers 0.36 decorates an unrelated model with a CUDA autocast at import time, which
    # warns on every machine without CUDA.
    warnings.filterwarnings("ignore", message="User provided device_type of 'cuda'")
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        DPMSolverMultistepScheduler,
        EulerDiscreteScheduler,
        StableDiffusionImg2ImgPipeline,
        StableDiffusionPipeline,
        StableDiffusionXLImg2ImgPipeline,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from diffusers.schedulers.scheduling_utils import SchedulerMixin

from voxcore.plugin_api import (
    Condition,
    LearnedNullCondition,
    check_edit,
    check_images_shape,
    diffusion_loss,
    diffusion_target,
    generator_for_item,
    masked_tokens,
    random_timesteps,
    seeded_randn,
)
from voxcore_sd import Sd15Config, SdxlConfig, StableDiffusionConfig
from voxcore_sd.loading import load_checkpoint

__all__ = ["StableDiffusionGenerator", "load_sd15", "load_sdxl", "SCHEDULERS"]

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}

#: Sampling schedulers by the name ``generate`` accepts, built from the checkpoint's schedule.
SCHEDULERS: dict[str, type[SchedulerMixin]] = {
    "ddim": DDIMScheduler,
    "dpm-solver++": DPMSolverMultistepScheduler,
    "euler": EulerDiscreteScheduler,
    "ddpm": DDPMScheduler,
}


class StableDiffusionGenerator(LearnedNullCondition, nn.Module):
    """A Stable Diffusion UNet + VAE as a :class:`voxcore.interfaces.ImageGenerator`.

    ``xl`` selects SDXL's added conditioning: ``Condition.pooled`` (``pooled_dim`` wide) and
    ``time_ids`` of ``(R, R, 0, 0, R, R)`` for square ``R``-pixel images, as SDXL was trained.
    Only the learned null condition, and the UNet's LoRA adapters or weights when
    ``train_mode`` says so, require grad.
    """

    #: The sampling schedulers ``generate`` accepts.
    schedulers: tuple[str, ...] = tuple(SCHEDULERS)

    def __init__(self, config: StableDiffusionConfig, unet: UNet2DConditionModel,
                 vae: AutoencoderKL, noise_scheduler: DDPMScheduler, *, xl: bool,
                 vae_fingerprint: str = "") -> None:
        super().__init__()
        self.config = config
        #: Identity of the VAE's weights; with it the trainer may cache image latents.
        self.vae_fingerprint = vae_fingerprint
        self.xl = xl
        self.component = "sdxl" if xl else "sd15"
        self.unet = unet
        self.vae = vae
        self.noise_scheduler = noise_scheduler
        self.resolution: int = config.resolution
        self.cross_attention_dim: int = int(unet.config.cross_attention_dim)
        self.pooled_dim: int | None = _pooled_dim(unet) if xl else None
        if not xl and unet.config.addition_embed_type is not None:
            raise ValueError(f"sd15 expects a UNet without added conditioning, but this one has "
                             f"addition_embed_type={unet.config.addition_embed_type!r}; use sdxl")
        self.latent_factor = 2 ** (len(vae.config.block_out_channels) - 1)
        if config.resolution % self.latent_factor:
            raise ValueError(f"generator.config.resolution={config.resolution} must be a multiple "
                             f"of the VAE's downsampling factor {self.latent_factor}")
        frozen_dtype = _DTYPES[config.frozen_dtype]
        vae.requires_grad_(False).eval().to(frozen_dtype)
        self._set_train_mode(frozen_dtype)
        self.init_null_condition(config.null_length)

    def _set_train_mode(self, frozen_dtype: torch.dtype) -> None:
        mode = self.config.train_mode
        if mode == "full":
            self.unet.requires_grad_(True).to(torch.float32)
            return
        self.unet.requires_grad_(False).to(frozen_dtype)
        if mode == "lora":
            from peft import LoraConfig

            lora = self.config.lora
            self.unet.add_adapter(LoraConfig(
                r=lora.rank, lora_alpha=lora.alpha if lora.alpha is not None else lora.rank,
                init_lora_weights="gaussian", target_modules=list(lora.targets)))
            for parameter in self.unet.parameters():
                if parameter.requires_grad:  # the adapters: trained in float32
                    parameter.data = parameter.data.float()

    def train(self, mode: bool = True) -> StableDiffusionGenerator:
        """Like ``nn.Module.train``, but the VAE always stays in eval mode (it never trains)."""
        super().train(mode)
        self.vae.eval()
        return self

    def enable_gradient_checkpointing(self) -> None:
        """Trade compute for memory in the UNet (``train.gradient_checkpointing``)."""
        self.unet.enable_gradient_checkpointing()

    # -- conditions --------------------------------------------------------------------------

    def time_ids(self, batch_size: int, device: torch.device) -> torch.Tensor:
        """SDXL's ``(original size, crop top-left, target size)`` for uncropped square images."""
        size = float(self.resolution)
        row = torch.tensor([size, size, 0.0, 0.0, size, size], device=device)
        return row.unsqueeze(0).expand(batch_size, -1)

    # -- training ----------------------------------------------------------------------------

    @torch.no_grad()
    def encode_for_cache(self, images: torch.Tensor) -> torch.Tensor:
        """VAE posterior mean and standard deviation, ``[B, 2C, r, r]``, of ``[0, 1]`` images.

        Deterministic, so the trainer can cache it; :meth:`training_loss_from_encoded` draws
        the latents from it exactly as :meth:`training_loss` does from the images.
        """
        pixels = (images * 2 - 1).to(self.vae.dtype)
        distribution = self.vae.encode(pixels).latent_dist
        return torch.cat([distribution.mean, distribution.std], dim=1).float()

    def image_cache_key(self) -> str:
        """What the cached encodings depend on: VAE weights and image size ("" = no caching)."""
        if not (self.config.cache_latents and self.vae_fingerprint):
            return ""
        return f"{self._name}-{self.vae_fingerprint}-{self.config.frozen_dtype}-{self.resolution}"

    def training_loss(
        self,
        images: torch.Tensor,
        condition: Condition,
        *,
        drop: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Mean latent-diffusion loss of ``images`` (float ``[B, 3, R, R]`` in ``[0, 1]``)."""
        check_images_shape(images, self.resolution, self._name)
        return self.training_loss_from_encoded(self.encode_for_cache(images), condition,
                                               drop=drop, generator=generator)

    def training_loss_from_encoded(
        self,
        encoded: torch.Tensor,
        condition: Condition,
        *,
        drop: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """:meth:`training_loss` of images given as their :meth:`encode_for_cache` output."""
        batch = encoded.shape[0]
        condition = self.training_condition(condition, batch, drop)
        mean, std = encoded.float().chunk(2, dim=1)
        posterior_noise = seeded_randn(mean.shape, generator, mean.device, mean.dtype)
        latents = (mean + std * posterior_noise) * self.vae.config.scaling_factor
        noise = seeded_randn(latents.shape, generator, latents.device, latents.dtype)
        scheduler = self.noise_scheduler
        timesteps = random_timesteps(batch, int(scheduler.config.num_train_timesteps),
                                     generator, latents.device)
        noisy = scheduler.add_noise(latents, noise, timesteps)
        prediction = self._denoise(noisy, timesteps, condition)
        prediction_type = str(scheduler.config.prediction_type)
        target = diffusion_target(scheduler, latents, noise, timesteps, prediction_type)
        return diffusion_loss(prediction, target, timesteps,
                              alphas_cumprod=scheduler.alphas_cumprod,
                              prediction_type=prediction_type, snr_gamma=self.config.snr_gamma)

    def _denoise(self, noisy: torch.Tensor, timesteps: torch.Tensor,
                 condition: Condition) -> torch.Tensor:
        dtype = self.unet.conv_in.weight.dtype
        tokens = masked_tokens(condition, dtype)
        added: dict[str, torch.Tensor] | None = None
        if self.xl:
            assert condition.pooled is not None
            added = {"text_embeds": condition.pooled.to(dtype),
                     "time_ids": self.time_ids(noisy.shape[0], noisy.device).to(dtype)}
        output: torch.Tensor = self.unet(
            noisy.to(dtype), timesteps, encoder_hidden_states=tokens,
            encoder_attention_mask=condition.mask, added_cond_kwargs=added, return_dict=False)[0]
        return output

    # -- sampling ----------------------------------------------------------------------------

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
        """Sample one image per item through the stock diffusers pipeline, ``[B, 3, R, R]``.

        Each item goes through the pipeline alone with its valid tokens only: the stock
        pipelines take no attention mask, and without padding none is needed. The negative
        prompt is the learned null condition, repeated to the same length (attention over
        repeated copies of a token set equals attention over the set, so this is exact).
        Classifier-free guidance applies when ``guidance_scale > 1``, as in diffusers. The
        starting latents of the whole batch are drawn first with ``generator`` (a list: item
        ``i``'s with ``generator[i]``, which also draws its sampler noise).
        """
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be at least 1, got {num_inference_steps}")
        batch = condition.tokens.shape[0]
        self.check_condition(condition, batch)
        pipeline = self.pipeline(scheduler)
        device = self.null_tokens.device
        side = self.resolution // self.latent_factor
        channels = int(self.unet.config.in_channels)
        noise = seeded_randn((batch, channels, side, side), generator, device, torch.float32)
        images = []
        for index in range(batch):
            inputs = self.pipeline_inputs(condition, index)
            latents = pipeline(
                **inputs, num_inference_steps=num_inference_steps,
                guidance_scale=guidance_scale, height=self.resolution, width=self.resolution,
                latents=noise[index:index + 1].to(self.unet.dtype),
                generator=generator_for_item(generator, index),
                output_type="latent", return_dict=False)[0]
            images.append(self.decode_latents(latents))
        return torch.cat(images)

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

        Goes through the stock img2img pipeline: each image is encoded, noised to
        ``strength`` (0 keeps it, 1 redraws from pure noise) and denoised for
        ``strength * num_inference_steps`` steps with the condition. Noise is drawn with
        ``generator``, one item after the other (a list: item ``i``'s with ``generator[i]``).
        """
        batch = condition.tokens.shape[0]
        check_edit(images, batch, self.resolution, strength, self._name)
        self.check_condition(condition, batch)
        base = self.pipeline(scheduler)
        img2img_class = (StableDiffusionXLImg2ImgPipeline if self.xl
                         else StableDiffusionImg2ImgPipeline)
        pipe = img2img_class.from_pipe(base)
        pipe.set_progress_bar_config(disable=True)
        edited = []
        for index in range(batch):
            latents = pipe(**self.pipeline_inputs(condition, index),
                           image=images[index:index + 1].float(), strength=strength,
                           num_inference_steps=num_inference_steps,
                           guidance_scale=guidance_scale,
                           generator=generator_for_item(generator, index),
                           output_type="latent", return_dict=False)[0]
            edited.append(self.decode_latents(latents))
        return torch.cat(edited)

    def pipeline_inputs(self, condition: Condition, index: int) -> dict[str, torch.Tensor]:
        """The ``prompt_embeds`` (and negative, pooled) keyword arguments for item ``index``."""
        tokens = condition.tokens[index][condition.mask[index]]
        null = self.null_tokens
        # Both must have one length; repeating each whole set keeps attention unchanged.
        length = math.lcm(tokens.shape[0], null.shape[0])
        positive = tokens.repeat(length // tokens.shape[0], 1).unsqueeze(0)
        negative = null.repeat(length // null.shape[0], 1).unsqueeze(0).to(positive.dtype)
        inputs = {"prompt_embeds": positive, "negative_prompt_embeds": negative}
        if self.xl:
            assert condition.pooled is not None and self.null_pooled is not None
            inputs["pooled_prompt_embeds"] = condition.pooled[index:index + 1]
            inputs["negative_pooled_prompt_embeds"] = self.null_pooled.unsqueeze(0).to(
                condition.pooled.dtype)
        return inputs

    def pipeline(self, scheduler: str = "dpm-solver++") -> Any:
        """A stock diffusers pipeline around this generator's UNet and VAE (no text encoder)."""
        try:
            scheduler_class = SCHEDULERS[scheduler]
        except KeyError:
            raise ValueError(f"unknown scheduler {scheduler!r}; {self._name} supports "
                             f"{', '.join(repr(n) for n in SCHEDULERS)}") from None
        sampler = scheduler_class.from_config(self.noise_scheduler.config)
        if self.xl:
            pipe = StableDiffusionXLPipeline(
                vae=self.vae, text_encoder=None, text_encoder_2=None, tokenizer=None,
                tokenizer_2=None, unet=self.unet, scheduler=sampler,
                force_zeros_for_empty_prompt=False)
        else:
            pipe = StableDiffusionPipeline(
                vae=self.vae, text_encoder=None, tokenizer=None, unet=self.unet,
                scheduler=sampler, safety_checker=None, feature_extractor=None,
                requires_safety_checker=False)
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """Images ``[B, 3, R, R]`` in ``[0, 1]`` from (scaled) latents."""
        scaled = latents.to(self.vae.dtype) / self.vae.config.scaling_factor
        pixels: torch.Tensor = self.vae.decode(scaled, return_dict=False)[0]
        return ((pixels.float() + 1) / 2).clamp(0, 1)

    # -- interop -----------------------------------------------------------------------------

    def save_interop(self, folder: Path, state: dict[str, torch.Tensor]
                     ) -> dict[str, torch.Tensor]:
        """Write trained UNet weights in diffusers' formats; return what is left to save.

        LoRA runs write ``pytorch_lora_weights.safetensors`` (what ``save_lora_weights`` of
        the stock pipeline writes, with the adapter config as metadata) and keep their own copy
        of the adapters too; fully trained runs write the whole UNet as a diffusers ``unet/``
        folder, which replaces the UNet tensors in voxcore's own file.
        """
        mode = self.config.train_mode
        if mode == "lora":
            from diffusers.utils import convert_state_dict_to_diffusers
            from peft.utils import get_peft_model_state_dict

            layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(self.unet))
            pipeline_class = StableDiffusionXLPipeline if self.xl else StableDiffusionPipeline
            pipeline_class.save_lora_weights(
                folder, unet_lora_layers=layers, safe_serialization=True,
                unet_lora_adapter_metadata=self.unet.peft_config["default"].to_dict())
            return state
        if mode == "full":
            self.unet.save_pretrained(folder / "unet", safe_serialization=True)
            return {key: value for key, value in state.items() if not key.startswith("unet.")}
        return state

    def load_interop(self, folder: Path) -> dict[str, torch.Tensor]:
        """The UNet tensors :meth:`save_interop` wrote for a fully trained run (else nothing)."""
        if self.config.train_mode != "full":
            return {}
        unet = UNet2DConditionModel.from_pretrained(folder / "unet", use_safetensors=True)
        return {f"unet.{key}": value for key, value in unet.state_dict().items()}

    # -- helpers -----------------------------------------------------------------------------

    @property
    def _name(self) -> str:
        return "sdxl" if self.xl else "sd15"

    def extra_repr(self) -> str:
        return (f"model={self.config.model!r}, resolution={self.resolution}, "
                f"train_mode={self.config.train_mode}, cross_attention_dim="
                f"{self.cross_attention_dim}, pooled_dim={self.pooled_dim}")


def _pooled_dim(unet: UNet2DConditionModel) -> int:
    """Width of SDXL's pooled text embedding: what ``text_time`` conditioning leaves for it."""
    config = unet.config
    if config.addition_embed_type != "text_time":
        raise ValueError(f"sdxl expects a UNet with addition_embed_type='text_time', got "
                         f"{config.addition_embed_type!r}; use sd15 for this checkpoint")
    return int(config.projection_class_embeddings_input_dim) - 6 * int(
        config.addition_time_embed_dim)


def load_sd15(config: Sd15Config) -> StableDiffusionGenerator:
    """Build the ``sd15`` generator of a recipe from the checkpoint ``config.model`` names."""
    unet, vae, scheduler, fingerprint = load_checkpoint(config, xl=False)
    return StableDiffusionGenerator(config, unet, vae, scheduler, xl=False,
                                    vae_fingerprint=fingerprint)


def load_sdxl(config: SdxlConfig) -> StableDiffusionGenerator:
    """Build the ``sdxl`` generator of a recipe from the checkpoint ``config.model`` names."""
    unet, vae, scheduler, fingerprint = load_checkpoint(config, xl=True)
    return StableDiffusionGenerator(config, unet, vae, scheduler, xl=True,
                                    vae_fingerprint=fingerprint)
