"""tiny-unet: the generator conformance suite, its config, its registration, and learning."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import ValidationError
from voxcore_tiny_unet import TinyUnetConfig
from voxcore_tiny_unet.generator import TinyUnetGenerator

from voxcore.plugin_api import Condition, get_registry
from voxcore.testing import (
    EditingSuite,
    GeneratorSuite,
    InteropSuite,
    SchedulersSuite,
    reset_plugins,
)

TINY = {"resolution": 16, "block_out_channels": [16, 32], "cross_attention_dim": 32}


class TestTinyUnet(EditingSuite, SchedulersSuite):
    schedulers = ("ddim", "dpm-solver++", "ddpm")

    def build_generator(self) -> TinyUnetGenerator:
        return TinyUnetGenerator(TinyUnetConfig(**TINY, null_length=2))


class TestTinyUnetPooledVPrediction(InteropSuite):
    def build_generator(self) -> TinyUnetGenerator:
        return TinyUnetGenerator(TinyUnetConfig(**TINY, pooled_dim=12,
                                                prediction_type="v_prediction", snr_gamma=5.0))


class TestTinyUnetPooledScaleShift(GeneratorSuite):
    def build_generator(self) -> TinyUnetGenerator:
        return TinyUnetGenerator(TinyUnetConfig(**TINY, pooled_dim=12,
                                                time_scale_shift="scale_shift"))


def test_scale_shift_reaches_every_resnet() -> None:
    generator = TinyUnetGenerator(TinyUnetConfig(**TINY, time_scale_shift="scale_shift"))
    resnets = [m for m in generator.unet.modules() if type(m).__name__ == "ResnetBlock2D"]
    assert resnets and {r.time_emb_proj.out_features for r in resnets} == {32, 64}
    assert {r.time_embedding_norm for r in resnets} == {"scale_shift"}


def _condition(generator: TinyUnetGenerator, batch: int = 2) -> Condition:
    return Condition(torch.randn(batch, 4, generator.cross_attention_dim),
                     torch.ones(batch, 4, dtype=torch.bool))


# -- config ------------------------------------------------------------------------------

def test_default_config() -> None:
    config = TinyUnetConfig()
    assert (config.resolution, config.block_out_channels, config.cross_attention_dim) == (
        32, [32, 64, 64], 128)
    assert config.pooled_dim is None and config.snr_gamma is None


def test_config_rejects_unknown_key() -> None:
    with pytest.raises(ValidationError, match="blocks_out_channels"):
        TinyUnetConfig.model_validate({"blocks_out_channels": [32]})


@pytest.mark.parametrize(("fields", "message"), [
    ({"block_out_channels": []}, "at least one level"),
    ({"block_out_channels": [32, -64]}, "must be positive"),
    ({"block_out_channels": [32, 60]}, "multiple of attention_head_dim=8"),
    ({"resolution": 30}, "divisible by 4"),
    ({"beta_schedule": "cosine"}, "squaredcos_cap_v2"),
    ({"prediction_type": "sample"}, "v_prediction"),
    ({"snr_gamma": 0.0}, "greater than 0"),
    ({"null_length": 0}, "greater than 0"),
])
def test_config_rejects_invalid_values(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TinyUnetConfig.model_validate(fields)


def test_attention_head_dim_is_channels_per_head() -> None:
    generator = TinyUnetGenerator(TinyUnetConfig(**TINY, attention_head_dim=4))
    attentions = [m for name, m in generator.unet.named_modules() if name.endswith("attn2")]
    assert attentions, "the UNet has no cross-attention"
    assert {m.inner_dim // m.heads for m in attentions} == {4}


# -- registration ------------------------------------------------------------------------

def test_registered_through_entry_point() -> None:
    reset_plugins()
    entry = get_registry("generator").get("tiny-unet")
    assert entry.distribution == "voxcore-tiny-unet"
    assert entry.config_model is TinyUnetConfig
    generator = entry.build(TINY)
    assert isinstance(generator, TinyUnetGenerator)
    assert (generator.resolution, generator.cross_attention_dim) == (16, 32)


def test_plugin_module_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = ("import sys, voxcore_tiny_unet; "
            "bad = [m for m in ('torch', 'diffusers') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_generator_does_not_import_diffusers() -> None:
    """diffusers takes seconds to import; building and sampling must not need it."""
    import subprocess
    import sys

    code = ("import sys, torch\n"
            "from voxcore.plugin_api import Condition\n"
            "from voxcore_tiny_unet import TinyUnetConfig\n"
            "from voxcore_tiny_unet.generator import TinyUnetGenerator\n"
            "g = TinyUnetGenerator(TinyUnetConfig(resolution=8, block_out_channels=[16, 32],"
            " cross_attention_dim=8, pooled_dim=4))\n"
            "c = Condition(torch.randn(1, 2, 8), torch.ones(1, 2, dtype=torch.bool),"
            " torch.randn(1, 4))\n"
            "for s in g.schedulers:\n"
            "    g.generate(c, num_inference_steps=2, guidance_scale=2.0, scheduler=s)\n"
            "bad = [m for m in ('diffusers', 'transformers', 'scipy') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_folders_exported_without_a_unet_folder_still_load(tmp_path: Path) -> None:
    """Folders exported before tiny-unet wrote a diffusers unet/ folder keep the UNet in
    voxcore's own generator.safetensors: load_interop then has nothing to add."""
    generator = TinyUnetGenerator(TinyUnetConfig(**TINY))
    assert generator.load_interop(tmp_path) == {}


# -- behaviour beyond the suite ----------------------------------------------------------

def test_unknown_scheduler_lists_valid_ones() -> None:
    generator = TinyUnetGenerator(TinyUnetConfig(**TINY))
    with pytest.raises(ValueError, match="'ddim', 'dpm-solver\\+\\+', 'ddpm'"):
        generator.generate(_condition(generator), num_inference_steps=2, guidance_scale=1.0,
                           scheduler="euler")


def test_rejects_mismatched_inputs() -> None:
    generator = TinyUnetGenerator(TinyUnetConfig(**TINY))
    images = torch.rand(2, 3, 16, 16)
    with pytest.raises(ValueError, match="condition tokens"):
        generator.training_loss(images, Condition(torch.randn(2, 4, 8),
                                                  torch.ones(2, 4, dtype=torch.bool)))
    with pytest.raises(ValueError, match="images of shape"):
        generator.training_loss(torch.rand(2, 3, 32, 32), _condition(generator))
    with pytest.raises(ValueError, match="no pooled input"):
        generator.training_loss(images, Condition(torch.randn(2, 4, 32),
                                                  torch.ones(2, 4, dtype=torch.bool),
                                                  torch.randn(2, 5)))
    empty = Condition(torch.randn(2, 4, 32), torch.tensor([[True] * 4, [False] * 4]))
    with pytest.raises(ValueError, match="at least one valid"):
        generator.training_loss(images, empty)


def test_min_snr_weighting_changes_the_loss() -> None:
    torch.manual_seed(0)
    plain = TinyUnetGenerator(TinyUnetConfig(**TINY))
    weighted = TinyUnetGenerator(TinyUnetConfig(**TINY, snr_gamma=1.0))
    weighted.load_state_dict(plain.state_dict())
    images, condition = torch.rand(2, 3, 16, 16), _condition(plain)

    def loss(g: TinyUnetGenerator) -> float:
        return g.training_loss(images, condition, generator=torch.Generator().manual_seed(0)).item()

    # Weights min(snr, gamma) / snr are at most 1 for epsilon prediction.
    assert 0.0 < loss(weighted) < loss(plain)


COLOURS = torch.tensor([[0.9, 0.1, 0.1], [0.1, 0.1, 0.9]])  # red, blue


@dataclass
class Trained:
    generator: TinyUnetGenerator
    condition: Condition
    losses: list[float]


@pytest.fixture(scope="module")
def two_colours() -> Trained:
    """A tiny-unet trained for 100 Adam steps to map two conditions to two solid colours.

    v-prediction: with epsilon prediction this tiny model needs far more steps before its
    samples (not its loss) get there, because the first sampling steps on a cosine schedule
    magnify its small noise-prediction errors.
    """
    torch.manual_seed(0)
    generator = TinyUnetGenerator(TinyUnetConfig(**TINY, prediction_type="v_prediction"))
    condition = Condition(torch.randn(2, 3, 32), torch.tensor([[True] * 3, [True, True, False]]))
    train_condition = Condition(condition.tokens.repeat(2, 1, 1), condition.mask.repeat(2, 1))
    images = COLOURS[:, :, None, None].expand(2, 3, 16, 16).repeat(2, 1, 1, 1)
    optimizer = torch.optim.Adam(generator.parameters(), lr=3e-3)
    rng = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(100):
        loss = generator.training_loss(images, train_condition, generator=rng)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return Trained(generator, condition, losses)


def test_training_drives_loss_down(two_colours: Trained) -> None:
    first, last = sum(two_colours.losses[:10]) / 10, sum(two_colours.losses[-10:]) / 10
    assert last < 0.5 * first, f"loss fell only from {first:.3f} to {last:.3f}"


@pytest.mark.parametrize("scheduler", ["ddim", "dpm-solver++"])
def test_samples_take_their_conditions_colour(two_colours: Trained, scheduler: str) -> None:
    samples = two_colours.generator.generate(
        two_colours.condition, num_inference_steps=8, guidance_scale=1.0, scheduler=scheduler,
        generator=torch.Generator().manual_seed(1))
    mean = samples.mean(dim=(2, 3))
    distance = torch.cdist(mean, COLOURS)  # [sample, colour]
    assert distance[0, 0] < distance[0, 1] and distance[1, 1] < distance[1, 0], (
        f"mean colours of the samples {mean.tolist()} are not closest to their own targets "
        f"{COLOURS.tolist()}")


@pytest.mark.parametrize("scheduler", ["ddim", "dpm-solver++"])
def test_edit_keeps_the_image_at_low_strength_and_follows_the_condition_at_high(
    two_colours: Trained, scheduler: str
) -> None:
    """SDEdit: start from the *other* condition's colour and redraw under this one."""
    start = COLOURS.flip(0)[:, :, None, None].expand(2, 3, 16, 16)

    def edited(strength: float) -> torch.Tensor:
        images = two_colours.generator.edit(
            start, two_colours.condition, strength=strength, num_inference_steps=20,
            guidance_scale=1.0, scheduler=scheduler, generator=torch.Generator().manual_seed(1))
        assert images.shape == (2, 3, 16, 16)
        return torch.cdist(images.mean(dim=(2, 3)), COLOURS)  # [sample, colour]

    kept, redrawn = edited(0.05), edited(1.0)
    assert kept[0, 1] < kept[0, 0] and kept[1, 0] < kept[1, 1], (
        "at strength 0.05 the edit moved away from the image it started from")
    assert redrawn[0, 0] < redrawn[0, 1] and redrawn[1, 1] < redrawn[1, 0], (
        "at strength 1.0 the edit did not take its condition's colour")


def test_edit_is_seeded_and_checks_its_inputs(two_colours: Trained) -> None:
    generator, condition = two_colours.generator, two_colours.condition
    start = torch.rand(2, 3, 16, 16)

    def run(seed: int, **overrides: Any) -> torch.Tensor:
        options: dict[str, Any] = {"strength": 0.5, "num_inference_steps": 4,
                                   "guidance_scale": 2.0, "scheduler": "ddim", **overrides}
        return generator.edit(start, condition, generator=torch.Generator().manual_seed(seed),
                              **options)

    assert torch.equal(run(0), run(0)) and not torch.equal(run(0), run(1))
    with pytest.raises(ValueError, match=r"strength must be in \(0, 1\], got 0"):
        run(0, strength=0.0)
    with pytest.raises(ValueError, match=r"edits images of shape \(2, 3, 16, 16\)"):
        generator.edit(torch.rand(2, 3, 8, 8), condition, strength=0.5, num_inference_steps=2,
                       guidance_scale=1.0, scheduler="ddim")
