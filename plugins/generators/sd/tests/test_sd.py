"""Tests of the sd15 and sdxl generators on tiny random-weight UNets and VAEs.

Full-size architectures are checked on the ``meta`` device against the published sizes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
from pydantic import ValidationError
from support import toy_site, write_toy_data
from voxcore_sd import Sd15Config, SdxlConfig
from voxcore_sd.architectures import SD15_UNET, SD_VAE, SDXL_UNET
from voxcore_sd.generator import StableDiffusionGenerator, load_sd15, load_sdxl
from voxcore_sd.testing import RESOLUTION, save_tiny_checkpoint, tiny_parts

from voxcore.plugin_api import (
    Condition,
    ImageGenerator,
    PretrainedNotFoundError,
    UserError,
    get_registry,
)
from voxcore.testing import (
    EditingSuite,
    GeneratorSuite,
    GradientCheckpointingSuite,
    InteropSuite,
    LatentCacheSuite,
    SchedulersSuite,
)


def tiny_generator(xl: bool = False, vae_fingerprint: str = "tiny-vae",
                   **settings: Any) -> StableDiffusionGenerator:
    """A tiny generator from in-memory parts (weights drawn from torch's global seed)."""
    unet, vae, scheduler = tiny_parts(xl, seed=int(torch.randint(0, 2**31, ()).item()),
                                      prediction_type=settings.pop("prediction_type", "epsilon"))
    model_config = (SdxlConfig if xl else Sd15Config)(resolution=RESOLUTION, **settings)
    return StableDiffusionGenerator(model_config, unet, vae, scheduler, xl=xl,
                                    vae_fingerprint=vae_fingerprint)


class TestSd15Frozen(EditingSuite, LatentCacheSuite, SchedulersSuite):
    schedulers = ("ddim", "dpm-solver++", "euler", "ddpm")
    frozen = True

    def build_generator(self) -> ImageGenerator:
        return tiny_generator()


class TestSd15Lora(InteropSuite, GradientCheckpointingSuite):
    def build_generator(self) -> ImageGenerator:
        return tiny_generator(train_mode="lora", lora={"rank": 2})


class TestSd15FullVPrediction(InteropSuite):
    def build_generator(self) -> ImageGenerator:
        return tiny_generator(train_mode="full", prediction_type="v_prediction", snr_gamma=5.0)


class TestSdxlFrozen(EditingSuite, LatentCacheSuite):
    schedulers = ("dpm-solver++", "euler")
    frozen = True

    def build_generator(self) -> ImageGenerator:
        return tiny_generator(xl=True)


class TestSdxlLoraLongNull(GeneratorSuite):
    def build_generator(self) -> ImageGenerator:
        return tiny_generator(xl=True, train_mode="lora", null_length=4)


# -- what trains ---------------------------------------------------------------------------

def trainable(module: torch.nn.Module) -> dict[str, int]:
    return {name: p.numel() for name, p in module.named_parameters() if p.requires_grad}


def test_frozen_trains_only_the_null_condition() -> None:
    assert set(trainable(tiny_generator())) == {"null_tokens"}
    assert set(trainable(tiny_generator(xl=True))) == {"null_tokens", "null_pooled"}


def test_lora_trains_adapters_on_the_attention_only() -> None:
    generator = tiny_generator(train_mode="lora", lora={"rank": 2, "targets": ["to_k", "to_v"]})
    names = set(trainable(generator)) - {"null_tokens"}
    assert names and all("lora_" in name for name in names)
    assert {name.split(".lora_")[0].rsplit(".", 1)[-1] for name in names} == {"to_k", "to_v"}
    assert all(p.dtype == torch.float32 for p in generator.parameters() if p.requires_grad)


def test_full_trains_every_unet_weight_but_never_the_vae() -> None:
    generator = tiny_generator(train_mode="full")
    names = trainable(generator)
    assert sum(n for name, n in names.items() if name.startswith("unet.")) == sum(
        p.numel() for p in generator.unet.parameters())
    assert not any(name.startswith("vae.") for name in names)
    generator.train()
    assert generator.unet.training and not generator.vae.training


def test_frozen_weights_in_half_precision_keep_trainables_in_float32() -> None:
    generator = tiny_generator(train_mode="lora", frozen_dtype="bfloat16")
    assert generator.vae.dtype == torch.bfloat16
    assert generator.unet.conv_in.weight.dtype == torch.bfloat16
    assert all(p.dtype == torch.float32 for p in generator.parameters() if p.requires_grad)


def test_sdxl_gets_pooled_vector_and_time_ids() -> None:
    generator = tiny_generator(xl=True)
    assert generator.pooled_dim == 12 and generator.cross_attention_dim == 24
    assert generator.time_ids(2, torch.device("cpu")).tolist() == [[16.0, 16.0, 0.0, 0.0, 16.0,
                                                                    16.0]] * 2
    seen: dict[str, Any] = {}
    original = generator.unet.forward

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs["added_cond_kwargs"])
        return original(*args, **kwargs)

    generator.unet.forward = spy  # type: ignore[method-assign]
    condition = Condition(torch.randn(2, 3, 24), torch.ones(2, 3, dtype=torch.bool),
                          torch.randn(2, 12))
    generator.training_loss(torch.rand(2, 3, 16, 16), condition)
    assert seen["text_embeds"].shape == (2, 12) and seen["time_ids"].shape == (2, 6)


def test_rejects_the_wrong_unet_for_the_name() -> None:
    with pytest.raises(ValueError, match="sdxl expects a UNet with addition_embed_type="):
        StableDiffusionGenerator(SdxlConfig(resolution=16), *tiny_parts(False), xl=True)
    with pytest.raises(ValueError, match="sd15 expects a UNet without added conditioning"):
        StableDiffusionGenerator(Sd15Config(resolution=16), *tiny_parts(True), xl=False)


def test_gradient_checkpointing_can_be_enabled() -> None:
    generator = tiny_generator(train_mode="full")
    generator.enable_gradient_checkpointing()
    assert generator.unet.is_gradient_checkpointing


def test_pipeline_is_the_stock_diffusers_pipeline() -> None:
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    assert type(tiny_generator().pipeline("ddim")) is StableDiffusionPipeline
    assert type(tiny_generator(xl=True).pipeline("ddim")) is StableDiffusionXLPipeline
    with pytest.raises(ValueError, match="unknown scheduler 'plms'; sd15 supports 'ddim'"):
        tiny_generator().pipeline("plms")


def test_a_repeated_null_condition_equals_the_null_condition() -> None:
    """Why generate() may repeat token sets to one length: attention does not change."""
    generator = tiny_generator(null_length=2)
    generator.eval()
    noisy = torch.randn(1, 4, 8, 8)
    t = torch.tensor([500])
    null = generator.null_condition(1)
    repeated = Condition(null.tokens.repeat(1, 3, 1), torch.ones(1, 6, dtype=torch.bool))
    torch.testing.assert_close(generator._denoise(noisy, t, repeated),
                               generator._denoise(noisy, t, null), atol=1e-5, rtol=1e-5)


# -- loading -------------------------------------------------------------------------------

@pytest.mark.parametrize("xl", [False, True])
def test_loads_a_saved_checkpoint(tmp_path: Path, xl: bool) -> None:
    save_tiny_checkpoint(tmp_path, xl)
    config = {"model": str(tmp_path), "resolution": 16}
    generator = get_registry("generator").build("sdxl" if xl else "sd15", config)
    assert isinstance(generator, StableDiffusionGenerator)
    reference, vae, _ = tiny_parts(xl)
    for name, tensor in reference.state_dict().items():
        torch.testing.assert_close(generator.unet.state_dict()[name], tensor, msg=name)
    assert generator.noise_scheduler.config.beta_schedule == "scaled_linear"


def test_refuses_a_folder_without_the_parts(tmp_path: Path) -> None:
    (tmp_path / "unet").mkdir()
    with pytest.raises(UserError, match=r"has no vae/ folder; set generator\.config\.model"):
        load_sd15(Sd15Config(model=str(tmp_path)))


def test_refuses_pickled_weights(tmp_path: Path) -> None:
    save_tiny_checkpoint(tmp_path, False)
    unet = UNet2DConditionModel.from_pretrained(tmp_path / "unet")
    for file in (tmp_path / "unet").glob("*.safetensors"):
        file.unlink()
    unet.save_pretrained(tmp_path / "unet", safe_serialization=False)
    with pytest.raises(UserError, match=r"could not load unet/ .* It has "
                                        r"diffusion_pytorch_model\.bin: voxcore loads only "
                                        "safetensors"):
        load_sd15(Sd15Config(model=str(tmp_path)))


@pytest.mark.parametrize(("load", "config", "name"), [
    (load_sd15, Sd15Config, "stable-diffusion-v1-5/stable-diffusion-v1-5"),
    (load_sdxl, SdxlConfig, "stabilityai/stable-diffusion-xl-base-1.0"),
])
def test_hub_checkpoint_offline_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           load: Any, config: Any, name: str) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PretrainedNotFoundError) as caught:
        load(config(cache_dir=str(tmp_path)))
    message = str(caught.value)
    assert f"{name!r} is not in the Hugging Face cache {tmp_path}" in message
    assert "set generator.config.model to the downloaded folder" in message


# -- config --------------------------------------------------------------------------------

def test_config_defaults() -> None:
    sd15, sdxl = Sd15Config(), SdxlConfig()
    assert (sd15.model, sd15.resolution, sd15.train_mode) == (
        "stable-diffusion-v1-5/stable-diffusion-v1-5", 512, "frozen")
    assert (sdxl.model, sdxl.resolution) == ("stabilityai/stable-diffusion-xl-base-1.0", 1024)
    assert (sd15.lora.rank, sd15.lora.targets) == (4, ["to_q", "to_k", "to_v", "to_out.0"])


@pytest.mark.parametrize(("values", "message"), [
    ({"train_mode": "partial"}, "'frozen', 'lora' or 'full'"),
    ({"resolution": 500}, "multiple of 8"),
    ({"lora": {"rank": 0}}, "greater than 0"),
    ({"lora": {"ranks": 4}}, "Extra inputs are not permitted"),
    ({"frozen_dtype": "int8"}, "'float32', 'float16' or 'bfloat16'"),
])
def test_config_rejects(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Sd15Config.model_validate(values)


def test_plugin_module_does_not_import_torch() -> None:
    code = "import sys, voxcore_sd; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "False"


# -- full size -----------------------------------------------------------------------------

def test_published_sizes_on_meta_device() -> None:
    with torch.device("meta"):
        sd15 = UNet2DConditionModel(**SD15_UNET)
        sdxl = UNet2DConditionModel(**SDXL_UNET)
        vae = AutoencoderKL(**SD_VAE)
    assert sum(p.numel() for p in sd15.parameters()) == 859_520_964  # "0.86 B"
    assert sum(p.numel() for p in sdxl.parameters()) == 2_567_463_684  # "2.6 B"
    assert sum(p.numel() for p in vae.parameters()) == 83_653_863


@pytest.mark.parametrize(("mode", "unet_trainable"), [
    ("frozen", 0), ("lora", 797_184), ("full", 859_520_964)])
def test_trainable_parameters_of_full_size_sd15(mode: str, unet_trainable: int) -> None:
    """With SIB's 49.3 M this gives 49.3 / 50.1 / 908.8 M (paper Table 5: 50.0 / 50.7 / 909.1)."""
    with torch.device("meta"):
        generator = StableDiffusionGenerator(
            Sd15Config(train_mode=mode), UNet2DConditionModel(**SD15_UNET),
            AutoencoderKL(**SD_VAE), DDPMScheduler(), xl=False)
    null = 768
    assert sum(p.numel() for p in generator.parameters() if p.requires_grad) == (
        unet_trainable + null)


# -- through the CLI -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("sd")
    site = toy_site(tmp)
    return {"tmp": tmp, "site": site, "manifest": write_toy_data(tmp / "data", count=4),
            "sd15": save_tiny_checkpoint(tmp / "sd15", False),
            "sdxl": save_tiny_checkpoint(tmp / "sdxl", True)}


def run_cli(workspace: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(workspace["site"]), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "voxcore.cli", *args], capture_output=True,
                            text=True, env=env, cwd=workspace["tmp"], timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.slow
@pytest.mark.parametrize(("name", "mode"), [("sd15", "frozen"), ("sd15", "lora"),
                                            ("sd15", "full"), ("sdxl", "lora")])
def test_trains_and_generates_from_a_recipe(workspace: dict[str, Path], name: str,
                                            mode: str) -> None:
    tmp = workspace["tmp"]
    recipe = tmp / f"{name}-{mode}.yaml"
    recipe.write_text(f"""
name: {name}-{mode}
encoder: {{name: mel, config: {{n_mels: 16}}}}
bottleneck: {{name: sib, config: {{ratio: 4, num_heads: 2, widths: [16, 16]}}}}
generator: {{name: {name}, config: {{model: {workspace[name]}, resolution: 16,
                                    train_mode: {mode}, lora: {{rank: 2}}}}}}
data:
  train: [{{name: toy, config: {{manifest: {workspace["manifest"]}}}}}]
  cache_dir: {tmp / "cache"}
train: {{lr: 1.0e-3, batch_size: 2, max_steps: 2, checkpoint_every: 2, validate_every: 0,
        gradient_checkpointing: {str(mode == "full").lower()}}}
generate: {{steps: 2, guidance_scale: 2.0, scheduler: dpm-solver++}}
""")
    run = tmp / f"run-{name}-{mode}"
    trained = run_cli(workspace, "train", str(recipe), "--run-dir", str(run), "--no-progress")
    assert f"trained '{name}-{mode}' to step 2" in trained.stdout
    saved = run / "checkpoints" / "step-000002" / "model.safetensors"
    from safetensors import safe_open

    with safe_open(str(saved), framework="pt") as handle:
        keys: list[str] = handle.keys()
    generator_keys = [k for k in keys if k.startswith("generator.")]
    if mode == "frozen":
        assert sorted(generator_keys) == ["generator.null_tokens"]
    elif mode == "lora":
        assert generator_keys and all("lora_" in k or "null_" in k for k in generator_keys)
    else:
        assert "generator.unet.conv_in.weight" in generator_keys
    assert not any(k.startswith("generator.vae.") for k in keys)
    out = tmp / f"out-{name}-{mode}"
    made = run_cli(workspace, "generate", str(run), "--audio",
                   str(workspace["manifest"].parent / "a1.wav"), "--out", str(out))
    assert made.stdout.split() == [str(out / "a1.png")]
    edited = run_cli(workspace, "edit", str(run), "--image",
                     str(workspace["manifest"].parent / "i0.png"), "--audio",
                     str(workspace["manifest"].parent / "a1.wav"), "--strength", "0.6",
                     "--out", str(out))
    assert edited.stdout.split() == [str(out / "i0-a1.png")]
    versions = json.loads((run / "versions.json").read_text())
    assert versions["components"]["generator"]["distribution"] == "voxcore-sd"


# -- interop: save_pretrained / from_pretrained, diffusers LoRA files -----------------------

def train_tiny(workspace: dict[str, Path], mode: str) -> Path:
    tmp = workspace["tmp"]
    recipe = tmp / f"export-{mode}.yaml"
    recipe.write_text(f"""
name: export-{mode}
encoder: {{name: mel, config: {{n_mels: 16}}}}
bottleneck: {{name: sib, config: {{ratio: 4, num_heads: 2, widths: [16, 16]}}}}
generator: {{name: sd15, config: {{model: {workspace["sd15"]}, resolution: 16,
                                  train_mode: {mode}, lora: {{rank: 2}}}}}}
data:
  train: [{{name: toy, config: {{manifest: {workspace["manifest"]}}}}}]
  cache_dir: {tmp / "cache"}
train: {{lr: 1.0e-2, batch_size: 2, max_steps: 2, checkpoint_every: 2, validate_every: 0,
        ema: {{enabled: true, decay: 0.5}}}}
generate: {{steps: 3, guidance_scale: 3.0, scheduler: dpm-solver++}}
""")
    run = tmp / f"export-run-{mode}"
    run_cli(workspace, "train", str(recipe), "--run-dir", str(run), "--no-progress")
    return run


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["lora", "full"])
def test_export_round_trip_and_stock_pipeline_reads_the_lora(
    workspace: dict[str, Path], mode: str, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline

    import voxcore
    from voxcore.plugin_api import generate_images, load_audio, load_run
    from voxcore.testing import reset_plugins

    # The toy dataset plugin, in this process: plugins are loaded once and cached, so reload
    # them now and again after the test.
    monkeypatch.syspath_prepend(str(workspace["site"]))
    reset_plugins()
    request.addfinalizer(reset_plugins)
    run = train_tiny(workspace, mode)
    folder = workspace["tmp"] / f"exported-{mode}"
    exported = run_cli(workspace, "export", str(run), "--out", str(folder))
    assert f"exported 'export-{mode}' (step 2, EMA weights) to {folder}" in exported.stdout
    files = {p.name for p in folder.iterdir()}
    assert {"voxcore.json", "recipe.yaml", "bottleneck.safetensors",
            "generator.safetensors"} <= files
    manifest = json.loads((folder / "voxcore.json").read_text())
    assert manifest["step"] == 2 and manifest["versions"]["components"]["generator"][
        "distribution"] == "voxcore-sd"

    original, restored = load_run(run), voxcore.from_pretrained(folder)
    wave = [load_audio(workspace["manifest"].parent / "a1.wav")]
    settings = original.resolved.recipe.generate
    want = generate_images(original.model, settings, 7, waveforms=wave)
    torch.testing.assert_close(generate_images(restored.model, settings, 7, waveforms=wave),
                               want, atol=1e-6, rtol=0)
    # The exported folder is a run for 'voxcore generate' too.
    run_cli(workspace, "generate", str(folder), "--audio",
            str(workspace["manifest"].parent / "a1.wav"), "--out", str(folder / "images"))

    checkpoint = workspace["sd15"]
    if mode == "full":
        assert "pytorch_lora_weights.safetensors" not in files
        unet = UNet2DConditionModel.from_pretrained(folder / "unet")
        torch.testing.assert_close(unet.state_dict(), restored.model.generator.unet.state_dict())
        return
    # A stock pipeline: the base checkpoint's UNet, our LoRA file, our condition.
    pipe = StableDiffusionPipeline(
        vae=AutoencoderKL.from_pretrained(checkpoint / "vae"),
        unet=UNet2DConditionModel.from_pretrained(checkpoint / "unet"),
        scheduler=DPMSolverMultistepScheduler.from_pretrained(checkpoint / "scheduler"),
        text_encoder=None, tokenizer=None, safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)
    model = restored.model
    with torch.no_grad():
        condition = model.condition(model.encode_speech(wave))

    def stock() -> torch.Tensor:
        latents = torch.randn((1, 4, 8, 8), generator=torch.Generator().manual_seed(7))
        images: torch.Tensor = pipe(
            **model.generator.pipeline_inputs(condition, 0), latents=latents,
            num_inference_steps=settings.steps, guidance_scale=settings.guidance_scale,
            height=16, width=16, output_type="pt").images
        return images

    without_lora = stock()
    assert float((without_lora - want).abs().max()) > 1e-4, "the LoRA changed nothing"
    pipe.load_lora_weights(folder)
    torch.testing.assert_close(stock(), want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("xl", [False, True])
def test_edit_starts_from_the_image(xl: bool) -> None:
    """With a UNet that predicts zero noise, an edit returns (about) the VAE's reconstruction
    of the image it started from, and not that of another image."""
    torch.manual_seed(0)
    generator = tiny_generator(xl=xl)
    generator.eval()
    torch.nn.init.zeros_(generator.unet.conv_out.weight)
    torch.nn.init.zeros_(generator.unet.conv_out.bias)
    # A random VAE's posterior is as wide as its mean: make it a point (log-variance -30).
    with torch.no_grad():
        generator.vae.quant_conv.weight[4:] = 0.0
        generator.vae.quant_conv.bias[4:] = -30.0
    generator.vae.register_to_config(scaling_factor=1.0)  # random latents are small
    images = torch.stack([torch.linspace(0, 1, 16).expand(3, 16, 16),
                          torch.linspace(1, 0, 16).expand(3, 16, 16).transpose(1, 2)])
    pooled = torch.randn(2, 12) if xl else None
    condition = Condition(torch.randn(2, 3, generator.cross_attention_dim),
                          torch.ones(2, 3, dtype=torch.bool), pooled)
    with torch.no_grad():
        latents = generator.vae.encode(images * 2 - 1).latent_dist.mean
        reconstructed = generator.decode_latents(latents * generator.vae.config.scaling_factor)
    edited = generator.edit(images, condition, strength=0.05, num_inference_steps=20,
                            guidance_scale=1.0, scheduler="ddim",
                            generator=torch.Generator().manual_seed(0))
    distance = torch.cdist(edited.flatten(1), reconstructed.flatten(1))
    assert distance[0, 0] < distance[0, 1] and distance[1, 1] < distance[1, 0], distance
    with pytest.raises(ValueError, match=r"strength must be in \(0, 1\], got 1.5"):
        generator.edit(images, condition, strength=1.5, num_inference_steps=2,
                       guidance_scale=1.0, scheduler="ddim")


# -- cached image latents ------------------------------------------------------------------

@pytest.mark.parametrize("xl", [False, True])
def test_loss_from_cached_encoding_equals_loss_from_images(xl: bool) -> None:
    generator = tiny_generator(xl=xl)
    images = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    pooled = torch.randn(2, 12) if xl else None
    condition = Condition(torch.randn(2, 3, generator.cross_attention_dim),
                          torch.ones(2, 3, dtype=torch.bool), pooled)
    drop = torch.tensor([False, True])
    encoded = generator.encode_for_cache(images)
    assert encoded.shape == (2, 8, 8, 8)
    from_images = generator.training_loss(images, condition, drop=drop,
                                          generator=torch.Generator().manual_seed(5))
    from_cache = generator.training_loss_from_encoded(encoded, condition, drop=drop,
                                                      generator=torch.Generator().manual_seed(5))
    assert torch.equal(from_images, from_cache)


def test_image_cache_key_needs_known_weights_and_can_be_turned_off(tmp_path: Path) -> None:
    unknown = tiny_generator(vae_fingerprint="")
    assert unknown.image_cache_key() == ""  # built in memory: weights unknown
    save_tiny_checkpoint(tmp_path, False)
    loaded = load_sd15(Sd15Config(model=str(tmp_path), resolution=16))
    key = loaded.image_cache_key()
    assert key.startswith("sd15-") and key.endswith("-float32-16")
    assert load_sd15(Sd15Config(model=str(tmp_path), resolution=32)).image_cache_key() != key
    off = load_sd15(Sd15Config(model=str(tmp_path), resolution=16, cache_latents=False))
    assert off.image_cache_key() == ""


@pytest.mark.slow
def test_training_caches_image_latents(workspace: dict[str, Path]) -> None:
    tmp = workspace["tmp"]
    recipe = tmp / "latents.yaml"
    recipe.write_text(f"""
name: latents
encoder: {{name: mel, config: {{n_mels: 16}}}}
bottleneck: {{name: sib, config: {{ratio: 4, num_heads: 2, widths: [16, 16]}}}}
generator: {{name: sd15, config: {{model: {workspace["sd15"]}, resolution: 16}}}}
data:
  train: [{{name: toy, config: {{manifest: {workspace["manifest"]}}}}}]
  cache_dir: {tmp / "latent-cache"}
train: {{lr: 1.0e-3, batch_size: 2, max_steps: 1, checkpoint_every: 1, validate_every: 1}}
generate: {{steps: 2, guidance_scale: 2.0, scheduler: ddim}}
""")
    first = run_cli(workspace, "train", str(recipe), "--run-dir", str(tmp / "lat1"),
                    "--no-progress")
    # The toy set's 4 images are two distinct files' contents (red and blue squares).
    assert "image latents (StableDiffusionGenerator): 0 reused from the cache, 2 computed" in (
        first.stderr)
    second = run_cli(workspace, "train", str(recipe), "--run-dir", str(tmp / "lat2"),
                     "--no-progress")
    assert "image latents (StableDiffusionGenerator): 2 reused from the cache, 0 computed" in (
        second.stderr)
    assert len(list((tmp / "latent-cache" / "latents").rglob("*.safetensors"))) == 2
    assert (tmp / "lat2" / "samples" / "step-000001.png").is_file()  # grid from pixel previews
