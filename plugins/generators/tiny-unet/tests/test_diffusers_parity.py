"""tiny-unet's own UNet and samplers compute what diffusers' do.

The UNet and samplers are plain torch so that the generator starts without importing
diffusers; diffusers (installed with the sd plugin) is the reference they are checked against
here: the same weights give the same outputs, the same seed the same initial weights, and the
samplers walk the same trajectories.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from voxcore_tiny_unet import TinyUnetConfig
from voxcore_tiny_unet.generator import TinyUnetGenerator
from voxcore_tiny_unet.interop import diffusers_unet_config
from voxcore_tiny_unet.schedulers import build_sampling_scheduler, build_training_scheduler
from voxcore_tiny_unet.unet import TinyUNet, build_unet

from voxcore.plugin_api import Condition, masked_tokens, seeded_randn, stack_conditions

with warnings.catch_warnings():
    # diffusers 0.36 decorates an unrelated model with a CUDA autocast at import time.
    warnings.filterwarnings("ignore", message="User provided device_type of 'cuda'")
    from diffusers import (
        DDIMScheduler,
        DDPMScheduler,
        DPMSolverMultistepScheduler,
        UNet2DConditionModel,
    )

# diffusers' DPM-Solver calls np.array on a tensor the way numpy 2 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

TOLERANCE = {"atol": 1e-5, "rtol": 1e-5}
QUICKSTART = {"resolution": 16, "block_out_channels": [32, 64], "cross_attention_dim": 128,
              "pooled_dim": 128, "time_scale_shift": "scale_shift"}
#: Channels and resolution by number of levels: small, and the resolution halves cleanly.
LEVELS = {1: ([16], 8), 2: ([16, 32], 16), 3: ([16, 32, 32], 16)}


def _config(levels: int, layers: int, pooled: bool, shift: str) -> TinyUnetConfig:
    channels, resolution = LEVELS[levels]
    return TinyUnetConfig(resolution=resolution, block_out_channels=channels,
                          layers_per_block=layers, cross_attention_dim=24,
                          pooled_dim=12 if pooled else None, time_scale_shift=shift)


def _pair(config: TinyUnetConfig) -> tuple[TinyUNet, UNet2DConditionModel]:
    """Our UNet and diffusers' as ``build_unet`` used to make it, with the same weights."""
    ours = build_unet(config).eval()
    reference = UNet2DConditionModel(**diffusers_unet_config(config)).eval()
    reference.load_state_dict(ours.state_dict(), strict=True)
    return ours, reference


def _inputs(config: TinyUnetConfig, batch: int = 4, seed: int = 0) -> dict[str, Any]:
    """Inputs with padding: a full mask, two partial ones and an all-padding row."""
    rng = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([6, 3, 1, 0, 5, 2][:batch])
    mask = torch.arange(6)[None, :] < lengths[:, None]
    pooled = (None if config.pooled_dim is None
              else torch.randn(batch, config.pooled_dim, generator=rng))
    return {"sample": torch.randn(batch, 3, config.resolution, config.resolution, generator=rng),
            "timesteps": torch.tensor([0, 17, 500, 999, 250, 3][:batch]),
            "tokens": torch.randn(batch, 6, config.cross_attention_dim, generator=rng),
            "mask": mask, "pooled": pooled}


def _reference_forward(reference: UNet2DConditionModel, inputs: dict[str, Any]) -> torch.Tensor:
    output: torch.Tensor = reference(
        inputs["sample"], inputs["timesteps"], encoder_hidden_states=inputs["tokens"],
        encoder_attention_mask=inputs["mask"], class_labels=inputs["pooled"],
        return_dict=False)[0]
    return output


def _forward(ours: TinyUNet, inputs: dict[str, Any]) -> torch.Tensor:
    output: torch.Tensor = ours(inputs["sample"], inputs["timesteps"], inputs["tokens"],
                                inputs["mask"], inputs["pooled"])
    return output


# -- the UNet ----------------------------------------------------------------------------

VARIANTS = [(levels, layers, pooled, shift) for levels in (1, 2, 3) for layers in (1, 2)
            for pooled in (False, True) for shift in ("default", "scale_shift")]


@pytest.mark.parametrize(("levels", "layers", "pooled", "shift"), VARIANTS)
def test_same_weights_give_the_same_output(levels: int, layers: int, pooled: bool,
                                           shift: str) -> None:
    config = _config(levels, layers, pooled, shift)
    ours, reference = _pair(config)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in reference.state_dict().items()}
    inputs = _inputs(config)
    with torch.no_grad():
        torch.testing.assert_close(_forward(ours, inputs), _reference_forward(reference, inputs),
                                   **TOLERANCE)


def test_quickstart_unet_matches_and_starts_from_the_same_seeded_weights() -> None:
    config = TinyUnetConfig(**QUICKSTART)
    torch.manual_seed(3)
    ours = build_unet(config)
    torch.manual_seed(3)
    reference = UNet2DConditionModel(**diffusers_unet_config(config))
    theirs = reference.state_dict()
    for key, value in ours.state_dict().items():
        assert torch.equal(value, theirs[key]), f"{key} starts from other random weights"
    inputs = _inputs(config, batch=6)
    with torch.no_grad():
        torch.testing.assert_close(_forward(ours.eval(), inputs),
                                   _reference_forward(reference.eval(), inputs), **TOLERANCE)


def test_a_row_of_padding_only_attends_evenly_like_diffusers() -> None:
    """diffusers turns the mask into a -10000 bias, so an all-padding row is not NaN."""
    config = _config(2, 1, False, "default")
    ours, reference = _pair(config)
    inputs = _inputs(config)
    inputs["mask"] = torch.zeros_like(inputs["mask"])
    with torch.no_grad():
        output = _forward(ours, inputs)
        assert torch.isfinite(output).all()
        torch.testing.assert_close(output, _reference_forward(reference, inputs), **TOLERANCE)


def test_gradients_match() -> None:
    config = TinyUnetConfig(**QUICKSTART)
    ours, reference = _pair(config)
    inputs = _inputs(config)
    for model, forward in ((ours, _forward), (reference, _reference_forward)):
        model.train()
        forward(model, inputs).square().mean().backward()
    grads = {n: p.grad for n, p in reference.named_parameters()}
    for name, parameter in ours.named_parameters():
        assert parameter.grad is not None, name
        torch.testing.assert_close(parameter.grad, grads[name], atol=1e-6, rtol=1e-4,
                                   msg=f"gradient of {name}")


def test_pooled_vector_is_required_when_configured() -> None:
    config = _config(2, 1, True, "default")
    inputs = {**_inputs(config), "pooled": None}
    with pytest.raises(ValueError, match="pooled"):
        _forward(build_unet(config), inputs)


# -- the schedulers ----------------------------------------------------------------------

def _reference_sampler(name: str, config: TinyUnetConfig) -> Any:
    """The diffusers scheduler tiny-unet built for ``name`` before it had its own."""
    schedule: dict[str, Any] = {"num_train_timesteps": config.num_train_timesteps,
                                "beta_schedule": config.beta_schedule,
                                "prediction_type": config.prediction_type,
                                "timestep_spacing": "trailing"}
    if name == "ddim":
        return DDIMScheduler(**schedule, clip_sample=True, set_alpha_to_one=True)
    if name == "dpm-solver++":
        return DPMSolverMultistepScheduler(**schedule, algorithm_type="dpmsolver++",
                                           solver_order=2)
    return DDPMScheduler(**schedule, clip_sample=True)


def _toy_model(sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
    """A deterministic stand-in for the UNet whose output depends on sample and timestep."""
    return torch.tanh(0.8 * sample + torch.cos(timestep.float() / 150.0))


def _trajectory(sampler: Any, steps: int, begin: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(timesteps, final sample)`` of sampling, as the generator does: from noise, or (an
    edit) from a noised image ``begin`` steps into the schedule."""
    sampler.set_timesteps(steps)
    timesteps = sampler.timesteps[begin:]
    generators = [torch.Generator().manual_seed(10 + i) for i in range(3)]
    sample = seeded_randn((3, 3, 8, 8), generators, torch.device("cpu"), torch.float32)
    if begin:
        if hasattr(sampler, "set_begin_index"):
            sampler.set_begin_index(begin)
        clean = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(1)) * 2 - 1
        sample = sampler.add_noise(clean, sample, timesteps[:1].expand(3))
    sample = sample * sampler.init_noise_sigma
    for t in timesteps:
        prediction = _toy_model(sampler.scale_model_input(sample, t), t)
        sample = sampler.step(prediction, t, sample, generator=generators).prev_sample
    return sampler.timesteps, sample


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
@pytest.mark.parametrize("steps", [1, 2, 5, 20])
@pytest.mark.parametrize("name", ["ddim", "dpm-solver++", "ddpm"])
def test_sampler_trajectories_match(name: str, steps: int, prediction_type: str) -> None:
    config = TinyUnetConfig(prediction_type=prediction_type)
    for begin in sorted({0, steps // 2, steps - 1}):
        ours, reference = build_sampling_scheduler(name, config), _reference_sampler(name, config)
        assert (ours.order, ours.init_noise_sigma) == (reference.order, reference.init_noise_sigma)
        our_timesteps, our_sample = _trajectory(ours, steps, begin)
        their_timesteps, their_sample = _trajectory(reference, steps, begin)
        assert torch.equal(our_timesteps, their_timesteps)
        torch.testing.assert_close(our_sample, their_sample, **TOLERANCE,
                                   msg=f"{name}, {steps} steps from step {begin}")


@pytest.mark.slow
@pytest.mark.parametrize("beta_schedule", ["linear", "scaled_linear", "squaredcos_cap_v2"])
@pytest.mark.parametrize("name", ["ddim", "dpm-solver++", "ddpm"])
def test_sampler_trajectories_match_for_every_schedule_and_step_count(
    name: str, beta_schedule: str
) -> None:
    for prediction_type in ("epsilon", "v_prediction"):
        config = TinyUnetConfig(beta_schedule=beta_schedule, prediction_type=prediction_type)
        for steps in (1, 2, 3, 7, 15, 50, 999):
            for begin in sorted({0, steps // 3}):
                ours, reference = (build_sampling_scheduler(name, config),
                                   _reference_sampler(name, config))
                our_timesteps, our_sample = _trajectory(ours, steps, begin)
                their_timesteps, their_sample = _trajectory(reference, steps, begin)
                assert torch.equal(our_timesteps, their_timesteps)
                torch.testing.assert_close(our_sample, their_sample, **TOLERANCE,
                                           msg=f"{prediction_type}, {steps} from {begin}")


@pytest.mark.parametrize("beta_schedule", ["linear", "scaled_linear", "squaredcos_cap_v2"])
def test_training_noise_matches(beta_schedule: str) -> None:
    config = TinyUnetConfig(beta_schedule=beta_schedule)
    ours = build_training_scheduler(config)
    reference = DDPMScheduler(num_train_timesteps=1000, beta_schedule=beta_schedule)
    assert torch.equal(ours.alphas_cumprod, reference.alphas_cumprod)
    clean, noise = torch.randn(5, 3, 8, 8), torch.randn(5, 3, 8, 8)
    timesteps = torch.tensor([0, 1, 321, 998, 999])
    torch.testing.assert_close(ours.add_noise(clean, noise, timesteps),
                               reference.add_noise(clean, noise, timesteps), **TOLERANCE)
    torch.testing.assert_close(ours.get_velocity(clean, noise, timesteps),
                               reference.get_velocity(clean, noise, timesteps), **TOLERANCE)


def test_too_many_steps_are_refused_like_diffusers() -> None:
    for name in ("ddim", "ddpm"):
        with pytest.raises(ValueError, match="cannot be larger"):
            build_sampling_scheduler(name, TinyUnetConfig()).set_timesteps(1001)


# -- the generator end to end, and its export ----------------------------------------------

@pytest.mark.parametrize("scheduler", ["ddim", "dpm-solver++", "ddpm"])
def test_generate_and_edit_match_the_diffusers_pipeline(scheduler: str) -> None:
    """The generator's images equal those of its former diffusers-based sampling loop."""
    torch.manual_seed(0)
    config = TinyUnetConfig(**QUICKSTART)
    generator = TinyUnetGenerator(config).eval()
    unet = UNet2DConditionModel(**diffusers_unet_config(config)).eval()
    unet.load_state_dict(generator.unet.state_dict())
    condition = Condition(torch.randn(2, 4, 128), torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0]]).bool(),
                          torch.randn(2, 128))
    start = torch.rand(2, 3, 16, 16)

    def reference(edit: bool) -> torch.Tensor:
        """tiny-unet's generate / edit as they were written on diffusers."""
        sampler = _reference_sampler(scheduler, config)
        generators = [torch.Generator().manual_seed(5 + i) for i in range(2)]
        sampler.set_timesteps(6)
        timesteps = sampler.timesteps
        noise = seeded_randn((2, 3, 16, 16), generators, torch.device("cpu"), torch.float32)
        if edit:
            timesteps = timesteps[3:]
            if hasattr(sampler, "set_begin_index"):
                sampler.set_begin_index(3)
            sample = sampler.add_noise(start * 2 - 1, noise, timesteps[:1].expand(2))
        else:
            sample = noise * sampler.init_noise_sigma
        both = stack_conditions(condition, generator.null_condition(2))
        for t in timesteps:
            inputs = sampler.scale_model_input(torch.cat([sample, sample]), t)
            prediction = unet(inputs, t.expand(4), encoder_hidden_states=masked_tokens(
                both, torch.float32), encoder_attention_mask=both.mask,
                class_labels=both.pooled, return_dict=False)[0]
            conditional, unconditional = prediction.chunk(2)
            prediction = unconditional + 2.5 * (conditional - unconditional)
            sample = sampler.step(prediction, t, sample, generator=generators).prev_sample
        return ((sample + 1) / 2).clamp(0, 1)

    options: dict[str, Any] = {"num_inference_steps": 6, "guidance_scale": 2.5,
                               "scheduler": scheduler}
    with torch.no_grad():
        generated = generator.generate(
            condition, generator=[torch.Generator().manual_seed(5 + i) for i in range(2)],
            **options)
        torch.testing.assert_close(generated, reference(edit=False), **TOLERANCE)
        edited = generator.edit(
            start, condition, strength=0.5,
            generator=[torch.Generator().manual_seed(5 + i) for i in range(2)], **options)
        torch.testing.assert_close(edited, reference(edit=True), **TOLERANCE)


def test_exported_unet_folder_loads_in_diffusers(tmp_path: Path) -> None:
    config = TinyUnetConfig(**QUICKSTART)
    generator = TinyUnetGenerator(config)
    state = {k: v.detach().clone() for k, v in generator.state_dict().items()}
    left = generator.save_interop(tmp_path, state)
    assert not any(key.startswith("unet.") for key in left) and "null_tokens" in left
    reference = UNet2DConditionModel.from_pretrained(tmp_path / "unet", use_safetensors=True)
    inputs = _inputs(config)
    with torch.no_grad():
        torch.testing.assert_close(_forward(generator.unet.eval(), inputs),
                                   _reference_forward(reference.eval(), inputs), **TOLERANCE)
