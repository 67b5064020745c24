"""Training and sampling speed of the paper's recipes at full size, ready for a GPU machine.

Run on a GPU (no downloads: every model is built from its published architecture with random
weights, which cost the same to run as trained ones)::

    uv run python benchmarks/gpu_train.py --json gpu-train.json

For each of the paper's recipes (``recipes/paper/sonar-sib-sd15-frozen.yaml``, ``-lora``,
``-full`` and ``sonar-sib-sdxl-frozen.yaml``), at fp16 and bf16 mixed precision and with and
without gradient checkpointing, it times voxcore's training step as ``voxcore train`` makes it
(SONAR-width speech features of 4 s -> SIB -> the generator's diffusion loss on cached VAE
latents, under accelerate's autocast, backward, gradient clipping, AdamW over the trainable
parameters) at the recipe's per-process batch size, and reports steps per second, samples per
second and peak GPU memory; then images per second of sampling at 25 steps (the recipe's
scheduler, classifier-free guidance, VAE decode) for each generator. Attention runs through
PyTorch's scaled-dot-product attention (diffusers' ``AttnProcessor2_0``, named in the table).
``--channels-last`` and ``--compile`` add rows with the UNet in channels-last memory format
and under ``torch.compile``, to measure whether either pays off before it becomes a recipe
option. A case that runs out of memory is reported as such and the rest go on.

It prints one table and, with ``--json``, writes every figure. On a CPU, ``--tiny`` runs the
same code with the tiny random-weight SD1.5/SDXL configs of the plugins' tests, a few steps
each (``tests/test_gpu_benchmark.py`` runs it so it cannot rot); its figures say nothing
about a GPU.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

# diffusers asks autocast for "cuda" on import; harmless on a CPU.
warnings.filterwarnings("ignore", message="User provided device_type of 'cuda'")

REPO = Path(__file__).parents[1]
#: The paper's recipes this measures, by short name.
RECIPES = {
    "sd15-frozen": "recipes/paper/sonar-sib-sd15-frozen.yaml",
    "sd15-lora": "recipes/paper/sonar-sib-sd15-lora.yaml",
    "sd15-full": "recipes/paper/sonar-sib-sd15-full.yaml",
    "sdxl-frozen": "recipes/paper/sonar-sib-sdxl-frozen.yaml",
}
#: SONAR's speech frames: 1024 wide at 50 per second; 4 s is about a SpokenCOCO utterance.
SONAR_WIDTH, SONAR_RATE, SECONDS = 1024, 50.0, 4.0
PRECISIONS = {"fp16": torch.float16, "bf16": torch.bfloat16}


@dataclass
class Case:
    """One measured configuration and what it gave."""

    recipe: str
    precision: str
    checkpointing: bool
    batch_size: int
    variant: str = "plain"
    trainable_parameters: int = 0
    steps_per_second: float | None = None
    samples_per_second: float | None = None
    peak_memory_gib: float | None = None
    attention: str = ""
    error: str = ""
    step_seconds: list[float] = field(default_factory=list)


@dataclass
class Sampling:
    """Sampling speed of one generator at one precision."""

    generator: str
    precision: str
    batch_size: int
    steps: int
    images_per_second: float | None = None
    peak_memory_gib: float | None = None
    error: str = ""


class TrainStep(nn.Module):
    """Bottleneck and generator as ``VoxModel.forward`` joins them for a training step (the
    speech encoder is frozen and its features cached, so it takes no part)."""

    def __init__(self, bottleneck: nn.Module, generator: nn.Module) -> None:
        super().__init__()
        self.bottleneck, self.generator = bottleneck, generator

    def forward(self, encoded: torch.Tensor, features: Any, drop: torch.Tensor,
                draws: torch.Generator) -> torch.Tensor:
        condition = self.bottleneck(features)
        loss: torch.Tensor = self.generator.training_loss_from_encoded(
            encoded, condition, drop=drop, generator=draws)
        return loss


def build_parts(recipe: str, precision: str, tiny: bool, device: torch.device
                ) -> tuple[Any, nn.Module, nn.Module]:
    """The recipe (resolved), its SIB and its generator with random weights on ``device``."""
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from voxcore_sd import Sd15Config, SdxlConfig, testing
    from voxcore_sd.architectures import SD15_UNET, SD_VAE, SDXL_UNET
    from voxcore_sd.generator import StableDiffusionGenerator
    from voxcore_sib import SibConfig
    from voxcore_sib.sib import SpeechInformationBottleneck

    from voxcore.recipe import load_recipe

    resolved = load_recipe(REPO / RECIPES[recipe])
    section = resolved.recipe.generator
    xl = section.name == "sdxl"
    frozen_dtype = {"fp16": "float16", "bf16": "bfloat16"}[precision]
    overrides: dict[str, Any] = {"frozen_dtype": frozen_dtype}
    if tiny:
        unet_config, vae_config = (testing.SDXL_UNET if xl else testing.SD15_UNET), testing.VAE
        overrides["resolution"] = testing.RESOLUTION
    else:
        unet_config, vae_config = (SDXL_UNET if xl else SD15_UNET), SD_VAE
    config = (SdxlConfig if xl else Sd15Config).model_validate(
        {**section.config, **overrides})
    with torch.device(device):
        generator = StableDiffusionGenerator(
            config, UNet2DConditionModel(**unet_config), AutoencoderKL(**vae_config),
            DDPMScheduler(**testing.SCHEDULE), xl=xl)  # SD's published noise schedule
        bottleneck_config = resolved.recipe.bottleneck.config
        width = 32 if tiny else SONAR_WIDTH
        sib = SpeechInformationBottleneck(SibConfig.model_validate({
            **bottleneck_config, "input_dim": width,
            "output_dim": generator.cross_attention_dim,
            "pooled_dim": generator.pooled_dim}))
    return resolved, sib, generator


def speech_features(batch: int, tiny: bool, device: torch.device) -> Any:
    """Random SONAR-width features of ``SECONDS`` with their mask."""
    from voxcore.interfaces import SpeechFeatures

    frames, width = (12, 32) if tiny else (int(SECONDS * SONAR_RATE), SONAR_WIDTH)
    features = torch.randn(batch, frames, width, device=device)
    mask = torch.ones(batch, frames, dtype=torch.bool, device=device)
    return SpeechFeatures(features, mask, SONAR_RATE)


def attention_name(generator: nn.Module) -> str:
    processors = generator.unet.attn_processors
    return ", ".join(sorted({type(p).__name__ for p in processors.values()}))


def peak_gib(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated(device) / 2**30


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_training(case: Case, tiny: bool, steps: int, warmup: int,
                     device: torch.device) -> None:
    """Fill ``case`` with the timing of ``steps`` training steps (after ``warmup``)."""
    from accelerate import Accelerator

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    resolved, sib, generator = build_parts(case.recipe, case.precision, tiny, device)
    train = resolved.recipe.train
    if case.checkpointing:
        generator.enable_gradient_checkpointing()  # type: ignore[operator]
    if case.variant == "channels-last":
        generator.unet.to(memory_format=torch.channels_last)  # type: ignore[union-attr]
    model = TrainStep(sib, generator).train()
    if case.variant == "compile":
        generator.unet = torch.compile(generator.unet)  # type: ignore[union-attr,assignment]
    trainable = [p for p in model.parameters() if p.requires_grad]
    case.trainable_parameters = sum(p.numel() for p in trainable)
    case.attention = attention_name(generator)
    from accelerate.state import AcceleratorState

    # accelerate keeps one state per process; each case sets its own mixed precision.
    AcceleratorState._reset_state(reset_partial_state=True)
    accelerator = Accelerator(cpu=device.type == "cpu", mixed_precision=case.precision)
    optimizer = torch.optim.AdamW(trainable, lr=train.lr, betas=train.adam_betas,
                                  weight_decay=train.weight_decay)
    wrapped, optimizer = accelerator.prepare(model, optimizer)
    batch = case.batch_size
    images = torch.rand(batch, 3, generator.resolution, generator.resolution,  # type: ignore[arg-type]
                        device=device)
    encoded = generator.encode_for_cache(images)  # type: ignore[operator]
    features = speech_features(batch, tiny, device)
    for step in range(warmup + steps):
        draws = torch.Generator().manual_seed(step)
        drop = (torch.rand(batch, generator=draws) < train.cond_dropout).to(device)
        synchronize(device)
        started = time.perf_counter()
        with accelerator.autocast():
            loss = wrapped(encoded, features, drop, draws)
        accelerator.backward(loss)
        if train.max_grad_norm is not None:
            accelerator.clip_grad_norm_(trainable, train.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        synchronize(device)
        if step >= warmup:
            case.step_seconds.append(time.perf_counter() - started)
    median = statistics.median(case.step_seconds)
    case.steps_per_second = 1 / median
    case.samples_per_second = batch / median
    case.peak_memory_gib = peak_gib(device)


def measure_sampling(result: Sampling, recipe: str, tiny: bool, rounds: int,
                     device: torch.device) -> None:
    """Fill ``result`` with images per second of sampling ``result.steps`` steps."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    resolved, sib, generator = build_parts(recipe, result.precision, tiny, device)
    sib.eval()
    generator.eval()
    settings = resolved.recipe.generate
    features = speech_features(result.batch_size, tiny, device)
    dtype = PRECISIONS[result.precision]
    seconds = []
    for round_number in range(rounds + 1):
        synchronize(device)
        started = time.perf_counter()
        with torch.no_grad(), torch.autocast(device.type, dtype=dtype):
            condition = sib(features)
            generator.generate(  # type: ignore[operator]
                condition, num_inference_steps=result.steps,
                guidance_scale=settings.guidance_scale, scheduler=settings.scheduler,
                generator=[torch.Generator().manual_seed(i) for i in range(result.batch_size)])
        synchronize(device)
        if round_number:  # the first round warms up kernels and allocators
            seconds.append(time.perf_counter() - started)
    result.images_per_second = result.batch_size / statistics.median(seconds)
    result.peak_memory_gib = peak_gib(device)


def run_safely(what: Any, target: Any, *args: Any) -> None:
    """Run one measurement; out of memory (or another failure) is recorded, not raised."""
    try:
        what(target, *args)
    except torch.cuda.OutOfMemoryError:
        target.error = "out of memory"
    except RuntimeError as error:
        target.error = f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
    finally:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true",
                        help="tiny configs on any device (the CPU test); figures mean nothing")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES))
    parser.add_argument("--precisions", nargs="+", choices=list(PRECISIONS),
                        default=list(PRECISIONS))
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per case")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--sampling-steps", type=int, default=25)
    parser.add_argument("--sampling-rounds", type=int, default=2)
    parser.add_argument("--channels-last", action="store_true", help="add channels-last rows")
    parser.add_argument("--compile", action="store_true", help="add torch.compile rows")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    device = torch.device(args.device)
    variants = ["plain"] + ["channels-last"] * args.channels_last + ["compile"] * args.compile

    from voxcore.recipe import load_recipe

    cases = []
    for recipe in args.recipes:
        batch = load_recipe(REPO / RECIPES[recipe]).recipe.train.batch_size
        for precision in args.precisions:
            for checkpointing in (False, True):
                for variant in variants:
                    case = Case(recipe, precision, checkpointing, 2 if args.tiny else batch,
                                variant)
                    run_safely(measure_training, case, args.tiny, args.steps, args.warmup,
                               device)
                    cases.append(case)
    samplings = []
    for recipe in dict.fromkeys(r.replace("-lora", "-frozen").replace("-full", "-frozen")
                                for r in args.recipes):
        settings = load_recipe(REPO / RECIPES[recipe]).recipe.generate
        for precision in args.precisions:
            result = Sampling(recipe.split("-")[0], precision,
                              2 if args.tiny else settings.batch_size, args.sampling_steps)
            run_safely(measure_sampling, result, recipe, args.tiny, args.sampling_rounds,
                       device)
            samplings.append(result)

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(f"device: {device} ({name or 'cpu'}), torch {torch.__version__}"
          f"{' (tiny configs: figures say nothing about full size)' if args.tiny else ''}")
    print(f"{'recipe':12s} {'prec':4s} {'ckpt':4s} {'variant':13s} {'batch':>5s} "
          f"{'trainable M':>11s} {'steps/s':>8s} {'samples/s':>9s} {'peak GiB':>8s}  attention")
    for c in cases:
        print(f"{c.recipe:12s} {c.precision:4s} {'on' if c.checkpointing else 'off':4s} "
              f"{c.variant:13s} {c.batch_size:5d} {c.trainable_parameters / 1e6:11.1f} "
              f"{fmt(c.steps_per_second, 3):>8s} {fmt(c.samples_per_second):>9s} "
              f"{fmt(c.peak_memory_gib):>8s}  {c.error or c.attention}")
    print(f"{'generator':12s} {'prec':4s} {'batch':>5s} {'steps':>5s} {'images/s':>9s} "
          f"{'peak GiB':>8s}")
    for s in samplings:
        print(f"{s.generator:12s} {s.precision:4s} {s.batch_size:5d} {s.steps:5d} "
              f"{fmt(s.images_per_second, 3):>9s} {fmt(s.peak_memory_gib):>8s}  {s.error}")
    if args.json:
        args.json.write_text(json.dumps({
            "device": str(device), "device_name": name, "torch": torch.__version__,
            "tiny": args.tiny, "training": [asdict(c) for c in cases],
            "sampling": [asdict(s) for s in samplings]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
