"""Tests of the whisper encoder: conformance, equality with transformers, loading, offline errors.

Every model here is a tiny random-weight Whisper built from a ``WhisperConfig`` (as
transformers' own tests do); the full-size architecture is checked on the ``meta`` device.
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
from pydantic import ValidationError
from support import toy_site, write_toy_data
from transformers import (
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
    WhisperModel,
)
from voxcore_whisper import WhisperEncoderConfig
from voxcore_whisper.architectures import WHISPER_LARGE_V3, whisper_config
from voxcore_whisper.encoder import (
    WhisperSpeechEncoder,
    encoder_from_architecture,
    load_whisper_encoder,
)

from voxcore.plugin_api import (
    AudioError,
    PretrainedNotFoundError,
    SpeechEncoder,
    UserError,
    Waveform,
    get_registry,
    to_mono_batch,
)
from voxcore.testing import WeightsFingerprintSuite
from voxcore.testing.encoder import EncoderSuite, synthetic_waveform

TINY: dict[str, Any] = {
    "d_model": 32, "encoder_layers": 2, "encoder_attention_heads": 2, "encoder_ffn_dim": 64,
    "decoder_layers": 1, "decoder_attention_heads": 2, "decoder_ffn_dim": 64,
    "num_mel_bins": 80, "vocab_size": 64, "max_target_positions": 16, "pad_token_id": 1,
    "bos_token_id": 0, "eos_token_id": 2, "decoder_start_token_id": 0,
}


def tiny_encoder(**settings: Any) -> WhisperSpeechEncoder:
    """A tiny random-weight encoder; the same weights on every call."""
    torch.manual_seed(0)
    return encoder_from_architecture(whisper_config(TINY), WhisperEncoderConfig(**settings))


def save_tiny_checkpoint(folder: Path, *, seed: int = 0, model_class: Any = None,
                         **save_options: Any) -> WhisperForConditionalGeneration:
    """A tiny checkpoint laid out exactly like a hub snapshot of a Whisper model."""
    torch.manual_seed(seed)
    model = (model_class or WhisperForConditionalGeneration)(WhisperConfig(**TINY)).eval()
    model.save_pretrained(folder, **save_options)
    WhisperFeatureExtractor(feature_size=TINY["num_mel_bins"]).save_pretrained(folder)
    return model


class TestWhisperEncoder(EncoderSuite):
    def build_encoder(self) -> SpeechEncoder:
        return tiny_encoder()


class TestWhisperEncoderTrimmed(EncoderSuite):
    def build_encoder(self) -> SpeechEncoder:
        return tiny_encoder(trim_padding=True)


class TestWhisperEncoderMiddleLayer(EncoderSuite):
    def build_encoder(self) -> SpeechEncoder:
        return tiny_encoder(layer=1, trim_padding=True)


class TestWhisperCheckpointFolder(WeightsFingerprintSuite):
    """Loaded from a checkpoint folder: its features are keyed by the folder's files."""

    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path: Path) -> None:
        self.tmp = tmp_path

    def _from(self, name: str, seed: int) -> SpeechEncoder:
        folder = self.tmp / name
        if not folder.is_dir():
            save_tiny_checkpoint(folder, seed=seed)
        return load_whisper_encoder(WhisperEncoderConfig(model=str(folder)))

    def build_encoder(self) -> SpeechEncoder:
        return self._from("checkpoint", seed=0)

    def build_encoder_with_other_weights(self) -> SpeechEncoder:
        return self._from("other", seed=1)


def _speech(*seconds: float) -> list[Waveform]:
    return [synthetic_waveform(s, 16000, seed=i) for i, s in enumerate(seconds)]


# -- what the features are -----------------------------------------------------------------

@pytest.mark.parametrize("layer", [0, 1, 2, -1, -2, -3])
def test_equals_transformers_hidden_states(layer: int) -> None:
    encoder = tiny_encoder(layer=layer)
    waves = _speech(0.7, 2.3)
    out = encoder.encode(waves)
    mel = encoder._log_mel(*to_mono_batch(waves, 16000))
    with torch.no_grad():
        states = encoder.encoder(mel, output_hidden_states=True).hidden_states
    want = states[layer][:, : out.features.shape[1]]
    torch.testing.assert_close(out.features[out.mask], want[out.mask], atol=1e-5, rtol=1e-5)


def test_frames_at_fifty_per_second_and_dims() -> None:
    encoder = tiny_encoder()
    out = encoder.encode(_speech(1.0, 0.5))
    assert out.frame_rate == 50.0 and encoder.output_dim == 32
    assert out.mask.sum(dim=1).tolist() == [50, 25]
    assert out.features.shape == (2, 50, 32)


def test_trimming_changes_nothing_when_speech_fills_the_window() -> None:
    waves = _speech(30.0)
    full = tiny_encoder().encode(waves)
    trimmed = tiny_encoder(trim_padding=True).encode(waves)
    assert full.features.shape == trimmed.features.shape == (1, 1500, 32)
    torch.testing.assert_close(trimmed.features, full.features, atol=1e-5, rtol=1e-5)


def test_trimming_runs_fewer_frames_but_keeps_the_valid_ones() -> None:
    encoder = tiny_encoder(trim_padding=True)
    seen: list[int] = []
    encoder.encoder.layers[0].register_forward_hook(
        lambda module, args, output: seen.append(int(args[0].shape[1])))
    out = encoder.encode(_speech(1.0))
    assert seen == [50] and out.mask.sum().item() == 50
    seen.clear()
    untrimmed = tiny_encoder()
    untrimmed.encoder.layers[0].register_forward_hook(
        lambda module, args, output: seen.append(int(args[0].shape[1])))
    untrimmed.encode(_speech(1.0))
    assert seen == [1500]


def test_rejects_speech_longer_than_the_window() -> None:
    with pytest.raises(AudioError, match=r"utterance 1 of the batch is 31\.0 s long; Whisper "
                                         r"encodes at most 30 s"):
        tiny_encoder().encode(_speech(1.0, 31.0))


def test_layer_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"layer=3 is out of range: this Whisper encoder has 2 "
                                         r"layers, so layer must be in \[-3, 2\]"):
        tiny_encoder(layer=3)


def test_half_precision_returns_float32_features() -> None:
    out = tiny_encoder(dtype="bfloat16").encode(_speech(0.5))
    assert out.features.dtype == torch.float32
    assert bool(torch.isfinite(out.features).all())


# -- loading -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("whisper-tiny")
    save_tiny_checkpoint(folder)
    return folder


@pytest.mark.parametrize("layout", ["conditional-generation", "base-model", "sharded"])
def test_loads_the_encoder_of_a_saved_checkpoint(tmp_path: Path, layout: str) -> None:
    if layout == "base-model":
        model = save_tiny_checkpoint(tmp_path, model_class=WhisperModel)
        reference = model.encoder
    else:
        options = {"max_shard_size": "20KB"} if layout == "sharded" else {}
        reference = save_tiny_checkpoint(tmp_path, **options).model.encoder
    if layout == "sharded":
        assert (tmp_path / "model.safetensors.index.json").is_file()
    encoder = load_whisper_encoder(WhisperEncoderConfig(model=str(tmp_path)))
    for name, tensor in reference.state_dict().items():
        torch.testing.assert_close(encoder.encoder.state_dict()[name], tensor, msg=name)
    assert not any(p.requires_grad for p in encoder.parameters())
    assert encoder.weights_fingerprint


def test_built_through_the_registry(checkpoint: Path) -> None:
    entry = get_registry("encoder").get("whisper")
    assert entry.distribution == "voxcore-whisper"
    encoder = entry.build({"model": str(checkpoint), "layer": 1})
    assert isinstance(encoder, WhisperSpeechEncoder) and encoder.layer == 1


def test_refuses_pickled_weights(tmp_path: Path) -> None:
    save_tiny_checkpoint(tmp_path, safe_serialization=False)
    with pytest.raises(UserError, match=r"lacks model\.safetensors\. It has pytorch_model\.bin: "
                                        "voxcore loads only safetensors"):
        load_whisper_encoder(WhisperEncoderConfig(model=str(tmp_path)))


def test_refuses_another_architecture(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(UserError, match="describes a 'bert' model, not Whisper"):
        load_whisper_encoder(WhisperEncoderConfig(model=str(tmp_path)))


def test_missing_local_folder(tmp_path: Path) -> None:
    with pytest.raises(PretrainedNotFoundError, match=r"folder .*nowhere does not exist; set "
                                                      r"encoder\.config\.model"):
        load_whisper_encoder(WhisperEncoderConfig(model=str(tmp_path / "nowhere")))


@pytest.mark.parametrize("offline", ["1", ""])
def test_hub_id_offline_fails_fast_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline: str
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    cache = tmp_path / "hub"
    with pytest.raises(PretrainedNotFoundError) as caught:
        load_whisper_encoder(WhisperEncoderConfig(cache_dir=str(cache)))
    message = str(caught.value)
    assert "'openai/whisper-large-v3'" in message
    assert f"is not in the Hugging Face cache {cache}" in message
    assert "set encoder.config.model to the downloaded folder" in message


def test_cached_hub_snapshot_is_found_without_network(
    tmp_path: Path, checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snapshot = tmp_path / "models--someone--whisper-tiny" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    for file in checkpoint.iterdir():
        (snapshot / file.name).symlink_to(file)
    (tmp_path / "models--someone--whisper-tiny" / "refs").mkdir()
    (tmp_path / "models--someone--whisper-tiny" / "refs" / "main").write_text("0" * 40)
    encoder = load_whisper_encoder(WhisperEncoderConfig(model="someone/whisper-tiny",
                                                        cache_dir=str(tmp_path)))
    assert encoder.output_dim == 32


# -- config and plugin ---------------------------------------------------------------------

def test_config_defaults() -> None:
    config = WhisperEncoderConfig()
    assert (config.model, config.layer, config.trim_padding, config.dtype) == (
        "openai/whisper-large-v3", -1, False, "float32")


@pytest.mark.parametrize(("values", "message"), [
    ({"layers": 3}, "Extra inputs are not permitted"),
    ({"dtype": "float64"}, "'float32', 'float16' or 'bfloat16'"),
    ({"trim_padding": "maybe"}, "valid boolean"),
])
def test_config_rejects(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        WhisperEncoderConfig.model_validate(values)


def test_plugin_module_does_not_import_torch() -> None:
    code = "import sys, voxcore_whisper; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "False"


# -- full size -----------------------------------------------------------------------------

def test_large_v3_architecture_on_meta_device() -> None:
    encoder = encoder_from_architecture(whisper_config(), device="meta")
    assert encoder.output_dim == 1280 and encoder.num_layers == 32
    assert encoder.feature_extractor.feature_size == 128
    assert sum(p.numel() for p in encoder.parameters()) == 636_968_960
    with torch.device("meta"):
        whole = WhisperForConditionalGeneration(WhisperConfig(**WHISPER_LARGE_V3))
    # The published size of openai/whisper-large-v3: 1.55 B parameters.
    assert sum(p.numel() for p in whole.parameters()) == 1_543_490_560


# -- through the CLI -----------------------------------------------------------------------

@pytest.mark.slow
def test_trains_from_a_recipe_and_caches_by_weights(tmp_path: Path) -> None:
    site = toy_site(tmp_path)
    manifest = write_toy_data(tmp_path / "data", count=6)
    weights = tmp_path / "whisper-tiny"
    save_tiny_checkpoint(weights)
    recipe = tmp_path / "whisper.yaml"
    recipe.write_text(f"""
name: whisper-toy
encoder: {{name: whisper, config: {{model: {weights}, trim_padding: true}}}}
bottleneck: {{name: sib, config: {{ratio: 4, num_heads: 2, widths: [16, 16]}}}}
generator: {{name: tiny-unet, config: {{resolution: 16, block_out_channels: [16, 32],
                                       cross_attention_dim: 16}}}}
data:
  train: [{{name: toy, config: {{manifest: {manifest}}}}}]
  cache_dir: {tmp_path / "cache"}
train: {{lr: 1.0e-3, batch_size: 2, max_steps: 2, checkpoint_every: 2, validate_every: 0}}
""")
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1"}

    def train(run: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "voxcore.cli", "train", str(recipe), "--run-dir",
             str(tmp_path / run), "--no-progress"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stderr

    assert "0 reused from the cache, 6 computed" in train("first")
    assert "6 reused from the cache, 0 computed" in train("second")
    save_tiny_checkpoint(weights, seed=1)  # new weights behind the same path
    assert "0 reused from the cache, 6 computed" in train("third")
    versions = json.loads((tmp_path / "first" / "versions.json").read_text())
    assert versions["components"]["encoder"]["distribution"] == "voxcore-whisper"


@pytest.mark.slow
def test_hub_checkpoint_offline_through_the_cli(tmp_path: Path) -> None:
    recipe = tmp_path / "whisper.yaml"
    recipe.write_text("""
name: whisper-offline
encoder: {name: whisper}
bottleneck: {name: sib}
generator: {name: tiny-unet}
""")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub")}
    result = subprocess.run(
        [sys.executable, "-m", "voxcore.cli", "train", str(recipe), "--run-dir",
         str(tmp_path / "run"), "--no-progress"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "'openai/whisper-large-v3' is not in the Hugging Face cache" in result.stderr
    assert "Traceback" not in result.stderr
