"""F5-TTS's model: the DiT of a named f5-tts config (or explicit dimensions) inside its CFM.

The mel settings are those of every published F5-TTS checkpoint (Vocos mel, 100 bands,
24 kHz, hop 256). The DiT is built with padding masked in attention: a batch of texts of
different lengths then gives each the speech it gets alone (f5-tts's own configs leave that
off, so its batched inference lets padding leak into attention).
"""

from __future__ import annotations

import warnings
from importlib import resources
from typing import Any

import torch
import yaml

from voxcore_f5tts.config import F5Architecture, F5TTSConfig

__all__ = ["HOP_LENGTH", "MEL_CHANNELS", "SAMPLE_RATE", "architecture_of", "build_cfm",
           "build_dit", "mel_settings"]

SAMPLE_RATE = 24_000
HOP_LENGTH = 256
MEL_CHANNELS = 100
_WINDOW = 1024


def mel_settings() -> dict[str, Any]:
    """The mel spectrogram F5-TTS works on (f5-tts's ``MelSpec`` arguments)."""
    return {"n_fft": _WINDOW, "hop_length": HOP_LENGTH, "win_length": _WINDOW,
            "n_mel_channels": MEL_CHANNELS, "target_sample_rate": SAMPLE_RATE,
            "mel_spec_type": "vocos"}


def architecture_of(config: F5TTSConfig) -> F5Architecture:
    """The DiT dimensions ``config`` names: read from f5-tts's own yaml for a name."""
    if isinstance(config.architecture, F5Architecture):
        return config.architecture
    text = (resources.files("f5_tts") / "configs" / f"{config.architecture}.yaml").read_text()
    model = yaml.safe_load(text)["model"]
    if model.get("backbone") != "DiT" or model["mel_spec"]["mel_spec_type"] != "vocos":
        raise ValueError(f"f5-tts config {config.architecture} is not a DiT on Vocos mels")
    fields = set(F5Architecture.model_fields)
    return F5Architecture(**{key: value for key, value in model["arch"].items()
                             if key in fields})


def build_dit(architecture: F5Architecture, vocab_size: int) -> torch.nn.Module:
    """F5-TTS's DiT for a vocabulary of ``vocab_size`` symbols (weights random)."""
    from f5_tts.model.backbones.dit import DiT  # type: ignore[import-untyped]

    with warnings.catch_warnings():
        # "attn_mask_enabled=True with attn_backend='torch' can consume large GPU memory":
        # the mask is what keeps batched speech equal to speech made alone.
        warnings.filterwarnings("ignore", message="attn_mask_enabled=True")
        dit: torch.nn.Module = DiT(**architecture.model_dump(), text_num_embeds=vocab_size,
                                   mel_dim=MEL_CHANNELS, attn_backend="torch",
                                   attn_mask_enabled=True)
    return dit


def build_cfm(architecture: F5Architecture, vocab_char_map: dict[str, int]) -> Any:
    """f5-tts's ``CFM`` around a DiT (as its ``load_model`` builds it; weights random)."""
    from f5_tts.model.cfm import CFM  # type: ignore[import-untyped]

    cfm = CFM(transformer=build_dit(architecture, len(vocab_char_map)),
              mel_spec_kwargs=mel_settings(), odeint_kwargs={"method": "euler"},
              vocab_char_map=vocab_char_map)
    return cfm
