"""Tests of the ``clip-text`` encoder: conformance, equality with SD's text path, loading.

Every model is a tiny random-weight CLIP text encoder with a byte-level tokenizer, built
offline (see :mod:`voxcore_asr.testing`).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import ValidationError
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
from voxcore_asr import ClipTextConfig
from voxcore_asr.clip_text import ClipTextEncoder, load_clip_text
from voxcore_asr.testing import TINY_CLIP, save_tiny_clip_text

from voxcore.plugin_api import PretrainedNotFoundError, TextEncoder, UserError, get_registry
from voxcore.testing import reset_plugins
from voxcore.testing.text_encoder import TextEncoderSuite


@pytest.fixture(scope="module")
def sd_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-sd")
    save_tiny_clip_text(folder)
    return folder


class TestClipText(TextEncoderSuite):
    """The suite on ``pad: false`` (with ``pad`` every text has 77 valid tokens by design).

    Each build draws fresh random CLIP weights under the suite's seed, so the state-dict round
    trip can tell loaded weights from fresh ones.
    """

    @pytest.fixture(autouse=True)
    def _folder(self, sd_folder: Path) -> None:
        self.folder = sd_folder

    def build_encoder(self) -> TextEncoder:
        tokenizer = CLIPTokenizer.from_pretrained(self.folder / "tokenizer")
        config = CLIPTextConfig.from_pretrained(self.folder / "text_encoder")
        return ClipTextEncoder(ClipTextConfig(model=str(self.folder), pad=False),
                               CLIPTextModel(config), tokenizer)

    def test_gradients_reach_every_parameter(self) -> None:
        """Replaces the suite's check: clip-text is frozen by design, nothing may train."""
        encoder = self.make_encoder()
        assert isinstance(encoder, torch.nn.Module)
        encoder.train()
        assert not any(p.requires_grad for p in encoder.parameters())
        out = encoder.encode_text(self.batch())
        assert not out.features.requires_grad


def _encoder(folder: Path, **settings: Any) -> ClipTextEncoder:
    return load_clip_text(ClipTextConfig(model=str(folder), **settings))


# -- what it computes ----------------------------------------------------------------------

def test_padded_features_equal_stable_diffusions_text_path(sd_folder: Path) -> None:
    encoder = _encoder(sd_folder)
    texts = ["a red circle", "", "x" * 300]
    out = encoder.encode_text(texts)
    assert tuple(out.features.shape) == (3, 77, TINY_CLIP["hidden_size"])
    assert bool(out.mask.all()) and out.features.dtype == torch.float32
    # What StableDiffusionPipeline.encode_prompt does (no attention mask, clip_skip=None).
    tokenizer = CLIPTokenizer.from_pretrained(sd_folder / "tokenizer")
    model = CLIPTextModel.from_pretrained(sd_folder / "text_encoder").eval()
    ids = tokenizer(texts, padding="max_length", max_length=tokenizer.model_max_length,
                    truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():
        want = model(ids)[0]
    torch.testing.assert_close(out.features, want, atol=0.0, rtol=0.0)


def test_unpadded_features_equal_padded_ones_at_real_tokens(sd_folder: Path) -> None:
    texts = ["a red circle", "a much longer caption of a blue square"]
    padded = _encoder(sd_folder).encode_text(texts)
    real = _encoder(sd_folder, pad=False).encode_text(texts)
    # BOS + one byte token per character + EOS with the tiny byte-level tokenizer.
    lengths = [len(text.replace(" ", "")) + 2 for text in texts]
    assert real.mask.sum(dim=1).tolist() == lengths
    assert real.features.shape[1] == max(lengths)
    torch.testing.assert_close(real.features[real.mask],
                               padded.features[:, : real.features.shape[1]][real.mask])
    assert bool((real.features[~real.mask] == 0).all())


@pytest.mark.parametrize("final_norm", [True, False])
def test_penultimate_layer(sd_folder: Path, final_norm: bool) -> None:
    encoder = _encoder(sd_folder, layer=-2, final_norm=final_norm)
    ids, _ = encoder.tokenize(["a red circle"])
    with torch.no_grad():
        hidden = encoder.model(ids, output_hidden_states=True).hidden_states[-2]
        want = encoder.model.text_model.final_layer_norm(hidden) if final_norm else hidden
    torch.testing.assert_close(encoder.encode_text(["a red circle"]).features, want)


def test_layer_out_of_range(sd_folder: Path) -> None:
    with pytest.raises(ValueError, match=r"layer=3 is out of range.*\[-3, 2\]"):
        _encoder(sd_folder, layer=3)


def test_max_length_truncates(sd_folder: Path) -> None:
    out = _encoder(sd_folder, pad=False, max_length=8).encode_text(["abcdefghijkl", "ab"])
    assert out.mask.sum(dim=1).tolist() == [8, 4]
    with pytest.raises(ValueError, match="exceeds the 77 positions"):
        _encoder(sd_folder, max_length=78)


def test_frozen_and_stays_in_eval_mode(sd_folder: Path) -> None:
    encoder = _encoder(sd_folder)
    assert not any(p.requires_grad for p in encoder.parameters())
    encoder.train()
    assert encoder.training and not encoder.model.training
    assert encoder.weights_fingerprint


def test_half_precision_returns_float32_features(sd_folder: Path) -> None:
    encoder = _encoder(sd_folder, dtype="bfloat16")
    assert encoder.model.get_input_embeddings().weight.dtype == torch.bfloat16
    out = encoder.encode_text(["a red circle"])
    assert out.features.dtype == torch.float32 and bool(torch.isfinite(out.features).all())


def test_rejects_a_single_string(sd_folder: Path) -> None:
    with pytest.raises(TypeError, match="not one string"):
        _encoder(sd_folder).encode_text("a red circle")


# -- loading -------------------------------------------------------------------------------

def test_built_through_the_registry(sd_folder: Path) -> None:
    reset_plugins()
    entry = get_registry("encoder").get("clip-text")
    assert entry.distribution == "voxcore-asr"
    encoder = entry.build({"model": str(sd_folder)})
    assert isinstance(encoder, ClipTextEncoder) and encoder.output_dim == TINY_CLIP["hidden_size"]


def test_plain_clip_layout(tmp_path: Path, sd_folder: Path) -> None:
    save_tiny_clip_text(tmp_path, layout="clip")
    encoder = _encoder(tmp_path, text_encoder_subfolder="", tokenizer_subfolder="")
    torch.testing.assert_close(encoder.encode_text(["a red circle"]).features,
                               _encoder(sd_folder).encode_text(["a red circle"]).features)


def test_plain_clip_layout_needs_the_subfolders_unset(tmp_path: Path) -> None:
    save_tiny_clip_text(tmp_path, layout="clip")
    with pytest.raises(UserError, match=r"no text_encoder/config\.json; set "
                                        r"encoder\.config\.text_encoder_subfolder"):
        _encoder(tmp_path)


def test_refuses_pickled_weights(tmp_path: Path) -> None:
    save_tiny_clip_text(tmp_path, safe_serialization=False)
    with pytest.raises(UserError, match=r"It has pytorch_model\.bin: voxcore loads only "
                                        "safetensors"):
        _encoder(tmp_path)


def test_refuses_another_architecture(tmp_path: Path) -> None:
    (tmp_path / "text_encoder").mkdir()
    (tmp_path / "text_encoder" / "config.json").write_text('{"model_type": "t5"}')
    with pytest.raises(UserError, match="describes a 't5' model, not a CLIP text encoder"):
        _encoder(tmp_path)


@pytest.mark.parametrize("offline", ["1", ""])
def test_hub_id_offline_fails_fast_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline: str
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    cache = tmp_path / "hub"
    started = time.monotonic()
    with pytest.raises(PretrainedNotFoundError) as caught:
        load_clip_text(ClipTextConfig(cache_dir=str(cache)))
    if offline:
        assert time.monotonic() - started < 10
    message = str(caught.value)
    assert "'stable-diffusion-v1-5/stable-diffusion-v1-5'" in message
    assert f"is not in the Hugging Face cache {cache}" in message
    assert "set encoder.config.model to the downloaded folder" in message


def test_fingerprint_follows_the_files(tmp_path: Path) -> None:
    save_tiny_clip_text(tmp_path / "a", seed=0)
    first = _encoder(tmp_path / "a").weights_fingerprint
    assert _encoder(tmp_path / "a").weights_fingerprint == first
    save_tiny_clip_text(tmp_path / "a", seed=1)
    assert _encoder(tmp_path / "a").weights_fingerprint != first


# -- config ----------------------------------------------------------------------------------

def test_config_defaults() -> None:
    config = ClipTextConfig()
    assert (config.model, config.text_encoder_subfolder, config.tokenizer_subfolder,
            config.layer, config.pad, config.dtype) == (
        "stable-diffusion-v1-5/stable-diffusion-v1-5", "text_encoder", "tokenizer", -1, True,
        "float32")


@pytest.mark.parametrize(("values", "message"), [
    ({"layers": 3}, "Extra inputs are not permitted"),
    ({"dtype": "float64"}, "'float32', 'float16' or 'bfloat16'"),
    ({"tokenizer_subfolder": "../elsewhere"}, "must be a folder inside the checkpoint"),
    ({"max_length": 1}, "greater than or equal to 2"),
])
def test_config_rejects(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ClipTextConfig.model_validate(values)


def test_plugin_module_does_not_import_torch() -> None:
    code = "import sys, voxcore_asr; print('torch' in sys.modules, 'transformers' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip() == "False False"
