"""Helpers every diffusion generator needs around a :class:`~voxcore.interfaces.Condition`.

Condition dropout (replacing items by the learned null condition), stacking a condition with
the null one for classifier-free guidance, padding token sequences with masked zeros,
checking a condition's shapes, noise drawn on the caller's generator, and Min-SNR-gamma loss
weights. Generator plugins (``tiny-unet``, ``sd15``/``sdxl``) share them; third-party
generators may too. This module imports torch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from voxcore.interfaces import Condition

__all__ = ["seeded_randn", "pad_tokens", "replace_dropped", "stack_conditions",
           "check_condition", "check_drop", "check_edit", "min_snr_weights"]


def seeded_randn(shape: tuple[int, ...] | torch.Size, generator: torch.Generator | None,
                 device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Normal noise drawn on ``generator``'s device, then moved to ``device``.

    So a CPU generator gives the same noise whichever device the model runs on.
    """
    where = device if generator is None else generator.device
    return torch.randn(tuple(shape), generator=generator, device=where, dtype=dtype).to(device)


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
