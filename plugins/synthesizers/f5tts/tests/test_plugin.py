"""Registration, config and architecture of the ``f5-tts`` synthesizer (no weights)."""

from __future__ import annotations

import subprocess
import sys

import pydantic
import pytest
import torch
from voxcore_f5tts import ARCHITECTURE_NAMES, F5Architecture, F5TTSConfig
from voxcore_f5tts.architectures import architecture_of, build_dit
from voxcore_f5tts.sources import package_vocab

from voxcore.plugin_api import get_registry

#: Parameters of F5TTS_v1_Base's DiT over f5-tts's 2545-symbol vocabulary, counted here on the
#: meta device. The F5-TTS paper (Chen et al. 2024, arXiv:2410.06885, its model table) gives
#: 336M for F5-TTS Base; v1 changes no parameter (text padding mask, rotary on all heads).
PAPER_DIT_PARAMETERS = 336_000_000
COUNTED_DIT_PARAMETERS = 337_096_804


def test_registered_as_synthesizer_f5_tts() -> None:
    entry = get_registry("synthesizer").get("f5-tts")
    assert entry.config_model is F5TTSConfig
    assert entry.distribution == "voxcore-f5tts"


def test_importing_the_plugin_imports_no_torch() -> None:
    code = "import sys, voxcore_f5tts; print('torch' in sys.modules, 'f5_tts' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False"]


def test_config_defaults_are_f5tts_own() -> None:
    config = F5TTSConfig()
    assert config.model == "hf://SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors"
    assert config.vocoder == "charactr/vocos-mel-24khz"
    assert (config.nfe_step, config.cfg_strength, config.sway_sampling_coef, config.speed,
            config.target_rms, config.cross_fade_duration) == (32, 2.0, -1.0, 1.0, 0.1, 0.15)
    assert config.architecture == "F5TTS_v1_Base"
    assert all(field.description for field in F5TTSConfig.model_fields.values())


@pytest.mark.parametrize("bad", [{"nfe": 16}, {"architecture": "E2TTS_Base"},
                                 {"architecture": {"dim": 8}}, {"max_reference_seconds": 30},
                                 {"batch_size": 0}, {"dtype": "float64"}])
def test_config_refuses_what_cannot_work(bad: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        F5TTSConfig.model_validate(bad)


def test_named_architectures_come_from_f5tts_configs() -> None:
    v1 = architecture_of(F5TTSConfig())
    assert (v1.dim, v1.depth, v1.heads, v1.ff_mult, v1.text_dim, v1.conv_layers) == (
        1024, 22, 16, 2, 512, 4)
    assert v1.text_mask_padding and v1.pe_attn_head is None
    first = architecture_of(F5TTSConfig(architecture="F5TTS_Base"))
    assert not first.text_mask_padding and first.pe_attn_head == 1
    for name in ARCHITECTURE_NAMES:
        assert architecture_of(F5TTSConfig(architecture=name)).dim > 0  # type: ignore[arg-type]
    tiny = F5Architecture(dim=32, depth=2, heads=2, text_dim=16)
    assert architecture_of(F5TTSConfig(architecture=tiny)) == tiny


def test_paper_architecture_has_the_published_parameter_count() -> None:
    vocab_size = len(package_vocab().read_text(encoding="utf-8").splitlines())
    with torch.device("meta"):
        dit = build_dit(architecture_of(F5TTSConfig()), vocab_size)
    count = sum(parameter.numel() for parameter in dit.parameters())
    assert count == COUNTED_DIT_PARAMETERS
    assert abs(count - PAPER_DIT_PARAMETERS) / PAPER_DIT_PARAMETERS < 0.005
