"""The ``clipscore`` metric: CLIPScore of generated images against their prompts' transcripts.

``CLIPScore = mean_i max(w * cos(E_img(image_i), E_txt(transcript_i)), 0)`` with ``w = 100``
(Hessel et al. 2021 with the weight the paper's scores imply, as torchmetrics computes it),
with CLIP ViT-L/14 (``openai/clip-vit-large-patch14``) by default, loaded by transformers from
a local folder or the Hugging Face cache (:func:`voxcore.hub.resolve_pretrained`).

Images are preprocessed in torch the way CLIP's image processor does it: the shorter side
resized to the processor's ``shortest_edge`` (bicubic, antialiased), a centre crop, CLIP's
mean and standard deviation. Transcripts longer than CLIP's 77 tokens are truncated (CLIP
cannot read more); the metric warns once and counts them (``clipscore_truncated``).

The running state is the sum of per-image scores and the counts, so a saved state resumes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from voxcore.plugin_api import (
    EvalBatch,
    PretrainedNotFoundError,
    RunningGaussian,
    TensorState,
    folder_fingerprint,
    resolve_pretrained,
)
from voxcore_metrics import CLIPScoreConfig
from voxcore_metrics.images import check_images, chunks

__all__ = ["CLIPScoreMetric", "TranscriptTruncatedWarning", "build_clipscore", "load_clip"]

_OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
_OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
_FILES = ["*.json", "*.safetensors", "*.txt", "*.model"]


class TranscriptTruncatedWarning(UserWarning):
    """Some transcripts are longer than CLIP's context and were cut."""


class CLIPScoreMetric(TensorState):
    """CLIPScore of ``batch.images`` against ``batch.transcripts`` (a voxcore Metric).

    ``model`` is a transformers ``CLIPModel``, ``tokenizer`` its tokenizer; ``image_size``,
    ``crop_size``, ``mean`` and ``std`` describe CLIP's image preprocessing. :meth:`compute`
    returns ``clipscore`` (mean score), ``clipscore_truncated`` (how many transcripts were cut
    at the context length).
    """

    def __init__(self, model: Any, tokenizer: Any, *, image_size: int, crop_size: int,
                 mean: Sequence[float] = _OPENAI_MEAN, std: Sequence[float] = _OPENAI_STD,
                 weight: float = 100.0, batch_size: int = 32, device: str = "cpu") -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.device = torch.device(device)
        self.image_size = image_size
        self.crop_size = crop_size
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
        self.weight = weight
        self.batch_size = batch_size
        self.max_length = int(model.config.text_config.max_position_embeddings)
        self._warned = False
        self.total: torch.Tensor
        self.count: torch.Tensor
        self.truncated: torch.Tensor
        self.reset()

    #: Sum of the scores, images scored, transcripts truncated to CLIP's length.
    state_names: ClassVar[tuple[str, ...]] = ("total", "count", "truncated")
    state_label: ClassVar[str] = "clipscore"

    def initial_state(self) -> dict[str, torch.Tensor | RunningGaussian]:
        """Nothing scored yet."""
        return {"total": torch.zeros((), dtype=torch.float64),
                "count": torch.zeros((), dtype=torch.int64),
                "truncated": torch.zeros((), dtype=torch.int64)}

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """Float ``[B, 3, H, W]`` in ``[0, 1]`` -> CLIP's normalized ``[B, 3, crop, crop]``."""
        check_images(images)
        x = images.float()
        height, width = int(x.shape[-2]), int(x.shape[-1])
        scale = self.image_size / min(height, width)
        size = (max(self.image_size, round(height * scale)),
                max(self.image_size, round(width * scale)))
        if size != (height, width):
            x = F.interpolate(x, size=size, mode="bicubic", antialias=True,
                              align_corners=False).clamp(0, 1)
        top = (size[0] - self.crop_size) // 2
        left = (size[1] - self.crop_size) // 2
        x = x[:, :, top:top + self.crop_size, left:left + self.crop_size]
        return (x - self.mean) / self.std

    def tokenize(self, texts: Sequence[str]) -> tuple[dict[str, torch.Tensor], int]:
        """Padded, truncated token ids and mask, and how many texts were truncated."""
        lengths = [len(ids) for ids in self.tokenizer(list(texts), verbose=False)["input_ids"]]
        cut = sum(length > self.max_length for length in lengths)
        tokens = self.tokenizer(list(texts), padding=True, truncation=True,
                                max_length=self.max_length, return_tensors="pt")
        return {k: v.to(self.device) for k, v in tokens.items()
                if k in ("input_ids", "attention_mask")}, cut

    @torch.no_grad()
    def scores(self, images: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        """Per-pair ``max(w * cos, 0)``, float64 ``[B]``; also counts truncated texts."""
        if len(texts) != int(images.shape[0]):
            raise ValueError(f"EvalBatch.transcripts has {len(texts)} texts for "
                             f"{int(images.shape[0])} images")
        out = []
        for part in chunks(len(texts), self.batch_size):
            pixels = self.preprocess(images[part]).to(self.device)
            tokens, cut = self.tokenize(list(texts)[part])
            if cut:
                self._warn(cut)
                self.truncated += cut
            image_embeds = self.model.get_image_features(pixel_values=pixels)
            text_embeds = self.model.get_text_features(**tokens)
            cos = F.cosine_similarity(image_embeds.double(), text_embeds.double(), dim=-1)
            out.append((self.weight * cos).clamp(min=0).cpu())
        return torch.cat(out) if out else torch.empty(0, dtype=torch.float64)

    def update(self, batch: EvalBatch) -> None:
        """Score ``batch.images`` against ``batch.transcripts``."""
        check_images(batch.images, "EvalBatch.images")
        if batch.transcripts is None:
            raise ValueError("clipscore needs EvalBatch.transcripts (the prompts' text)")
        scores = self.scores(batch.images, list(batch.transcripts))
        self.total += scores.sum()
        self.count += int(scores.shape[0])

    def compute(self) -> dict[str, float]:
        """``clipscore`` (mean over images) and ``clipscore_truncated`` (texts cut)."""
        count = int(self.count)
        if count == 0:
            raise ValueError("clipscore needs at least one update() with images")
        return {"clipscore": float(self.total) / count,
                "clipscore_truncated": float(int(self.truncated))}

    def _warn(self, cut: int) -> None:
        if self._warned:
            return
        self._warned = True
        warnings.warn(f"{cut} transcript(s) of this batch are longer than CLIP's "
                      f"{self.max_length} tokens and were truncated; CLIPScore only sees their "
                      "beginning (compute() reports the total as clipscore_truncated; this "
                      "warning is not repeated)", TranscriptTruncatedWarning, stacklevel=5)


def load_clip(model: str, *,
              recipe_key: str = "metrics[].config.model") -> tuple[Any, Any, dict[str, Any]]:
    """``(CLIPModel, tokenizer, preprocessing)`` from a hub id or a local folder.

    ``preprocessing`` has ``image_size``, ``crop_size``, ``mean``, ``std`` (from the folder's
    ``preprocessor_config.json`` when there is one, else CLIP's defaults) and
    ``fingerprint`` (:func:`voxcore.hub.folder_fingerprint` of the folder).
    """
    from transformers import AutoTokenizer, CLIPModel

    folder = resolve_pretrained(model, what="CLIP checkpoint", allow_patterns=_FILES,
                                recipe_key=recipe_key)
    if not any(folder.glob("*.safetensors")):
        raise PretrainedNotFoundError(
            f"CLIP checkpoint folder {folder} holds no .safetensors weights (voxcore does not "
            f"load pickled weights); set {recipe_key} to a folder with model.safetensors, "
            "config.json, the tokenizer files and preprocessor_config.json")
    clip = CLIPModel.from_pretrained(folder, use_safetensors=True)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    size = int(clip.config.vision_config.image_size)
    info: dict[str, Any] = {"image_size": size, "crop_size": size, "mean": _OPENAI_MEAN,
                            "std": _OPENAI_STD, "fingerprint": folder_fingerprint(folder)}
    processor = folder / "preprocessor_config.json"
    if processor.is_file():
        import json

        raw = json.loads(processor.read_text(encoding="utf-8"))
        resize = raw.get("size", size)
        crop = raw.get("crop_size", size)
        info["image_size"] = int(resize.get("shortest_edge", size) if isinstance(resize, dict)
                                 else resize)
        info["crop_size"] = int(crop.get("height", size) if isinstance(crop, dict) else crop)
        info["mean"] = tuple(raw.get("image_mean", _OPENAI_MEAN))
        info["std"] = tuple(raw.get("image_std", _OPENAI_STD))
    return clip, tokenizer, info


def build_clipscore(config: CLIPScoreConfig) -> CLIPScoreMetric:
    """The registry's factory: CLIP from ``config.model``."""
    clip, tokenizer, info = load_clip(config.model)
    return CLIPScoreMetric(clip, tokenizer, image_size=info["image_size"],
                           crop_size=info["crop_size"], mean=info["mean"], std=info["std"],
                           weight=config.weight, batch_size=config.batch_size,
                           device=config.device)
