"""Noise schedulers of ``tiny-unet``: one for training, several for sampling.

All of them are built from the same training noise schedule (timesteps, betas, prediction
type), so any of them can sample from a model trained with it. They sample with "trailing"
timestep spacing, which starts at the last training timestep (pure noise) even with very
few steps (diffusers' default "leading" would start half-way with 2 steps).
"""

from __future__ import annotations

from collections.abc import Callable

from voxcore_tiny_unet import TinyUnetConfig
from voxcore_tiny_unet.sampling import (
    DDIMSampler,
    DDPMSampler,
    DPMSolverSampler,
    NoiseSchedule,
    Sampler,
)

__all__ = ["SCHEDULERS", "build_sampling_scheduler", "build_training_scheduler"]


def _sampler(kind: type[Sampler]) -> Callable[[TinyUnetConfig], Sampler]:
    def build(config: TinyUnetConfig) -> Sampler:
        return kind(config.num_train_timesteps, config.beta_schedule, config.prediction_type)

    return build


#: Sampling schedulers by the name :meth:`TinyUnetGenerator.generate` accepts.
SCHEDULERS: dict[str, Callable[[TinyUnetConfig], Sampler]] = {
    "ddim": _sampler(DDIMSampler),
    "dpm-solver++": _sampler(DPMSolverSampler),
    "ddpm": _sampler(DDPMSampler),
}


def build_training_scheduler(config: TinyUnetConfig) -> NoiseSchedule:
    """The noise schedule whose ``add_noise`` makes the training inputs."""
    return NoiseSchedule(config.num_train_timesteps, config.beta_schedule,
                         config.prediction_type)


def build_sampling_scheduler(name: str, config: TinyUnetConfig) -> Sampler:
    """A fresh sampling scheduler called ``name``; ``ValueError`` lists the valid names."""
    try:
        make = SCHEDULERS[name]
    except KeyError:
        raise ValueError(f"unknown scheduler {name!r}; tiny-unet supports "
                         f"{', '.join(repr(n) for n in SCHEDULERS)}") from None
    return make(config)
