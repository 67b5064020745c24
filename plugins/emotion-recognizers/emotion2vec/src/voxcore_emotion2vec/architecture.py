"""emotion2vec+ architectures as FunASR configs: the published large one, and a tiny one.

The recognizer always builds the model from the checkpoint's own ``config.yaml``; these
configs serve what has no checkpoint: the size and cost of emotion2vec+ large on the ``meta``
device, and a tiny random-weight checkpoint for tests (:mod:`voxcore_emotion2vec.tiny`).

Where :data:`PLUS_LARGE` comes from. The Hugging Face copy of the checkpoint,
``emotion2vec/emotion2vec_plus_large`` (``config.yaml`` at revision 6b7a78b), states:
``embed_dim: 1024``, ``depth: 8``, ``mlp_ratio: 4.0``, ``layer_norm_first: false``,
``normalize: true``, ``average_top_k_layers: 16``, ``extractor_mode: layer_norm``,
``feature_encoder_spec: '[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] + [(512,2,2)]'``,
``conv_pos_width: 95``, ``conv_pos_depth: 5``, ``conv_pos_groups: 16``,
``conv_pos_pre_ln: false``, ``init_extra_token_zero: true`` and a pre-training decoder
(``decoder_dim: 768``, ``decoder_kernel: 7``, ``decoder_layers: 4``, ``decoder_groups: 16``).
The rest of that file could not be read here; these values are inferred: ``prenet_depth: 4``
and ``num_extra_tokens: 10`` as in every other emotion2vec config (emotion2vec_base,
emotion2vec_plus_base, emotion2vec_plus_seed), ``num_heads`` = ``num_alibi_heads`` = 16
(1024 / 64; heads change no parameter count), ``norm_eps: 1e-5``. ``prenet_depth: 4`` is
also what the file sizes say: plus_base's ``model.pt`` (1.12 GB) holds three float32 values
per parameter of its 93.2 M-parameter network, and 3 x 162 M x 4 bytes is the 1.95 GB of
plus_large's (8 + 16 blocks would make 3.8 GB). The model card's "~300M" fits neither.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["PLUS_LARGE", "TINY", "model_conf"]

_DECODER = {
    "decoder_dim": 768, "decoder_groups": 16, "decoder_kernel": 7, "decoder_layers": 4,
    "decoder_residual": True, "input_dropout": 0.1, "projection_layers": 1,
    "projection_ratio": 2.0, "add_positions_all": False, "add_positions_masked": False,
}

_AUDIO = {
    "type": "AUDIO", "prenet_depth": 4, "prenet_layerdrop": 0.0, "prenet_dropout": 0.1,
    "start_drop_path_rate": 0.0, "end_drop_path_rate": 0.0,
    "num_extra_tokens": 10, "init_extra_token_zero": True,
    "mask_noise_std": 0.01, "mask_prob_min": None, "mask_prob": 0.5, "inverse_mask": False,
    "mask_prob_adjust": 0.05, "keep_masked_pct": 0.0, "mask_length": 5, "add_masks": False,
    "remove_masks": False, "mask_dropout": 0.0, "encoder_zero_mask": True,
    "mask_channel_prob": 0.0, "mask_channel_length": 64, "ema_local_encoder": False,
    "local_grad_mult": 1.0, "use_alibi_encoder": True, "alibi_scale": 1.0,
    "learned_alibi": False, "alibi_max_pos": None, "learned_alibi_scale": True,
    "learned_alibi_scale_per_head": True, "learned_alibi_scale_per_layer": False,
    "num_alibi_heads": 16, "model_depth": 8,
    "extractor_mode": "layer_norm",
    "feature_encoder_spec": "[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] + [(512,2,2)]",
    "conv_pos_width": 95, "conv_pos_groups": 16, "conv_pos_depth": 5, "conv_pos_pre_ln": False,
    "decoder": _DECODER,
}

#: FunASR's ``model_conf`` of emotion2vec+ large (see the module docstring for the sources).
PLUS_LARGE: dict[str, Any] = {
    "embed_dim": 1024, "depth": 8, "num_heads": 16, "mlp_ratio": 4.0,
    "norm_eps": 1e-5, "norm_affine": True, "layer_norm_first": False,
    "end_of_block_targets": False, "encoder_dropout": 0.1, "attention_dropout": 0.1,
    "activation_dropout": 0.0, "post_mlp_drop": 0.1, "dropout_input": 0.0, "layerdrop": 0.0,
    "start_drop_path_rate": 0.0, "end_drop_path_rate": 0.0, "average_top_k_layers": 16,
    "loss_beta": 0.0, "loss_scale": None, "clone_batch": 12, "normalize": True,
    "modalities": {"audio": _AUDIO},
}

#: A tiny emotion2vec+ (about 50 k parameters, 50 frames a second like the real one) with
#: the same structure, decoder included, for tests on a CPU.
TINY: dict[str, Any] = {
    **PLUS_LARGE, "embed_dim": 32, "depth": 2, "num_heads": 2, "mlp_ratio": 2.0,
    "modalities": {"audio": {
        **_AUDIO, "prenet_depth": 1, "num_alibi_heads": 2, "model_depth": 2,
        "feature_encoder_spec": "[(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2",
        "conv_pos_width": 8, "conv_pos_groups": 4, "conv_pos_depth": 1,
        "decoder": {**_DECODER, "decoder_dim": 16, "decoder_groups": 4, "decoder_layers": 1},
    }},
}


def model_conf(base: dict[str, Any], **audio: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with ``audio`` replacing keys of its audio modality."""
    conf = copy.deepcopy(base)
    conf["modalities"]["audio"].update(audio)
    return conf
