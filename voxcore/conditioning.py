"""Helpers every diffusion generator needs around a :class:`~voxcore.interfaces.Condition`.

The learned null condition (:class:`LearnedNullCondition`, a mixin that also checks and
applies condition dropout), stacking a condition with the null one for classifier-free
guidance, padding token sequences with masked zeros, checking a condition's shapes, noise and
timesteps drawn on the caller's generator, the masked tokens a UNet attends to, the diffusion
target and the loss with optional Min-SNR-gamma weights. Generator plugins (``tiny-unet``,
``sd15``/``sdxl``) share them; third-party generators may too. This module imports torch.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from voxcore.interfaces import Condition

__all__ = ["LearnedNullCondition", "seeded_randn", "generator_for_item", "seeded_generators",
           "pad_tokens", "replace_dropped",
           "stack_conditions", "check_condition", "check_drop", "check_edit", "check_images_shape",
           "min_snr_weights", "masked_tokens", "random_timesteps", "diffusion_target",
           "diffusion_loss", "NULL_INIT_STD"]

#: Standard deviation of the learned null condition's random initialisation.
NULL_INIT_STD = 0.02


class LearnedNullCondition:
    """Mixin for a generator (a ``torch.nn.Module``) with a learned "no condition".

    Call :meth:`init_null_condition` in ``__init__`` (after ``nn.Module.__init__``); it adds
    the parameters ``null_tokens`` ``[length, cross_attention_dim]`` and, with a pooled input,
    ``null_pooled`` ``[pooled_dim]``. :meth:`null_condition` is the interface's method;
    :meth:`training_condition` checks a training batch's condition and applies condition
    dropout. The class sets ``cross_attention_dim`` and ``pooled_dim`` and a ``component``
    name for messages.
    """

    cross_attention_dim: int
    pooled_dim: int | None
    null_tokens: nn.Parameter
    null_pooled: nn.Parameter | None
    component: str = "generator"

    def init_null_condition(self, length: int) -> None:
        """Create the null condition's parameters (drawn from torch's random state)."""
        module: Any = self
        module.null_tokens = nn.Parameter(
            torch.randn(length, self.cross_attention_dim) * NULL_INIT_STD)
        module.null_pooled = None
        if self.pooled_dim is not None:
            module.null_pooled = nn.Parameter(torch.randn(self.pooled_dim) * NULL_INIT_STD)

    def null_condition(self, batch_size: int) -> Condition:
        """The learned "no condition" for ``batch_size`` items (all tokens valid)."""
        tokens = self.null_tokens.unsqueeze(0).expand(batch_size, -1, -1)
        mask = torch.ones(tokens.shape[:2], dtype=torch.bool, device=tokens.device)
        pooled = None
        if self.null_pooled is not None:
            pooled = self.null_pooled.unsqueeze(0).expand(batch_size, -1)
        return Condition(tokens=tokens, mask=mask, pooled=pooled)

    def check_condition(self, condition: Condition, batch: int) -> None:
        """Raise ``ValueError`` unless ``condition`` fits this generator (see
        :func:`check_condition`)."""
        check_condition(condition, batch, self.cross_attention_dim, self.pooled_dim,
                        self.component)

    def training_condition(self, condition: Condition, batch: int,
                           drop: torch.Tensor | None) -> Condition:
        """``condition`` checked, with the items where ``drop`` is true replaced by the null
        condition (condition dropout)."""
        self.check_condition(condition, batch)
        if drop is None:
            return condition
        check_drop(drop, batch)
        return replace_dropped(condition, self.null_condition(batch), drop)


def seeded_randn(shape: tuple[int, ...] | torch.Size,
                 generator: torch.Generator | list[torch.Generator] | None,
                 device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Normal noise drawn on ``generator``'s device, then moved to ``device``.

    So a CPU generator gives the same noise whichever device the model runs on. A list
    (diffusers' convention) holds one generator per item of the first dimension: row ``i`` is
    drawn with ``generator[i]`` alone, so it does not depend on the other rows.
    """
    if isinstance(generator, list):
        if len(generator) != shape[0]:
            raise ValueError(f"{len(generator)} generators for a batch of {shape[0]}; give one "
                             "per item")
        return torch.cat([seeded_randn((1, *shape[1:]), item, device, dtype)
                          for item in generator])
    where = device if generator is None else generator.device
    return torch.randn(tuple(shape), generator=generator, device=where, dtype=dtype).to(device)


def generator_for_item(generator: torch.Generator | list[torch.Generator] | None,
                       index: int) -> torch.Generator | None:
    """The generator that draws item ``index``'s noise: its own from a list, else the one."""
    return generator[index] if isinstance(generator, list) else generator


def seeded_generators(seed: int, count: int) -> list[torch.Generator]:
    """``count`` CPU generators seeded ``seed``, ``seed + 1``, ...: item ``i``'s own noise."""
    return [torch.Generator().manual_seed(seed + index) for index in range(count)]


def pad_tokens(tokens: torch.Tensor, mask: torch.Tensor,
               length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad ``tokens`` [B, M, D] and ``mask`` [B, M] with masked zeros to ``length``."""
    extra = length - tokens.shape[1]
    if extra == 0:
        return tokens, mask
    return F.pad(tokens, (0, 0, 0, extra)), F.pad(mask, (0, extra), value=False)


def replace_dropped(condition: Condition, null: Condition, drop: torch.Tensor) -> Condition:
    """``condition`` with the items where ``drop`` (bool ``[B]``) is true replaced by ``null``."""
    length = max(condition.tokens.shape[1], null.tokens.shape[1])
    tokens, mask = pad_tokens(condition.tokens, condition.mask, length)
    null_tokens, null_mask = pad_tokens(null.tokens.to(tokens.dtype), null.mask, length)
    pooled = condition.pooled
    if pooled is not None and null.pooled is not None:
        pooled = torch.where(drop.unsqueeze(1), null.pooled.to(pooled.dtype), pooled)
    return Condition(tokens=torch.where(drop.view(-1, 1, 1), null_tokens, tokens),
                     mask=torch.where(drop.unsqueeze(1), null_mask, mask), pooled=pooled)


def stack_conditions(first: Condition, second: Condition) -> Condition:
    """Two conditions as one batch (``first`` then ``second``), padded to one length."""
    length = max(first.tokens.shape[1], second.tokens.shape[1])
    tokens_a, mask_a = pad_tokens(first.tokens, first.mask, length)
    tokens_b, mask_b = pad_tokens(second.tokens.to(tokens_a.dtype), second.mask, length)
    pooled = None
    if first.pooled is not None and second.pooled is not None:
        pooled = torch.cat([first.pooled, second.pooled.to(first.pooled.dtype)])
    return Condition(tokens=torch.cat([tokens_a, tokens_b]),
                     mask=torch.cat([mask_a, mask_b]), pooled=pooled)


def check_condition(condition: Condition, batch: int, cross_attention_dim: int,
                    pooled_dim: int | None, name: str) -> None:
    """Raise :class:`ValueError` unless ``condition`` fits generator ``name``'s inputs."""
    tokens = condition.tokens
    if tokens.shape[0] != batch or tokens.shape[2] != cross_attention_dim:
        raise ValueError(f"{name} expects condition tokens [B={batch}, M, "
                         f"{cross_attention_dim}], got {tuple(tokens.shape)}")
    if not bool(condition.mask.any(dim=1).all()):
        raise ValueError("every condition item needs at least one valid (unmasked) token")
    if pooled_dim is None:
        if condition.pooled is not None:
            raise ValueError(f"this {name} has no pooled input (pooled_dim is None) but the "
                             "condition has a pooled vector")
    elif condition.pooled is None or condition.pooled.shape[1] != pooled_dim:
        got = None if condition.pooled is None else tuple(condition.pooled.shape)
        raise ValueError(f"this {name} needs Condition.pooled of shape [B, {pooled_dim}] (the "
                         f"bottleneck's pooled head), got {got}")


def check_drop(drop: torch.Tensor, batch: int) -> None:
    """Raise :class:`ValueError` unless ``drop`` is a bool ``[batch]`` tensor."""
    if tuple(drop.shape) != (batch,) or drop.dtype != torch.bool:
        raise ValueError(f"drop must be a bool tensor of shape ({batch},), got "
                         f"{drop.dtype} {tuple(drop.shape)}")


def check_edit(images: torch.Tensor, batch: int, resolution: int, strength: float,
               name: str) -> None:
    """Raise :class:`ValueError` unless ``images`` and ``strength`` suit an edit by ``name``."""
    if not 0.0 < strength <= 1.0:
        raise ValueError(f"strength must be in (0, 1], got {strength}")
    expected = (batch, 3, resolution, resolution)
    if tuple(images.shape) != expected:
        raise ValueError(f"{name} edits images of shape {expected}, got {tuple(images.shape)}")


def min_snr_weights(alphas_cumprod: torch.Tensor, timesteps: torch.Tensor, gamma: float,
                    prediction_type: str) -> torch.Tensor:
    """Min-SNR-gamma loss weights (Hang et al. 2023), as in diffusers' training scripts."""
    alphas = alphas_cumprod.to(timesteps.device)[timesteps]
    snr = alphas / (1 - alphas)
    if prediction_type == "epsilon":
        # min(snr, gamma) / snr, written so that snr ~ 0 (the last timesteps of a cosine
        # schedule) gives 1 rather than 0 / 0.
        return torch.clamp(gamma / snr, max=1.0)
    return torch.clamp(snr, max=gamma) / (snr + 1)


def check_images_shape(images: torch.Tensor, resolution: int, name: str) -> None:
    """Raise ``ValueError`` unless ``images`` is ``[B, 3, resolution, resolution]``."""
    expected = (images.shape[0], 3, resolution, resolution)
    if tuple(images.shape) != expected:
        raise ValueError(f"{name} expects images of shape {expected} "
                         f"([B, 3, resolution, resolution]), got {tuple(images.shape)}")


def masked_tokens(condition: Condition, dtype: torch.dtype) -> torch.Tensor:
    """The condition's tokens in ``dtype`` with padded positions zeroed.

    Masked attention already ignores padding; zeroing it too keeps non-finite padding values
    out of the attention matmul.
    """
    return condition.tokens.to(dtype).masked_fill(~condition.mask.unsqueeze(-1), 0.0)


def random_timesteps(batch: int, num_train_timesteps: int, generator: torch.Generator | None,
                     device: torch.device) -> torch.Tensor:
    """Training timesteps drawn uniformly on ``generator``'s device, moved to ``device``."""
    where = device if generator is None else generator.device
    return torch.randint(0, num_train_timesteps, (batch,), generator=generator,
                         device=where).to(device)


def diffusion_target(scheduler: Any, clean: torch.Tensor, noise: torch.Tensor,
                     timesteps: torch.Tensor, prediction_type: str) -> torch.Tensor:
    """What the denoiser learns to predict: the noise (``epsilon``) or the velocity
    (``v_prediction``, from the diffusers scheduler's ``get_velocity``)."""
    if prediction_type == "epsilon":
        return noise
    if prediction_type == "v_prediction":
        target: torch.Tensor = scheduler.get_velocity(clean, noise, timesteps)
        return target
    raise ValueError(f"unsupported prediction_type {prediction_type!r} (epsilon or "
                     "v_prediction)")


def diffusion_loss(prediction: torch.Tensor, target: torch.Tensor, timesteps: torch.Tensor, *,
                   alphas_cumprod: torch.Tensor, prediction_type: str,
                   snr_gamma: float | None) -> torch.Tensor:
    """Mean squared error per item (in float32), weighted by Min-SNR-gamma when
    ``snr_gamma`` is set, averaged over the batch."""
    per_item = F.mse_loss(prediction.float(), target.float(), reduction="none")
    per_item = per_item.mean(dim=tuple(range(1, per_item.dim())))
    if snr_gamma is not None:
        per_item = per_item * min_snr_weights(alphas_cumprod, timesteps, snr_gamma,
                                              prediction_type)
    return per_item.mean()
