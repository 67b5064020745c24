"""The ``clip-text`` encoder: the frozen CLIP text encoder of a Stable Diffusion checkpoint.

It tokenizes a text exactly as Stable Diffusion's pipeline does (CLIP BPE, truncated and, with
``pad``, padded to 77 tokens) and returns the hidden states SD's UNet cross-attends to. It is a
:class:`~voxcore.interfaces.TextEncoder`, so it can stand in for a speech encoder; its weights
are frozen (``requires_grad`` False), so a model trained on top of it keeps them out of its
checkpoints, and it stays in eval mode even when the model around it trains.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from voxcore.plugin_api import (
    CannotCheck,
    ConfigProblem,
    SpeechFeatures,
    UserError,
    check_texts,
    checking,
    folder_fingerprint,
    layer_index,
    resolve_pretrained,
)
from voxcore_asr import DEFAULT_SD, ClipTextConfig

__all__ = ["ClipTextEncoder", "load_clip_text", "checkpoint_files", "CLIP_TOKENS_PER_CHARACTER",
           "DTYPES"]

#: ``SpeechFeatures.frame_rate`` of CLIP text features: tokens per character of text. CLIP's
#: BPE averages roughly four characters of English per token (BOS and EOS add two, and with
#: ``pad`` every text has 77 tokens), so this is a nominal rate, like a speech frame rate.
CLIP_TOKENS_PER_CHARACTER = 0.25

#: Recipe ``dtype`` names -> torch dtypes.
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}

_TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer_config.json",
                    "special_tokens_map.json", "added_tokens.json")


def _prefix(subfolder: str) -> str:
    return f"{subfolder}/" if subfolder else ""


def checkpoint_files(config: ClipTextConfig) -> tuple[str, ...]:
    """The files of a checkpoint ``clip-text`` reads (and downloads, when it has to)."""
    model, tokenizer = _prefix(config.text_encoder_subfolder), _prefix(config.tokenizer_subfolder)
    if config.variant:
        weights: tuple[str, ...] = (f"{model}model.{config.variant}.safetensors",
                                    f"{model}model.{config.variant}-*.safetensors",
                                    f"{model}model.safetensors.index.{config.variant}.json")
    else:
        weights = (f"{model}model.safetensors", f"{model}model-*.safetensors",
                   f"{model}model.safetensors.index.json")
    return (f"{model}config.json", *weights, *(tokenizer + name for name in _TOKENIZER_FILES))


class ClipTextEncoder(nn.Module):
    """Transcripts -> frozen CLIP text hidden states ``[B, N, hidden_size]`` and mask ``[B, N]``.

    ``model`` is a transformers :class:`CLIPTextModel` (its weights are this module's state
    under ``model.``, all with ``requires_grad`` False); ``tokenizer`` the matching
    :class:`CLIPTokenizer`. With ``config.pad`` every text is padded to ``max_length`` tokens
    and all of them are valid (Stable Diffusion conditions on the states of the padding tokens
    too); without it only BOS, the text's tokens and EOS are valid and padded positions are
    zero. CLIP's attention is causal, so a real token's state never depends on the padding
    after it: both modes agree at the real tokens.
    """

    def __init__(self, config: ClipTextConfig, model: CLIPTextModel,
                 tokenizer: CLIPTokenizer | None, fingerprint: str = "") -> None:
        super().__init__()
        self.config = config
        self.model = model
        self.tokenizer = tokenizer
        self.num_layers: int = int(model.config.num_hidden_layers)
        self.layer = layer_index(config.layer, self.num_layers, "CLIP text encoder")
        positions = int(model.config.max_position_embeddings)
        longest = int(tokenizer.model_max_length) if tokenizer is not None else positions
        wanted = config.max_length if config.max_length is not None else min(longest, positions)
        if wanted > positions:
            raise ConfigProblem("max_length", f"max_length={wanted} exceeds the {positions} "
                                              "positions of this CLIP text encoder")
        self.max_length: int = wanted
        self.output_dim: int = int(model.config.hidden_size)
        #: Changes when the files behind ``config.model`` change (used by caches).
        self.weights_fingerprint = fingerprint
        model.to(DTYPES[config.dtype])
        model.eval().requires_grad_(False)

    @property
    def device(self) -> torch.device:
        """Where the weights are (and so where :meth:`encode_text` puts its tensors)."""
        weight: torch.Tensor = self.model.text_model.embeddings.token_embedding.weight
        return weight.device

    def train(self, mode: bool = True) -> ClipTextEncoder:
        """Like ``Module.train``, but the frozen CLIP model always stays in eval mode."""
        super().train(mode)
        self.model.eval()
        return self

    def tokenize(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids ``[B, N]`` and mask ``[B, N]`` (``True`` = valid) on :attr:`device`."""
        if self.tokenizer is None:
            raise UserError("this clip-text encoder was assembled for a recipe check, without "
                            "its tokenizer")
        batch = self.tokenizer(check_texts(texts), truncation=True, max_length=self.max_length,
                               padding="max_length" if self.config.pad else "longest",
                               return_tensors="pt")
        ids: torch.Tensor = batch["input_ids"].to(self.device)
        if self.config.pad:
            mask = torch.ones(ids.shape, dtype=torch.bool, device=ids.device)
        else:
            mask = batch["attention_mask"].to(device=ids.device, dtype=torch.bool)
        return ids, mask

    def encode_text(self, texts: Sequence[str]) -> SpeechFeatures:
        """Encode a batch of transcripts of any lengths (longer ones are truncated)."""
        ids, mask = self.tokenize(texts)
        trainable = any(p.requires_grad for p in self.parameters())
        with torch.set_grad_enabled(torch.is_grad_enabled() and trainable):
            hidden = self.hidden_states(ids)
        features = hidden.float().masked_fill(~mask.unsqueeze(-1), 0.0)
        return SpeechFeatures(features=features, mask=mask, frame_rate=CLIP_TOKENS_PER_CHARACTER)

    def hidden_states(self, ids: torch.Tensor) -> torch.Tensor:
        """The configured layer's states ``[B, N, hidden_size]`` (in the model's dtype).

        No attention mask is passed, as in Stable Diffusion: attention is causal, so real tokens
        never see the padding that follows them.
        """
        last = self.layer == self.num_layers
        outputs: Any = self.model(input_ids=ids, output_hidden_states=not last)
        if last and self.config.final_norm:
            hidden: torch.Tensor = outputs.last_hidden_state
            return hidden
        hidden = outputs.hidden_states[self.layer] if not last else outputs.hidden_states[-1]
        if self.config.final_norm:
            hidden = self.model.text_model.final_layer_norm(hidden)
        return hidden

    def extra_repr(self) -> str:
        return (f"model={self.config.model!r}, layer={self.layer}/{self.num_layers}, "
                f"output_dim={self.output_dim}, max_length={self.max_length}, "
                f"pad={self.config.pad}, dtype={self.config.dtype}")


def load_clip_text(config: ClipTextConfig) -> ClipTextEncoder:
    """Build the ``clip-text`` encoder of a recipe: load the checkpoint ``config.model`` names
    (for ``voxcore recipe check``: only its architecture, on the meta device)."""
    if checking():
        return ClipTextEncoder(config, CLIPTextModel(_architecture(config)), None)
    files = checkpoint_files(config)
    folder = resolve_pretrained(config.model, what="CLIP text encoder checkpoint",
                                allow_patterns=files, revision=config.revision,
                                cache_dir=config.cache_dir)
    model = _load_model(folder, config)
    tokenizer = _load_tokenizer(folder, config)
    return ClipTextEncoder(config, model, tokenizer, folder_fingerprint(folder, files))


#: The text encoder of Stable Diffusion 1.5 (CLIP ViT-L/14's), as its config.json has it.
SD15_TEXT_ENCODER: dict[str, Any] = {
    "vocab_size": 49408, "hidden_size": 768, "intermediate_size": 3072,
    "num_hidden_layers": 12, "num_attention_heads": 12, "max_position_embeddings": 77,
    "hidden_act": "quick_gelu", "projection_dim": 768,
}


def _architecture(config: ClipTextConfig) -> CLIPTextConfig:
    """The text encoder's architecture without weights: a local checkpoint's config.json, or
    Stable Diffusion 1.5's; :class:`CannotCheck` for other hub ids."""
    folder = Path(config.model).expanduser()
    where = folder / config.text_encoder_subfolder if config.text_encoder_subfolder else folder
    if (where / "config.json").is_file():
        loaded: CLIPTextConfig = CLIPTextConfig.from_pretrained(where)
        return loaded
    if config.model == DEFAULT_SD and config.text_encoder_subfolder == "text_encoder":
        return CLIPTextConfig(**SD15_TEXT_ENCODER)
    raise CannotCheck(f"the architecture of CLIP checkpoint {config.model!r} is only known from "
                      "its config.json, and it is not a local folder")


def _subfolder_hint(option: str) -> str:
    return (f"set encoder.config.{option} to the folder holding it inside the checkpoint ('' for "
            "a plain CLIP model such as openai/clip-vit-large-patch14)")


def _load_model(folder: Path, config: ClipTextConfig) -> CLIPTextModel:
    where = folder / config.text_encoder_subfolder if config.text_encoder_subfolder else folder
    config_file = where / "config.json"
    if not config_file.is_file():
        raise UserError(f"CLIP checkpoint {folder} has no "
                        f"{_prefix(config.text_encoder_subfolder)}config.json; "
                        + _subfolder_hint("text_encoder_subfolder"))
    model_type = json.loads(config_file.read_text()).get("model_type")
    if model_type not in ("clip_text_model", "clip"):
        raise UserError(f"{config_file} describes a {model_type!r} model, not a CLIP text "
                        "encoder; set encoder.config.model to a Stable Diffusion 1.x/2.x or CLIP "
                        "checkpoint")
    try:
        model: CLIPTextModel = CLIPTextModel.from_pretrained(
            where, use_safetensors=True, variant=config.variant, dtype=DTYPES[config.dtype])
    except OSError as exc:
        pickled = sorted(p.name for p in where.glob("*.bin"))
        hint = (f" It has {', '.join(pickled)}: voxcore loads only safetensors, convert them "
                "with transformers (from_pretrained(...).save_pretrained(..., "
                "safe_serialization=True))" if pickled else "")
        raise UserError(f"could not load the CLIP text encoder in {where} ({exc}).{hint}") from exc
    return model


def _load_tokenizer(folder: Path, config: ClipTextConfig) -> CLIPTokenizer:
    where = folder / config.tokenizer_subfolder if config.tokenizer_subfolder else folder
    absent = [name for name in ("vocab.json", "merges.txt") if not (where / name).is_file()]
    if absent:
        raise UserError(f"CLIP checkpoint {folder} has no "
                        f"{_prefix(config.tokenizer_subfolder)}{absent[0]}; "
                        + _subfolder_hint("tokenizer_subfolder"))
    tokenizer: CLIPTokenizer = CLIPTokenizer.from_pretrained(where)
    return tokenizer
