"""The paper-size LLaVA-OneVision architecture, for counting parameters and cost offline.

Values of ``llava-hf/llava-onevision-qwen2-7b-ov-hf``, as transformers' conversion script
(``convert_llava_onevision_weights_to_hf.py``) builds its config: the vision tower is
``google/siglip-so400m-patch14-384`` without its last layer and head (26 layers, width 1152),
the language model ``Qwen/Qwen2-7B-Instruct``'s ``config.json`` (28 layers, width 3584, 28
query and 4 key-value heads, vocabulary 152064, padded by the script to a multiple of 64 after
adding ``<image>`` and ``<video>``: 152128), 729 image tokens per 384 px crop, ``anyres_max_9``
tiling and a learned image-newline vector.
"""

from __future__ import annotations

from typing import Any

__all__ = ["IMAGE_TOKENS_PER_CROP", "QWEN2_7B_TEXT", "SIGLIP_SO400M_VISION",
           "llava_onevision_config"]

#: ``google/siglip-so400m-patch14-384`` as LLaVA-OneVision uses it (last layer and head dropped).
SIGLIP_SO400M_VISION: dict[str, Any] = {
    "model_type": "siglip_vision_model",
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_hidden_layers": 26,
    "num_attention_heads": 16,
    "image_size": 384,
    "patch_size": 14,
    "vision_use_head": False,
}

#: ``Qwen/Qwen2-7B-Instruct``, its vocabulary padded as in the llava-hf checkpoint.
QWEN2_7B_TEXT: dict[str, Any] = {
    "model_type": "qwen2",
    "hidden_size": 3584,
    "intermediate_size": 18944,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "max_position_embeddings": 32768,
    "rope_theta": 1_000_000.0,
    "rms_norm_eps": 1e-6,
    "vocab_size": 152128,
    "tie_word_embeddings": False,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
}

#: (384 / 14) ** 2 patches of one crop, each one token.
IMAGE_TOKENS_PER_CROP = 729


def llava_onevision_config(vision: dict[str, Any] | None = None,
                           text: dict[str, Any] | None = None, **settings: Any) -> Any:
    """A transformers ``LlavaOnevisionConfig`` (default: llava-onevision-qwen2-7b-ov)."""
    from transformers import LlavaOnevisionConfig

    return LlavaOnevisionConfig(
        vision_config=dict(vision if vision is not None else SIGLIP_SO400M_VISION),
        text_config=dict(text if text is not None else QWEN2_7B_TEXT),
        **{"image_token_index": 151646, "video_token_index": 151647,
           "vision_feature_select_strategy": "full", "vision_feature_layer": -1,
           "vision_aspect_ratio": "anyres_max_9", "use_image_newline_parameter": True,
           "tie_word_embeddings": False, **settings})
