"""A tiny random-weight F5-TTS and Vocos, written in the published checkpoints' formats.

For tests and measurements without network: f5-tts's and vocos's own classes (not this
plugin's) build a CFM around a small DiT and a narrow Vocos; the CFM is saved as f5-tts
releases its EMA weights (a safetensors file of ``ema_model.<param>`` tensors) beside its
``vocab.txt``, the vocoder as ``charactr/vocos-mel-24khz`` is laid out (``config.yaml`` +
``pytorch_model.bin``). Every weight of the DiT is drawn at random: f5-tts zeroes its output
layers at initialisation, which would make the flow zero and the speech pure noise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

__all__ = ["TINY_ARCHITECTURE", "VOCOS_CONFIG", "tiny_config", "write_tiny_checkpoint",
           "write_tiny_vocos"]

#: The tiny DiT's dimensions (F5TTS_v1_Base: dim 1024, depth 22, heads 16, text_dim 512,
#: conv_layers 4).
TINY_ARCHITECTURE: dict[str, int] = {"dim": 32, "depth": 2, "heads": 2, "dim_head": 16,
                                     "ff_mult": 2, "text_dim": 16, "conv_layers": 1}
_SYMBOLS = [" ", *"abcdefghijklmnopqrstuvwxyz", *".,'?!"]

#: charactr/vocos-mel-24khz's config.yaml, its backbone's widths left to fill in (the real
#: one: dim 512, intermediate_dim 1536, num_layers 8).
VOCOS_CONFIG = """\
feature_extractor:
  class_path: vocos.feature_extractors.MelSpectrogramFeatures
  init_args:
    sample_rate: 24000
    n_fft: 1024
    hop_length: 256
    n_mels: 100
    padding: center
backbone:
  class_path: vocos.models.VocosBackbone
  init_args:
    input_channels: 100
    dim: {dim}
    intermediate_dim: {intermediate}
    num_layers: {layers}
head:
  class_path: vocos.heads.ISTFTHead
  init_args:
    dim: {dim}
    n_fft: 1024
    hop_length: 256
    padding: center
"""


def write_tiny_checkpoint(folder: Path, *, seed: int = 0,
                          architecture: dict[str, int] | None = None) -> Path:
    """A random CFM + DiT as an f5-tts EMA safetensors checkpoint (``model_tiny.safetensors``)
    with its ``vocab.txt`` in ``folder``; returns the checkpoint's path."""
    from f5_tts.model import CFM, DiT  # type: ignore[import-untyped]
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("".join(f"{s}\n" for s in _SYMBOLS), encoding="utf-8")
    generator = torch.Generator().manual_seed(seed)
    model = CFM(transformer=DiT(**(architecture or TINY_ARCHITECTURE),
                                text_num_embeds=len(_SYMBOLS), mel_dim=100),
                mel_spec_kwargs={"n_fft": 1024, "hop_length": 256, "win_length": 1024,
                                 "n_mel_channels": 100, "target_sample_rate": 24_000,
                                 "mel_spec_type": "vocos"},
                odeint_kwargs={"method": "euler"})
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(0.1 * torch.randn(parameter.shape, generator=generator))
    path = folder / "model_tiny.safetensors"
    save_file({f"ema_model.{key}": value.contiguous()
               for key, value in model.state_dict().items()}, str(path))
    return path


def write_tiny_vocos(folder: Path, *, dim: int = 32, intermediate: int = 64, layers: int = 1,
                     seed: int = 1) -> Path:
    """A random Vocos mel vocoder laid out as charactr/vocos-mel-24khz in ``folder``."""
    from vocos import Vocos  # type: ignore[import-untyped]

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(VOCOS_CONFIG.format(dim=dim, intermediate=intermediate,
                                                            layers=layers))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        vocos = Vocos.from_hparams(str(folder / "config.yaml"))
    torch.save(vocos.state_dict(), folder / "pytorch_model.bin")
    return folder


def tiny_config(model: Path, vocoder: Path, /, **overrides: Any) -> dict[str, Any]:
    """An ``f5-tts`` config for the tiny model in ``model`` and ``vocoder`` (4 flow steps)."""
    return {"model": str(model), "vocoder": str(vocoder), "architecture": TINY_ARCHITECTURE,
            "nfe_step": 4, **overrides}
