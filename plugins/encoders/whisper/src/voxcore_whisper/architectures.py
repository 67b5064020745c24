"""Published Whisper architectures, for counting parameters and FLOPs without the weights.

The hub's ``config.json`` of each checkpoint is the source of these values; they are written
down here so that the full-size encoder can be instantiated on the ``meta`` device offline.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WHISPER_LARGE_V3", "whisper_config"]

#: ``openai/whisper-large-v3``: 32 + 32 layers of width 1280, 128 mel bins, 1.55 B parameters.
WHISPER_LARGE_V3: dict[str, Any] = {
    "d_model": 1280,
    "encoder_layers": 32,
    "encoder_attention_heads": 20,
    "encoder_ffn_dim": 5120,
    "decoder_layers": 32,
    "decoder_attention_heads": 20,
    "decoder_ffn_dim": 5120,
    "num_mel_bins": 128,
    "max_source_positions": 1500,
    "max_target_positions": 448,
    "vocab_size": 51866,
    "pad_token_id": 50256,
    "bos_token_id": 50257,
    "eos_token_id": 50257,
    "decoder_start_token_id": 50258,
}


def whisper_config(values: dict[str, Any] | None = None) -> Any:
    """A transformers ``WhisperConfig`` of ``values`` (default: whisper-large-v3)."""
    from transformers import WhisperConfig

    return WhisperConfig(**(values if values is not None else WHISPER_LARGE_V3))
