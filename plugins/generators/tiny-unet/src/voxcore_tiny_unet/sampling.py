"""The noise schedule of ``tiny-unet`` and its samplers (DDPM, DDIM, DPM-Solver++), in torch.

Each computes, step for step, what the diffusers scheduler of the same name computes with
the settings ``tiny-unet`` uses ("trailing" timestep spacing; clipped predictions for DDPM
and DDIM, DDIM with ``eta = 0`` and the final alpha set to one; second-order multistep
DPM-Solver++ with a first-order last step), including the order of the floating-point
operations and of the noise draws, so a trained model samples the same images through either.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from voxcore.plugin_api import seeded_randn

__all__ = ["DDIMSampler", "DDPMSampler", "DPMSolverSampler", "NoiseSchedule", "Sampler",
           "StepOutput"]

BetaSchedule = Literal["linear", "scaled_linear", "squaredcos_cap_v2"]
PredictionType = Literal["epsilon", "v_prediction"]
Generators = torch.Generator | list[torch.Generator] | None


@dataclass(frozen=True)
class StepOutput:
    """The sample one sampling step leads to."""

    prev_sample: torch.Tensor


def _betas(schedule: BetaSchedule, steps: int) -> torch.Tensor:
    if schedule == "linear":
        return torch.linspace(0.0001, 0.02, steps, dtype=torch.float32)
    if schedule == "scaled_linear":
        return torch.linspace(0.0001 ** 0.5, 0.02 ** 0.5, steps, dtype=torch.float32) ** 2
    if schedule == "squaredcos_cap_v2":
        def alpha_bar(t: float) -> float:
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

        return torch.tensor([min(1 - alpha_bar((i + 1) / steps) / alpha_bar(i / steps), 0.999)
                             for i in range(steps)], dtype=torch.float32)
    raise ValueError(f"unknown beta_schedule {schedule!r}")


def _per_item(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values`` ``[B]`` shaped to broadcast over ``like`` ``[B, ...]``."""
    return values.flatten().reshape(-1, *([1] * (like.dim() - 1)))


class NoiseSchedule:
    """The forward (noising) process of ``num_train_timesteps`` steps: ``add_noise``,
    ``get_velocity`` and ``alphas_cumprod``, as diffusers' schedulers define them."""

    def __init__(self, num_train_timesteps: int, beta_schedule: BetaSchedule,
                 prediction_type: PredictionType) -> None:
        self.num_train_timesteps = num_train_timesteps
        self.prediction_type = prediction_type
        self.alphas_cumprod = torch.cumprod(1.0 - _betas(beta_schedule, num_train_timesteps),
                                            dim=0)

    def _signal_and_noise(self, timesteps: torch.Tensor, like: torch.Tensor
                          ) -> tuple[torch.Tensor, torch.Tensor]:
        alphas = self.alphas_cumprod.to(device=like.device, dtype=like.dtype)
        alphas = alphas[timesteps.to(like.device)]
        return _per_item(alphas ** 0.5, like), _per_item((1 - alphas) ** 0.5, like)

    def add_noise(self, original_samples: torch.Tensor, noise: torch.Tensor,
                  timesteps: torch.Tensor) -> torch.Tensor:
        """``original_samples`` noised to ``timesteps`` (one per item) with ``noise``."""
        signal, scale = self._signal_and_noise(timesteps, original_samples)
        return signal * original_samples + scale * noise

    def get_velocity(self, sample: torch.Tensor, noise: torch.Tensor,
                     timesteps: torch.Tensor) -> torch.Tensor:
        """The v-prediction target of ``sample`` noised with ``noise`` at ``timesteps``."""
        signal, scale = self._signal_and_noise(timesteps, sample)
        return signal * noise - scale * sample

    def trailing_timesteps(self, num_inference_steps: int) -> np.ndarray:
        """``num_inference_steps`` timesteps, descending, from the last training timestep
        (pure noise, even with very few steps) at even spacing: "trailing" spacing."""
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be at least 1, got {num_inference_steps}")
        ratio = self.num_train_timesteps / num_inference_steps
        timesteps: np.ndarray = np.round(np.arange(self.num_train_timesteps, 0, -ratio)
                                         ).astype(np.int64) - 1
        return timesteps


class Sampler(NoiseSchedule, ABC):
    """What every sampler offers ``TinyUnetGenerator``: set the timesteps, then step along
    them (``order`` model calls per step; the input needs no scaling, the initial noise
    none either)."""

    order = 1
    init_noise_sigma = 1.0

    def __init__(self, num_train_timesteps: int, beta_schedule: BetaSchedule,
                 prediction_type: PredictionType) -> None:
        super().__init__(num_train_timesteps, beta_schedule, prediction_type)
        self.timesteps = torch.arange(num_train_timesteps - 1, -1, -1)
        self.num_inference_steps: int | None = None

    def set_timesteps(self, num_inference_steps: int,
                      device: torch.device | str | None = None) -> None:
        """Sample with ``num_inference_steps`` steps ("trailing" spacing) on ``device``."""
        if num_inference_steps > self.num_train_timesteps:
            raise ValueError(f"num_inference_steps ({num_inference_steps}) cannot be larger "
                             f"than num_train_timesteps ({self.num_train_timesteps})")
        self.num_inference_steps = num_inference_steps
        self.timesteps = torch.from_numpy(self.trailing_timesteps(num_inference_steps)).to(device)

    def set_begin_index(self, begin_index: int = 0) -> None:
        """Sampling starts at ``timesteps[begin_index]`` (an edit); DDPM and DDIM find each
        step's place from its timestep, so this changes nothing for them."""

    def scale_model_input(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        """The UNet's input at ``timestep``: ``sample`` itself for these samplers."""
        return sample

    @abstractmethod
    def step(self, model_output: torch.Tensor, timestep: torch.Tensor, sample: torch.Tensor,
             generator: Generators = None) -> StepOutput:
        """The sample at the next timestep, from the UNet's ``model_output`` at this one."""

    def _clean_estimate(self, model_output: torch.Tensor, sample: torch.Tensor,
                        alpha_prod: torch.Tensor) -> torch.Tensor:
        """The clean image predicted from ``model_output``, clipped to ``[-1, 1]``."""
        beta_prod = 1 - alpha_prod
        if self.prediction_type == "epsilon":
            clean = (sample - beta_prod ** 0.5 * model_output) / alpha_prod ** 0.5
        else:
            clean = alpha_prod ** 0.5 * sample - beta_prod ** 0.5 * model_output
        return clean.clamp(-1, 1)


class DDPMSampler(Sampler):
    """Ancestral DDPM sampling ("fixed_small" variance), the predicted clean image clipped.

    The variance noise of each step is drawn with the ``generator`` passed to :meth:`step`
    (a list: item ``i``'s with ``generator[i]``), even on the last step, where it is scaled
    by almost zero, as diffusers does.
    """

    def _previous(self, timestep: int) -> int:
        index = int((self.timesteps == timestep).nonzero()[0, 0])
        return -1 if index == len(self.timesteps) - 1 else int(self.timesteps[index + 1])

    def step(self, model_output: torch.Tensor, timestep: torch.Tensor, sample: torch.Tensor,
             generator: Generators = None) -> StepOutput:
        """One DDPM step from ``timestep`` to the next of :attr:`timesteps`."""
        t = int(timestep)
        prev_t = self._previous(t)
        alpha_prod = self.alphas_cumprod[t]
        alpha_prod_prev = self.alphas_cumprod[prev_t] if prev_t >= 0 else torch.tensor(1.0)
        beta_prod, beta_prod_prev = 1 - alpha_prod, 1 - alpha_prod_prev
        current_alpha = alpha_prod / alpha_prod_prev
        current_beta = 1 - current_alpha
        clean = self._clean_estimate(model_output, sample, alpha_prod)
        clean_coeff = (alpha_prod_prev ** 0.5 * current_beta) / beta_prod
        sample_coeff = current_alpha ** 0.5 * beta_prod_prev / beta_prod
        prev_sample = clean_coeff * clean + sample_coeff * sample
        if t > 0:
            noise = seeded_randn(model_output.shape, generator, model_output.device,
                                 model_output.dtype)
            variance = torch.clamp(beta_prod_prev / beta_prod * current_beta, min=1e-20)
            prev_sample = prev_sample + variance ** 0.5 * noise
        return StepOutput(prev_sample)


class DDIMSampler(Sampler):
    """Deterministic DDIM sampling (``eta = 0``), the predicted clean image clipped; the last
    step lands on the clean image (the final alpha is one).

    As in diffusers, each step goes ``num_train_timesteps // num_inference_steps`` timesteps
    back, which with "trailing" spacing need not be the next timestep of the list.
    """

    def step(self, model_output: torch.Tensor, timestep: torch.Tensor, sample: torch.Tensor,
             generator: Generators = None) -> StepOutput:
        """One DDIM step back from ``timestep``."""
        if self.num_inference_steps is None:
            raise ValueError("call set_timesteps before step")
        t = int(timestep)
        prev_t = t - self.num_train_timesteps // self.num_inference_steps
        alpha_prod = self.alphas_cumprod[t]
        alpha_prod_prev = self.alphas_cumprod[prev_t] if prev_t >= 0 else torch.tensor(1.0)
        beta_prod = 1 - alpha_prod
        if self.prediction_type == "epsilon":
            noise = model_output
        else:
            noise = alpha_prod ** 0.5 * model_output + beta_prod ** 0.5 * sample
        clean = self._clean_estimate(model_output, sample, alpha_prod)
        prev_sample = alpha_prod_prev ** 0.5 * clean + (1 - alpha_prod_prev) ** 0.5 * noise
        return StepOutput(prev_sample)


def _alpha_sigma(sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Signal and noise scales of the noise-to-signal ratio ``sigma``."""
    alpha = 1 / ((sigma ** 2 + 1) ** 0.5)
    return alpha, sigma * alpha


class DPMSolverSampler(Sampler):
    """Second-order multistep DPM-Solver++ (midpoint), as diffusers' default
    ``DPMSolverMultistepScheduler``: first order on the first step (no history yet) and on
    the last, which lands on noise level zero."""

    def __init__(self, num_train_timesteps: int, beta_schedule: BetaSchedule,
                 prediction_type: PredictionType) -> None:
        super().__init__(num_train_timesteps, beta_schedule, prediction_type)
        # Noise-to-signal ratio of every training timestep; set_timesteps picks from them.
        self._train_sigmas = ((1 - self.alphas_cumprod) / self.alphas_cumprod) ** 0.5
        self.sigmas = self._train_sigmas
        self._reset()

    def _reset(self) -> None:
        self._previous_output: torch.Tensor | None = None
        self._step_index: int | None = None
        self._begin_index: int | None = None

    def set_timesteps(self, num_inference_steps: int,
                      device: torch.device | str | None = None) -> None:
        """Sample with ``num_inference_steps`` steps ("trailing" spacing) on ``device``."""
        timesteps = self.trailing_timesteps(num_inference_steps)
        # The noise levels of the timesteps, then zero: where the last step lands.
        self.sigmas = torch.cat([self._train_sigmas[torch.from_numpy(timesteps)],
                                 torch.zeros(1)])
        self.timesteps = torch.from_numpy(timesteps).to(device=device, dtype=torch.int64)
        self.num_inference_steps = len(timesteps)
        self._reset()

    def set_begin_index(self, begin_index: int = 0) -> None:
        """Start at ``timesteps[begin_index]`` (an edit): ``add_noise`` and the first step
        take their noise level from there."""
        self._begin_index = begin_index

    def _index_for_timestep(self, timestep: torch.Tensor) -> int:
        # diffusers' rule: the second match if the timestep repeats, the last step if absent.
        candidates = (self.timesteps == timestep.to(self.timesteps.device)).nonzero()
        if len(candidates) == 0:
            return len(self.timesteps) - 1
        return int(candidates[1 if len(candidates) > 1 else 0])

    def step(self, model_output: torch.Tensor, timestep: torch.Tensor, sample: torch.Tensor,
             generator: Generators = None) -> StepOutput:
        """One DPM-Solver++ step from ``timestep`` to the next noise level."""
        if self.num_inference_steps is None:
            raise ValueError("call set_timesteps before step")
        if self._step_index is None:
            self._step_index = (self._index_for_timestep(timestep) if self._begin_index is None
                                else self._begin_index)
        index = self._step_index
        alpha_s0, sigma_s0 = _alpha_sigma(self.sigmas[index])
        if self.prediction_type == "epsilon":
            clean = (sample - sigma_s0 * model_output) / alpha_s0
        else:
            clean = alpha_s0 * sample - sigma_s0 * model_output
        previous, self._previous_output = self._previous_output, clean
        alpha_t, sigma_t = _alpha_sigma(self.sigmas[index + 1])
        lambda_t = torch.log(alpha_t) - torch.log(sigma_t)
        lambda_s0 = torch.log(alpha_s0) - torch.log(sigma_s0)
        h = lambda_t - lambda_s0
        first_order = previous is None or index == len(self.timesteps) - 1
        x = sample.to(torch.float32)
        prev_sample = (sigma_t / sigma_s0) * x - (alpha_t * (torch.exp(-h) - 1.0)) * clean
        if not first_order:
            assert previous is not None
            alpha_s1, sigma_s1 = _alpha_sigma(self.sigmas[index - 1])
            lambda_s1 = torch.log(alpha_s1) - torch.log(sigma_s1)
            r0 = (lambda_s0 - lambda_s1) / h
            d1 = (1.0 / r0) * (clean - previous)
            prev_sample = prev_sample - 0.5 * (alpha_t * (torch.exp(-h) - 1.0)) * d1
        self._step_index = index + 1
        return StepOutput(prev_sample.to(model_output.dtype))

    def add_noise(self, original_samples: torch.Tensor, noise: torch.Tensor,
                  timesteps: torch.Tensor) -> torch.Tensor:
        """``original_samples`` noised to the noise level of ``timesteps`` in this schedule
        (of the begin index once :meth:`set_begin_index` was called)."""
        sigmas = self.sigmas.to(device=original_samples.device, dtype=original_samples.dtype)
        if self._begin_index is None:
            indices = [self._index_for_timestep(t) for t in timesteps]
        else:
            start = self._step_index if self._step_index is not None else self._begin_index
            indices = [start] * timesteps.shape[0]
        alpha, sigma = _alpha_sigma(_per_item(sigmas[indices], original_samples))
        return alpha * original_samples + sigma * noise
