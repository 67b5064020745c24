"""Tiny random-weight checkpoints for tests, laid out like the real ones, built offline.

As transformers' own tests do, the models are built from small configs; the tokenizers are
byte-level BPE tokenizers with no merges (every byte is a token), so any text round-trips and
nothing has to be downloaded. The core's tests (transcript caching, the cascade in training)
can use them too::

    from voxcore_asr.testing import save_tiny_whisper, save_tiny_clip_text

    whisper = save_tiny_whisper(tmp_path / "whisper")       # for encoder.config.model
    sd = save_tiny_clip_text(tmp_path / "sd")               # for text.config.model
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTokenizer,
    GenerationConfig,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
    WhisperTokenizer,
)
from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

__all__ = ["save_tiny_whisper", "save_tiny_clip_text", "WHISPER_SPECIAL_TOKENS",
           "TINY_WHISPER", "TINY_CLIP"]

#: Whisper's special tokens, in the order the real vocabulary has them (a subset of languages).
WHISPER_SPECIAL_TOKENS = ("<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|de|>",
                          "<|fr|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
                          "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>")

#: Sizes of the tiny Whisper (vocabulary and token ids are filled in from the tokenizer).
TINY_WHISPER: dict[str, Any] = {
    "d_model": 32, "encoder_layers": 1, "encoder_attention_heads": 2, "encoder_ffn_dim": 64,
    "decoder_layers": 1, "decoder_attention_heads": 2, "decoder_ffn_dim": 64,
    "num_mel_bins": 80, "max_source_positions": 1500, "max_target_positions": 64,
}

#: Sizes of the tiny CLIP text encoder.
TINY_CLIP: dict[str, Any] = {
    "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "max_position_embeddings": 77, "projection_dim": 32,
}


def _byte_vocab(folder: Path, suffixed: bool) -> dict[str, int]:
    """Write a byte-level ``vocab.json`` (plus ``c</w>`` forms for CLIP) and empty merges."""
    chars = list(bytes_to_unicode().values())
    tokens = chars + ([f"{c}</w>" for c in chars] if suffixed else [])
    vocab = {token: index for index, token in enumerate(tokens)}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return vocab


def save_tiny_whisper(folder: Path, *, seed: int = 0, multilingual: bool = True,
                      **save_options: Any) -> WhisperForConditionalGeneration:
    """A tiny random Whisper checkpoint (model, generation config, tokenizer, feature extractor).

    ``multilingual`` gives it language and task tokens (like ``openai/whisper-tiny``); without
    them it is English-only (like ``openai/whisper-tiny.en``). ``save_options`` go to the
    model's ``save_pretrained`` (e.g. ``safe_serialization=False`` for a pickled checkpoint).
    """
    _byte_vocab(folder, suffixed=False)
    specials = WHISPER_SPECIAL_TOKENS if multilingual else (
        "<|endoftext|>", "<|startoftranscript|>", "<|startoflm|>", "<|startofprev|>",
        "<|nocaptions|>", "<|notimestamps|>")
    tokenizer = WhisperTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"),
                                 additional_special_tokens=list(specials[1:]),
                                 pad_token="<|endoftext|>", model_max_length=448)
    ids = {token: int(tokenizer.convert_tokens_to_ids(token)) for token in specials}
    end, start = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    config = WhisperConfig(**TINY_WHISPER, vocab_size=len(tokenizer), pad_token_id=end,
                           bos_token_id=end, eos_token_id=end, decoder_start_token_id=start,
                           begin_suppress_tokens=None, suppress_tokens=None)
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).eval()
    generation: dict[str, Any] = {
        "bos_token_id": end, "eos_token_id": end, "pad_token_id": end,
        "decoder_start_token_id": start, "max_length": TINY_WHISPER["max_target_positions"],
        "no_timestamps_token_id": ids["<|notimestamps|>"], "is_multilingual": multilingual,
        "begin_suppress_tokens": [220, end],
        # Like the real checkpoints' suppress list: keeps the random model from emitting only
        # special tokens, so transcripts are non-empty text.
        "suppress_tokens": sorted(i for token, i in ids.items() if token != "<|endoftext|>"),
    }
    if multilingual:
        generation["lang_to_id"] = {token: ids[token] for token in ("<|en|>", "<|de|>",
                                                                    "<|fr|>")}
        generation["task_to_id"] = {"transcribe": ids["<|transcribe|>"],
                                    "translate": ids["<|translate|>"]}
    model.generation_config = GenerationConfig(**generation)
    model.save_pretrained(folder, **save_options)
    tokenizer.save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=TINY_WHISPER["num_mel_bins"]).save_pretrained(folder)
    return model


def save_tiny_clip_text(folder: Path, *, seed: int = 0, layout: str = "sd",
                        **save_options: Any) -> CLIPTextModel:
    """A tiny random CLIP text encoder and tokenizer.

    ``layout="sd"`` lays them out like a Stable Diffusion checkpoint (``text_encoder/``,
    ``tokenizer/``, ``model_index.json``); ``layout="clip"`` puts both at the root, like a
    plain CLIP model.
    """
    if layout not in ("sd", "clip"):
        raise ValueError(f"layout must be 'sd' or 'clip', got {layout!r}")
    model_dir = folder / "text_encoder" if layout == "sd" else folder
    tokenizer_dir = folder / "tokenizer" if layout == "sd" else folder
    vocab = _byte_vocab(tokenizer_dir, suffixed=True)
    tokenizer = CLIPTokenizer(str(tokenizer_dir / "vocab.json"),
                              str(tokenizer_dir / "merges.txt"), model_max_length=77)
    tokenizer.save_pretrained(tokenizer_dir)
    end = int(tokenizer.convert_tokens_to_ids("<|endoftext|>"))
    begin = int(tokenizer.convert_tokens_to_ids("<|startoftext|>"))
    assert len(tokenizer) == len(vocab) + 2
    config = CLIPTextConfig(**TINY_CLIP, vocab_size=len(tokenizer), bos_token_id=begin,
                            eos_token_id=end, pad_token_id=end)
    torch.manual_seed(seed)
    model = CLIPTextModel(config).eval()
    model.save_pretrained(model_dir, **save_options)
    if layout == "sd":
        (folder / "model_index.json").write_text(json.dumps(
            {"_class_name": "StableDiffusionPipeline", "text_encoder": ["transformers",
             "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"]}))
    return model
