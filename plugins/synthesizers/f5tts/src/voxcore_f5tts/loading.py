"""Reading F5-TTS's weights from local files: checkpoint, vocabulary, Vocos vocoder.

Checkpoints are read as f5-tts's ``load_checkpoint`` reads them (its EMA weights: keys
``ema_model.<param>`` in a safetensors file, or ``ema_model_state_dict`` in a ``.pt``), but a
``.pt`` only with ``torch.load(weights_only=True)``. The Vocos folder's ``config.yaml`` names
classes; only Vocos's own mel-spectrogram classes are built from it, so a config file cannot
run other code (``Vocos.from_hparams`` would import whatever it names).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import yaml

from voxcore.plugin_api import UserError
from voxcore_f5tts.architectures import HOP_LENGTH, MEL_CHANNELS, SAMPLE_RATE

__all__ = ["checkpoint_state", "load_vocab", "load_vocoder"]

_EMA_PREFIX = "ema_model."
#: Entries of f5-tts checkpoints that are not weights (EMA bookkeeping, mel buffers of old
#: releases), dropped as f5-tts drops them.
_NOT_WEIGHTS = frozenset({"initted", "step", "mel_spec.mel_stft.mel_scale.fb",
                          "mel_spec.mel_stft.spectrogram.window"})


def load_vocab(path: Path) -> dict[str, int]:
    """Symbol -> id from a vocab.txt (one symbol per line, line number = id, as f5-tts)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    vocab = {symbol: index for index, symbol in enumerate(lines)}
    if vocab.get(" ") != 0:
        raise UserError(f"vocabulary {path} must have the space on its first line (id 0, which "
                        "f5-tts also gives unknown symbols)")
    return vocab


def checkpoint_state(path: Path) -> dict[str, torch.Tensor]:
    """The CFM's weights in ``path``: the EMA copy when there is one, prefix removed."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state: dict[str, Any] = load_file(str(path))
    else:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(loaded, dict):
            raise UserError(f"checkpoint {path} holds a {type(loaded).__name__}, not weights")
        state = loaded.get("ema_model_state_dict") or loaded.get("model_state_dict") or loaded
    return {key.removeprefix(_EMA_PREFIX): value for key, value in state.items()
            if key.removeprefix(_EMA_PREFIX) not in _NOT_WEIGHTS}


def load_vocoder(folder: Path) -> torch.nn.Module:
    """The Vocos vocoder in ``folder`` (``config.yaml`` + ``pytorch_model.bin``), eval mode."""
    from vocos import Vocos  # type: ignore[import-untyped]
    from vocos.feature_extractors import MelSpectrogramFeatures  # type: ignore[import-untyped]
    from vocos.heads import ISTFTHead  # type: ignore[import-untyped]
    from vocos.models import VocosBackbone  # type: ignore[import-untyped]

    config_path = folder / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    allowed = {"feature_extractor": MelSpectrogramFeatures, "backbone": VocosBackbone,
               "head": ISTFTHead}
    parts: dict[str, Any] = {}
    for part, cls in allowed.items():
        entry = config.get(part) if isinstance(config, dict) else None
        expected = f"{cls.__module__}.{cls.__name__}"
        if not isinstance(entry, dict) or entry.get("class_path") != expected:
            raise UserError(f"{config_path}: {part} must be {expected} (the mel Vocos F5-TTS "
                            f"was trained with, charactr/vocos-mel-24khz)")
        parts[part] = cls(**(entry.get("init_args") or {}))
    features = parts["feature_extractor"].mel_spec
    if (features.sample_rate, features.n_mels, features.hop_length) != (
            SAMPLE_RATE, MEL_CHANNELS, HOP_LENGTH):
        raise UserError(f"{config_path} describes {features.n_mels} mel bands at "
                        f"{features.sample_rate} Hz, hop {features.hop_length}; F5-TTS makes "
                        f"{MEL_CHANNELS} at {SAMPLE_RATE} Hz, hop {HOP_LENGTH}")
    vocoder: torch.nn.Module = Vocos(**parts)
    state = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    vocoder.load_state_dict(state, strict=True)
    return vocoder.eval().requires_grad_(False)
