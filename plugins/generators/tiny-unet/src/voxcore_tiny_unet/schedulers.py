"""Noise schedulers of ``tiny-unet``: one for training, several for sampling.

All of them are built from the same training noise schedule (timesteps, betas, prediction
type), so any of them can sample from a model trained with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from voxcore_tiny_unet import TinyUnetConfig

__all__ = ["SCHEDULERS", "build_sampling_scheduler", "build_training_scheduler"]


def _schedule(config: TinyUnetConfig) -> dict[str, Any]:
    return {
        "num_train_timesteps": config.num_train_timesteps,
        "beta_schedule": config.beta_schedule,
        "prediction_type": config.prediction_type,
        # "trailing" starts sampling at the last training timestep (pure noise) even with
        # very few steps; the diffusers default "leading" would start half-way with 2 steps.
        "timestep_spacing": "trailing",
    }


def _ddim(config: TinyUnetConfig) -> SchedulerMixin:
    # Pixels live in [-1, 1], so clipping the predicted clean image is safe and helps.
    return DDIMScheduler(**_schedule(config), clip_sample=True, set_alpha_to_one=True)


def _dpm_solver_pp(config: TinyUnetConfig) -> SchedulerMixin:
    return DPMSolverMultistepScheduler(**_schedule(config), algorithm_type="dpmsolver++",
                                       solver_order=2)


def _ddpm(config: TinyUnetConfig) -> SchedulerMixin:
    return DDPMScheduler(**_schedule(config), clip_sample=True)


#: Sampling schedulers by the name :meth:`TinyUnetGenerator.generate` accepts.
SCHEDULERS: dict[str, Callable[[TinyUnetConfig], SchedulerMixin]] = {
    "ddim": _ddim,
    "dpm-solver++": _dpm_solver_pp,
    "ddpm": _ddpm,
}


def build_training_scheduler(config: TinyUnetConfig) -> DDPMScheduler:
    """The DDPM scheduler whose ``add_noise`` makes the training inputs."""
    return DDPMScheduler(**_schedule(config))


def build_sampling_scheduler(name: str, config: TinyUnetConfig) -> SchedulerMixin:
    """A fresh sampling scheduler called ``name``; ``ValueError`` lists the valid names."""
    try:
        make = SCHEDULERS[name]
    except KeyError:
        raise ValueError(f"unknown scheduler {name!r}; tiny-unet supports "
                         f"{', '.join(repr(n) for n in SCHEDULERS)}") from None
    return make(config)
