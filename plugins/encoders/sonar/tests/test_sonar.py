"""Tests of the sonar encoder: conformance, SONAR's preprocessing, loading, offline errors.

Models are tiny random-weight SONAR speech encoders built with ``SonarSpeechEncoderFactory``
from the registered ``english`` architecture with small widths; the full-size architecture is
counted on the ``meta`` device.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import ValidationError
from support import toy_site, write_toy_data
from voxcore_sonar import SonarEncoderConfig
from voxcore_sonar.encoder import (
    SonarSpeechEncoder,
    arch_config,
    encoder_from_architecture,
    load_sonar_encoder,
)

from voxcore.plugin_api import (
    PretrainedNotFoundError,
    SpeechEncoder,
    UserError,
    Waveform,
    get_registry,
)
from voxcore.testing.encoder import EncoderSuite, synthetic_waveform


def tiny_architecture() -> Any:
    full = arch_config("english")
    w2v2 = dataclasses.replace(full.w2v2_encoder_config, model_dim=32, num_encoder_layers=2,
                               num_encoder_attn_heads=2, ffn_inner_dim=64)
    return dataclasses.replace(full, w2v2_encoder_config=w2v2, model_dim=32,
                               num_decoder_layers=1, num_decoder_attn_heads=2, ffn_inner_dim=64)


def tiny_model(seed: int = 0) -> Any:
    from sonar.models.sonar_speech import SonarSpeechEncoderFactory

    torch.manual_seed(seed)
    return SonarSpeechEncoderFactory(tiny_architecture()).create_model()


class TestSonarEncoder(EncoderSuite):
    atol = 1e-4

    def build_encoder(self) -> SpeechEncoder:
        return encoder_from_architecture(tiny_architecture())


def test_frames_at_fifty_per_second_without_the_pooler() -> None:
    encoder = encoder_from_architecture(tiny_architecture())
    assert not hasattr(encoder.model, "encoder_pooler")
    assert not any("pooler" in name for name in encoder.state_dict())
    out = encoder.encode([synthetic_waveform(1.0, 16000), synthetic_waveform(0.5, 16000)])
    assert out.frame_rate == 50.0 and encoder.output_dim == 32
    # 1 s gives 98 filterbank frames (25 ms windows, 10 ms shift), stacked in pairs: 49.
    assert out.mask.sum(dim=1).tolist() == [49, 24]


def test_features_are_the_models_own_encoder_output() -> None:
    """The frames equal sonar-space's forward pass (encoded_seqs), pooler aside."""
    from fairseq2.nn import BatchLayout

    reference = tiny_model().eval()
    encoder = SonarSpeechEncoder(SonarEncoderConfig(), tiny_model().eval())
    wave = synthetic_waveform(0.8, 16000)
    fbank = encoder._filterbank(wave.samples[0])
    with torch.no_grad():
        want = reference(fbank.unsqueeze(0), BatchLayout.of(fbank.unsqueeze(0),
                                                            [fbank.shape[0]])).encoded_seqs
    got = encoder.encode([wave]).features
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_filterbank_is_standardized_per_utterance() -> None:
    encoder = encoder_from_architecture(tiny_architecture())
    fbank = encoder._filterbank(synthetic_waveform(1.0, 16000).samples[0])
    assert fbank.shape == (98, 80)
    torch.testing.assert_close(fbank.mean(dim=0), torch.zeros(80), atol=1e-3, rtol=0)
    torch.testing.assert_close(fbank.std(dim=0), torch.ones(80), atol=2e-2, rtol=0)


def test_a_very_short_utterance_still_gives_a_frame() -> None:
    out = encoder_from_architecture(tiny_architecture()).encode(
        [Waveform(torch.randn(1, 100) * 0.1, 16000)])
    assert out.mask.sum().item() >= 1 and bool(torch.isfinite(out.features).all())


# -- loading -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["safetensors", "pt"])
def test_loads_a_local_checkpoint(tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch,
                                  ) -> None:
    model = tiny_model(seed=3)
    file = tmp_path / f"sonar-tiny.{fmt}"
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(file))
    else:
        torch.save(model.state_dict(), file)  # fairseq2's own checkpoint format
    # The tiny widths are not a registered architecture: serve them as 'english'.
    monkeypatch.setattr("voxcore_sonar.encoder.arch_config", lambda arch: tiny_architecture())
    encoder = load_sonar_encoder(SonarEncoderConfig(model=str(file)))
    for name, tensor in encoder.model.state_dict().items():
        torch.testing.assert_close(tensor, model.state_dict()[name], msg=name)
    assert encoder.weights_fingerprint
    assert not any(p.requires_grad for p in encoder.parameters())


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    file = tmp_path / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in tiny_model().state_dict().items()}, str(file))
    with pytest.raises(UserError, match=r"does not fit the 'english' architecture"):
        load_sonar_encoder(SonarEncoderConfig(model=str(file)))


def test_missing_local_file(tmp_path: Path) -> None:
    with pytest.raises(PretrainedNotFoundError, match=r"sonar\.pt does not exist; set "
                                                      r"encoder\.config\.model"):
        load_sonar_encoder(SonarEncoderConfig(model=str(tmp_path / "sonar.pt")))


def test_unknown_asset_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match=r"unknown SONAR asset 'sonar_speech_encoder_xx'.*"
                                        r"sonar_speech_encoder_eng"):
        load_sonar_encoder(SonarEncoderConfig(model="sonar_speech_encoder_xx"))


def test_asset_offline_fails_fast_and_says_what_to_do(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIRSEQ2_CACHE_DIR", str(tmp_path))
    with pytest.raises(PretrainedNotFoundError) as caught:
        load_sonar_encoder(SonarEncoderConfig())
    message = str(caught.value)
    assert "SONAR asset 'sonar_speech_encoder_eng' is not in the fairseq2 cache" in message
    assert "https://dl.fbaipublicfiles.com/SONAR/spenc.eng.pt" in message
    assert "set encoder.config.model to the downloaded file" in message


# -- config and plugin ---------------------------------------------------------------------

def test_config_defaults_and_rejects() -> None:
    config = SonarEncoderConfig()
    assert (config.model, config.arch, config.dtype) == ("sonar_speech_encoder_eng", "english",
                                                         "float32")
    with pytest.raises(ValidationError, match="'english' or 'non_english'"):
        SonarEncoderConfig(arch="french")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SonarEncoderConfig.model_validate({"layer": 3})


def test_registered_and_plugin_module_does_not_import_torch() -> None:
    entry = get_registry("encoder").get("sonar")
    assert entry.distribution == "voxcore-sonar" and entry.config_model is SonarEncoderConfig
    code = "import sys, voxcore_sonar; print('torch' in sys.modules, 'fairseq2' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "False False"


# -- full size -----------------------------------------------------------------------------

def test_english_architecture_on_meta_device() -> None:
    from sonar.models.sonar_speech import SonarSpeechEncoderFactory

    with torch.device("meta"):
        whole = SonarSpeechEncoderFactory(arch_config("english")).create_model()
    assert sum(p.numel() for p in whole.parameters()) == 658_084_160
    encoder = encoder_from_architecture(arch_config("english"), device="meta")
    assert encoder.output_dim == 1024
    # Without its pooler, as the paper uses it: 605.6 M parameters.
    assert sum(p.numel() for p in encoder.parameters()) == 605_596_992


# -- through the CLI -----------------------------------------------------------------------

@pytest.mark.slow
def test_trains_from_a_recipe_and_caches_by_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A real training run (in this process) over a SONAR checkpoint file named in a recipe."""
    from safetensors.torch import save_file

    from voxcore.plugin_api import load_recipe, train
    from voxcore.testing import reset_plugins

    monkeypatch.syspath_prepend(str(toy_site(tmp_path)))
    reset_plugins()
    request.addfinalizer(reset_plugins)
    monkeypatch.setattr("voxcore_sonar.encoder.arch_config", lambda arch: tiny_architecture())
    manifest = write_toy_data(tmp_path / "data", count=4)
    weights = tmp_path / "sonar-tiny.safetensors"

    def save_weights(seed: int) -> None:
        state = tiny_model(seed).state_dict()
        save_file({k: v.contiguous() for k, v in state.items()}, str(weights))

    save_weights(0)
    recipe = tmp_path / "sonar.yaml"
    recipe.write_text(f"""
name: sonar-toy
encoder: {{name: sonar, config: {{model: {weights}}}}}
bottleneck: {{name: sib, config: {{ratio: 4, num_heads: 2, widths: [16, 16]}}}}
generator: {{name: tiny-unet, config: {{resolution: 16, block_out_channels: [16, 32],
                                       cross_attention_dim: 16}}}}
data:
  train: [{{name: toy, config: {{manifest: {manifest}}}}}]
  cache_dir: {tmp_path / "cache"}
train: {{lr: 1.0e-3, batch_size: 2, max_steps: 1, checkpoint_every: 1, validate_every: 0}}
""")

    caplog.set_level(logging.INFO, logger="voxcore.caches.features")
    for name in ("first", "second"):
        assert train(load_recipe(recipe), tmp_path / name, progress=False).step == 1
    save_weights(1)  # new weights in the same file
    assert train(load_recipe(recipe), tmp_path / "third", progress=False).step == 1
    summaries = [m.split(": ", 1)[1] for m in caplog.messages if m.startswith("speech features")]
    assert summaries == ["0 reused from the cache, 4 computed",
                         "4 reused from the cache, 0 computed",
                         "0 reused from the cache, 4 computed"]
    versions = json.loads((tmp_path / "first" / "versions.json").read_text())
    assert versions["components"]["encoder"]["distribution"] == "voxcore-sonar"
