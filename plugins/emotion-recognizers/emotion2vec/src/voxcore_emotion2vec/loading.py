"""Reading an emotion2vec+ checkpoint folder into FunASR's ``Emotion2vec`` module.

FunASR's ``AutoModel`` does the same from the same files, but also reaches for the model hubs
and unpickles ``model.pt`` with whatever ``torch.load`` allows. Here the module is built from
``config.yaml`` on the ``meta`` device (no memory for weights about to be replaced), the
weights are read with ``torch.load(weights_only=True)`` (tensors only, never code) and
assigned, and the pre-training decoder, which inference never runs and the published
checkpoints do not even hold, is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from funasr.models.emotion2vec.model import Emotion2vec  # type: ignore[import-untyped]

from voxcore.plugin_api import UserError

__all__ = ["build_emotion2vec", "load_emotion2vec", "read_model_conf"]

_NESTED = ("state_dict", "model_state_dict", "model")
_PREFIX = "module."


def read_model_conf(folder: Path) -> dict[str, Any]:
    """The ``model_conf`` of ``folder/config.yaml``, checked to describe an Emotion2vec."""
    from omegaconf import OmegaConf

    path = folder / "config.yaml"
    try:
        config = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except Exception as exc:  # OmegaConf reports YAML and interpolation errors variously
        raise UserError(f"cannot read {path} ({type(exc).__name__}: {exc})") from exc
    if not isinstance(config, dict) or config.get("model") != "Emotion2vec":
        found = config.get("model") if isinstance(config, dict) else None
        raise UserError(f"{path} describes a {found!r} model, not FunASR's 'Emotion2vec'; "
                        "point the recognizer at an emotion2vec+ checkpoint")
    conf = config.get("model_conf")
    if not isinstance(conf, dict) or not isinstance(conf.get("modalities"), dict):
        raise UserError(f"{path} has no model_conf with modalities.audio; it is not an "
                        "emotion2vec+ config")
    return conf


def build_emotion2vec(model_conf: Mapping[str, Any], vocab_size: int) -> Emotion2vec:
    """An ``Emotion2vec`` on the current default device without its pre-training decoder,
    in eval mode (dropout off), with ``vocab_size`` outputs."""
    model = Emotion2vec(model_conf=dict(model_conf), vocab_size=vocab_size)
    model.modality_encoders["AUDIO"].remove_pretraining_modules()
    return model.eval().requires_grad_(False)


def _state_of(path: Path) -> dict[str, torch.Tensor]:
    try:
        state: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle and zip errors, and refusals of non-tensor objects
        raise UserError(f"cannot read the weights in {path} as tensors "
                        f"({type(exc).__name__}: {exc})") from exc
    for key in _NESTED:  # FunASR accepts these wrappers around the state dict
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise UserError(f"{path} does not hold a state dict (found {type(state).__name__})")
    return {key.removeprefix(_PREFIX): value for key, value in state.items()}


def load_emotion2vec(folder: Path, vocab_size: int) -> Emotion2vec:
    """The checkpoint in ``folder`` (eval mode, on the CPU, float32 as stored) with
    ``vocab_size`` outputs; :class:`UserError` when its weights do not fit its config."""
    model_conf = read_model_conf(folder)
    with torch.device("meta"):
        model = build_emotion2vec(model_conf, vocab_size)
    expected = model.state_dict()
    state = _state_of(folder / "model.pt")
    missing = sorted(set(expected) - set(state))
    wrong = sorted(key for key in set(expected) & set(state)
                   if tuple(state[key].shape) != tuple(expected[key].shape))
    if missing or wrong:
        shapes = [f"{key}: {tuple(state[key].shape)} in model.pt, "
                  f"{tuple(expected[key].shape)} by config.yaml" for key in wrong[:3]]
        raise UserError(f"the weights in {folder / 'model.pt'} do not fit its config.yaml and "
                        f"tokens.txt ({vocab_size} labels): missing {missing[:5]}"
                        f"{' ...' if len(missing) > 5 else ''}; {'; '.join(shapes)}")
    # Keys the inference graph lacks (decoder, EMA teacher) are pre-training leftovers.
    model.load_state_dict({key: state[key] for key in expected}, strict=True, assign=True)
    return model
