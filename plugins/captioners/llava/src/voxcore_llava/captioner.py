"""The ``llava-onevision`` captioner: factual captions of images from LLaVA-OneVision.

Each image goes to the model with the configured prompt (the paper's, asking for ``count``
captions) through the checkpoint's chat template; images are generated in batches, the
prompts padded on the left so every row's last token is its own and the attention mask hides
the padding, which gives each image the same answer alone or in any batch. The answer is read
by :func:`voxcore_llava.parsing.parse_captions`; checking the captions (their number, that they
differ) is the dataset builder's job, which asks again with ``attempt + 1``.

Attempt 0 decodes greedily (unless ``do_sample``); a retry samples, each image from a seed
derived from the config's ``seed``, its id and the attempt (:mod:`voxcore_llava.sampling`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from transformers import GenerationConfig, LogitsProcessorList

from voxcore.plugin_api import (
    CannotCheck,
    LabelledImage,
    checking,
    folder_fingerprint,
)
from voxcore_llava.config import LlavaCaptionerConfig
from voxcore_llava.loading import load_checkpoint, resolve_checkpoint
from voxcore_llava.parsing import parse_captions
from voxcore_llava.prompt import render_prompt
from voxcore_llava.sampling import PerRowSampler, sampling_seed

__all__ = ["LlavaCaptioner", "build_llava_captioner"]

logger = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def build_llava_captioner(config: LlavaCaptionerConfig) -> LlavaCaptioner:
    """The registry's factory: finds the checkpoint now (so a missing one stops a build before
    any work, with what to download), and reads the weights at the first caption."""
    if checking() and not Path(config.model).expanduser().is_dir():
        # A check must not download anything; a hub id is looked up when the data is built.
        raise CannotCheck(f"the LLaVA-OneVision checkpoint {config.model!r} is looked up "
                          "(in the Hugging Face cache, or downloaded) only when captioning")
    return LlavaCaptioner(config, resolve_checkpoint(config))


class LlavaCaptioner:
    """Captions images with a LLaVA-OneVision checkpoint found in ``folder``.

    The model is read on the first :meth:`caption`, onto the device given to :meth:`to`
    (CPU until then). ``captioner_fingerprint`` names the checkpoint's files, the prompt, the
    decoding settings and the precision the model runs in.
    """

    def __init__(self, config: LlavaCaptionerConfig, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self.device = torch.device("cpu")
        self._weights = folder_fingerprint(folder)
        self._loaded: tuple[Any, Any] | None = None
        #: Changes with the checkpoint's files, the prompt, decoding settings and precision.
        self.captioner_fingerprint = self._fingerprint()

    @property
    def dtype(self) -> torch.dtype:
        """The precision the model runs in on the current device."""
        if self.config.dtype == "auto":
            return torch.float16 if self.device.type == "cuda" else torch.float32
        return _DTYPES[self.config.dtype]

    def to(self, device: torch.device | str) -> LlavaCaptioner:
        """Run on ``device`` (moving the model if it is loaded); returns ``self``."""
        self.device = torch.device(device)
        if self._loaded is not None:
            self._loaded[0].to(device=self.device, dtype=self.dtype)
        self.captioner_fingerprint = self._fingerprint()
        return self

    def caption(self, images: Sequence[LabelledImage], *, count: int,
                attempt: int = 0) -> list[list[str]]:
        """Up to ``count`` captions per image, in order; an image that cannot be read gets
        an empty list."""
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        if attempt < 0:
            raise ValueError(f"attempt must not be negative, got {attempt}")
        prompt = render_prompt(self.config.prompt, count)
        captions: list[list[str]] = [[] for _ in images]
        size = self.config.batch_size
        for start in range(0, len(images), size):
            batch = [(index, picture) for index in range(start, min(start + size, len(images)))
                     if (picture := _open(images[index])) is not None]
            if not batch:
                continue
            answers = self.answers([picture for _, picture in batch],
                                   [images[index].id for index, _ in batch],
                                   prompt=prompt, attempt=attempt)
            for (index, _), answer in zip(batch, answers, strict=True):
                captions[index] = parse_captions(answer, expected=count)[:count]
        return captions

    def answers(self, pictures: Sequence[Image.Image], ids: Sequence[str], *, prompt: str,
                attempt: int = 0) -> list[str]:
        """The model's raw answers to ``prompt`` about each picture, generated together;
        ``ids`` name the pictures' sampling seeds (used when ``attempt > 0`` or
        ``do_sample``)."""
        model, processor = self._model_and_processor()
        conversation = [{"role": "user",
                         "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
        text = processor.apply_chat_template(conversation, add_generation_prompt=True)
        inputs = processor(images=list(pictures), text=[text] * len(pictures),
                           return_tensors="pt", padding=True)
        inputs = inputs.to(self.device)
        inputs["pixel_values"] = inputs["pixel_values"].to(self.dtype)
        sampler: list[PerRowSampler] = []
        if self.config.do_sample or attempt > 0:
            seeds = [sampling_seed(self.config.seed, image_id, attempt) for image_id in ids]
            sampler = [PerRowSampler(seeds, temperature=self.config.temperature,
                                     top_p=self.config.top_p)]
        with torch.inference_mode():
            output = model.generate(**inputs, generation_config=self._generation(model, processor),
                                    logits_processor=LogitsProcessorList(sampler),
                                    use_model_defaults=False)
        generated = output[:, inputs["input_ids"].shape[1]:]
        decoded: list[str] = processor.batch_decode(generated, skip_special_tokens=True)
        return decoded

    def _generation(self, model: Any, processor: Any) -> Any:
        """Greedy decoding of at most ``max_new_tokens`` (sampling is :class:`PerRowSampler`'s
        part), ending at the checkpoint's end-of-turn tokens; nothing else from the
        checkpoint's generation config applies, so the settings are the fingerprinted ones."""
        tokenizer = processor.tokenizer
        declared = model.generation_config.eos_token_id
        eos = [declared] if isinstance(declared, int) else list(declared or [])
        if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in eos:
            eos.append(tokenizer.eos_token_id)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos[0]
        return GenerationConfig(max_new_tokens=self.config.max_new_tokens, do_sample=False,
                                num_beams=1, eos_token_id=eos, pad_token_id=pad)

    def _model_and_processor(self) -> tuple[Any, Any]:
        if self._loaded is None:
            logger.info("loading LLaVA-OneVision from %s (%s on %s)", self.folder,
                        str(self.dtype).removeprefix("torch."), self.device)
            self._loaded = load_checkpoint(self.folder, dtype=self.dtype, device=self.device)
        return self._loaded

    def _fingerprint(self) -> str:
        settings = self.config.model_dump(exclude={"model", "revision", "cache_dir",
                                                   "batch_size", "dtype"})
        settings |= {"weights": self._weights, "dtype": str(self.dtype)}
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
        return f"llava-onevision-{digest[:16]}"


def _open(image: LabelledImage) -> Image.Image | None:
    """The image as RGB, or ``None`` (with a warning) when it cannot be read."""
    try:
        with Image.open(image.path) as opened:
            rgb: Image.Image = opened.convert("RGB")
            return rgb
    except (OSError, ValueError) as exc:
        logger.warning("cannot read image %r (%s): %s; it gets no captions", image.id,
                       image.path, exc)
        return None
