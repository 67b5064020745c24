"""Tiny stand-ins for tests and benchmarks: no downloads, no real weights.

- :func:`random_fid_inception`: the FID Inception architecture with *random* weights whose
  batch norms are calibrated on random images (left uncalibrated, a random Inception's pool3
  features vanish to ~1e-8). Its FID values mean nothing; never use it to report a result.
- :func:`write_tiny_clip`: a tiny random CLIP checkpoint folder (safetensors, a byte-level
  BPE tokenizer with no merges, a preprocessor config) that ``clipscore`` loads like a real one.
- :func:`write_emoset`: a small EmoSet-layout tree (``image/<emotion>/*.jpg``, split JSON files)
  whose images' colour encodes their emotion, so a classifier can learn it in seconds;
  :func:`emotion_images` renders more such images as tensors.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from voxcore_metrics.fid import FIDInception

__all__ = ["EMOTION_COLOURS", "emotion_images", "random_fid_inception", "write_emoset",
           "write_tiny_clip"]

#: The base colour of each fixture emotion folder (EmoSet names; amusement and excitement
#: share enjoyment's colour, since they are one class).
EMOTION_COLOURS = {
    "amusement": (230, 200, 40), "excitement": (230, 200, 40), "anger": (220, 30, 30),
    "disgust": (60, 170, 40), "fear": (90, 20, 120), "sadness": (40, 80, 220),
    "awe": (200, 200, 200),
}
_CANONICAL_COLOURS = {"enjoyment": EMOTION_COLOURS["amusement"], "anger": EMOTION_COLOURS["anger"],
                      "disgust": EMOTION_COLOURS["disgust"], "fear": EMOTION_COLOURS["fear"],
                      "sadness": EMOTION_COLOURS["sadness"]}


def random_fid_inception(seed: int = 0, input_size: int = 299,
                         calibration_images: int = 16) -> FIDInception:
    """A random-weight FID Inception with batch-norm statistics of random images (tests only).

    ``input_size`` below 299 makes it faster (and its features different).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = FIDInception(input_size=input_size)
        for module in network.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.reset_running_stats()
                module.momentum = None  # cumulative average over the calibration pass
        network.train()
        with torch.no_grad():
            network(torch.rand(calibration_images, 3, 32, 32))
    return network.eval()


def _byte_vocab() -> dict[str, int]:
    from transformers.models.clip.tokenization_clip import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    return {token: index for index, token in enumerate(tokens)}


def write_tiny_clip(folder: str | Path, *, seed: int = 0, image_size: int = 32,
                    hidden: int = 32, projection: int = 16) -> Path:
    """Save a tiny random CLIP (model, tokenizer, image processor) into ``folder``."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    vocab = _byte_vocab()
    (out / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (out / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    tokenizer = CLIPTokenizer(
        str(out / "vocab.json"), str(out / "merges.txt"), model_max_length=77)
    tokenizer.save_pretrained(out)
    text = {"vocab_size": len(vocab), "hidden_size": hidden, "intermediate_size": 2 * hidden,
            "num_hidden_layers": 2, "num_attention_heads": 2, "max_position_embeddings": 77,
            "bos_token_id": vocab["<|startoftext|>"], "eos_token_id": vocab["<|endoftext|>"],
            "pad_token_id": vocab["<|endoftext|>"]}
    vision = {"hidden_size": hidden, "intermediate_size": 2 * hidden, "num_hidden_layers": 2,
              "num_attention_heads": 2, "image_size": image_size, "patch_size": 8}
    config = CLIPConfig(
        text_config=text, vision_config=vision, projection_dim=projection)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CLIPModel(config)
        model.eval()
        # Random towers often put every image on the far side of every text (all scores
        # clip to 0); flip the image embeddings if so, so that tests see positive scores.
        probe = tokenizer(["a photo", "two dogs on a beach", "a bowl of hot soup"],
                          padding=True, return_tensors="pt")
        pixels = (torch.rand(8, 3, image_size, image_size) - 0.45) / 0.27
        with torch.no_grad():
            image = model.get_image_features(pixel_values=pixels)
            text = model.get_text_features(input_ids=probe["input_ids"],
                                           attention_mask=probe["attention_mask"])
            cos = torch.nn.functional.cosine_similarity(image[:, None], text[None], dim=-1)
            if cos.mean() < 0:
                model.visual_projection.weight.neg_()
    model.save_pretrained(out, safe_serialization=True)
    CLIPImageProcessor(size={"shortest_edge": image_size},
                       crop_size={"height": image_size, "width": image_size}).save_pretrained(out)
    return out


def _draw(colour: tuple[int, int, int], size: int, rng: random.Random) -> Image.Image:
    """A noisy field of ``colour`` with a random darker/lighter rectangle on it."""
    base = np.array(colour, dtype=np.float32)
    noise = np.array([[[rng.gauss(0, 18) for _ in range(3)] for _ in range(size)]
                      for _ in range(size)], dtype=np.float32)
    pixels = base + noise
    x0, y0 = rng.randrange(size // 2), rng.randrange(size // 2)
    x1, y1 = x0 + rng.randrange(4, size // 2), y0 + rng.randrange(4, size // 2)
    pixels[y0:y1, x0:x1] *= rng.uniform(0.6, 1.3)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))  # H x W x 3 uint8: RGB


def write_emoset(root: str | Path, *, train_per_class: int = 24, val_per_class: int = 6,
                 size: int = 32, seed: int = 0,
                 emotions: Sequence[str] = ("amusement", "excitement", "anger", "disgust",
                                            "fear", "sadness", "awe")) -> Path:
    """Write an EmoSet-layout tree: ``image/<emotion>/<emotion>_NNNNN.jpg`` and split files.

    ``train.json``/``val.json`` list ``[emotion, image path, annotation path]`` (EmoSet-118K's
    own rows put the image id second; the trainer reads both).
    ``awe`` images are written too (the trainer must leave them out).
    """
    out = Path(root)
    rng = random.Random(seed)
    splits: dict[str, list[list[str]]] = {"train": [], "val": []}
    for emotion in emotions:
        folder = out / "image" / emotion
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(train_per_class + val_per_class):
            name = f"{emotion}_{index:05d}"
            _draw(EMOTION_COLOURS[emotion], size, rng).save(folder / f"{name}.jpg", quality=95)
            split = "train" if index < train_per_class else "val"
            splits[split].append([emotion, f"image/{emotion}/{name}.jpg",
                                  f"annotation/{emotion}/{name}.json"])
    for split, entries in splits.items():
        (out / f"{split}.json").write_text(json.dumps(entries), encoding="utf-8")
    return out


def emotion_images(emotions: Sequence[str], *, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Fresh images ``[N, 3, size, size]`` in ``[0, 1]`` coloured like :func:`write_emoset`'s.

    ``emotions`` are the paper's class names (``enjoyment``, ``anger``, ...).
    """
    rng = random.Random(10_000 + seed)
    out = [torch.from_numpy(np.asarray(_draw(_CANONICAL_COLOURS[e], size, rng),
                                       dtype=np.float32) / 255.0).permute(2, 0, 1)
           for e in emotions]
    return torch.stack(out)
