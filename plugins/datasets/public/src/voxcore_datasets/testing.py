"""Tiny fixture trees laid out exactly like the real releases, for tests and examples.

Each ``write_*_tree(folder)`` writes a few samples (sine-tone wavs whose pitch follows the
image's colour, small solid-colour JPEGs) under ``folder`` and returns the dataset config
(paths as strings) that reads them, ready for a recipe's ``config:`` or for::

    get_registry("dataset").get("spokencoco").build(write_spokencoco_tree(tmp_path))

numpy, soundfile and PIL are imported when a tree is written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voxcore_datasets.config import EMOSET_EMOTIONS

__all__ = ["COLOURS", "write_flickr8k_tree", "write_image", "write_manifest_tree",
           "write_spokencoco_tree", "write_tiny_recipe", "write_voxemoset_tree", "write_wav"]

#: Image colours (RGB) with a word for them; sample i uses colour i modulo their number.
COLOURS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("red", (220, 40, 40)), ("blue", (40, 40, 220)), ("green", (40, 200, 60)),
    ("yellow", (230, 220, 40)), ("purple", (150, 40, 180)), ("grey", (128, 128, 128)),
)


def write_wav(path: Path, index: int = 0, seconds: float = 0.3, sample_rate: int = 16000) -> Path:
    """A mono sine tone (pitch set by ``index``) as 16-bit PCM wav; creates the folder."""
    import numpy as np
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    time = np.arange(int(sample_rate * seconds)) / sample_rate
    tone = 0.3 * np.sin(2 * np.pi * (160 + 90 * (index % len(COLOURS))) * time)
    soundfile.write(path, tone.astype(np.float32), sample_rate, subtype="PCM_16")
    return path


def write_image(path: Path, index: int = 0, size: tuple[int, int] = (32, 24)) -> Path:
    """A solid image in colour ``index``; JPEG or PNG by suffix; creates the folder."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, COLOURS[index % len(COLOURS)][1]).save(path)
    return path


def _caption(index: int, variant: int) -> str:
    colour = COLOURS[index % len(COLOURS)][0]
    return (f"a {colour} square", f"a plain {colour} picture", f"something {colour}",
            f"the colour {colour}", f"{colour} all over")[variant % 5]


def write_spokencoco_tree(folder: Path, images_per_split: int = 2,
                          captions_per_image: int = 2) -> dict[str, Any]:
    """SpokenCOCO + MS-COCO 2014 + Karpathy's dataset_coco.json under ``folder``.

    ``folder/SpokenCOCO/SpokenCOCO_{train,val}.json`` and ``wavs/{train,val}/0/<uttid>.wav``;
    ``folder/coco/{train2014,val2014}/COCO_*.jpg``; ``folder/karpathy/dataset_coco.json``.
    The train file holds train2014 images (Karpathy train, then restval, alternating) and the
    val file val2014 images (Karpathy val, then test, alternating). Returns the
    ``spokencoco`` config (without ``karpathy_json``; it is at ``folder/karpathy``).
    """
    root, coco = folder / "SpokenCOCO", folder / "coco"
    karpathy: list[dict[str, Any]] = []
    index = 0
    for split, coco_split, kinds in (("train", "train2014", ("train", "restval")),
                                     ("val", "val2014", ("val", "test"))):
        entries = []
        for number in range(images_per_split):
            cocoid = 100000 + index
            name = f"COCO_{coco_split}_{cocoid:012d}.jpg"
            write_image(coco / coco_split / name, index)
            karpathy.append({"filepath": coco_split, "filename": name, "cocoid": cocoid,
                             "split": kinds[number % 2]})
            captions = []
            for variant in range(captions_per_image):
                speaker = f"m{index:02d}spk{variant}"
                uttid = f"{speaker}-HIT{index:04d}_{cocoid}_{700000 + 10 * index + variant}"
                wav = f"wavs/{split}/0/{uttid}.wav"
                write_wav(root / wav, index)
                captions.append({"text": _caption(index, variant).upper(), "speaker": speaker,
                                 "uttid": uttid, "wav": wav})
            entries.append({"image": f"{coco_split}/{name}", "captions": captions})
            index += 1
        (root / f"SpokenCOCO_{split}.json").write_text(json.dumps({"data": entries}))
    (folder / "karpathy").mkdir(parents=True, exist_ok=True)
    (folder / "karpathy" / "dataset_coco.json").write_text(
        json.dumps({"images": karpathy, "dataset": "coco"}))
    return {"root": str(root), "image_root": str(coco)}


def write_flickr8k_tree(folder: Path, images_per_split: int = 2,
                        spoken_per_image: int = 2) -> dict[str, Any]:
    """Flickr Audio Caption Corpus + Flickr8k under ``folder``.

    ``folder/flickr_audio/{wav2capt.txt,wav2spk.txt,wavs/}``,
    ``folder/Flickr8k_text/{Flickr8k.token.txt,Flickr_8k.{train,dev,test}Images.txt}`` and
    ``folder/Flicker8k_Dataset/*.jpg``; every image has 5 text captions, the first
    ``spoken_per_image`` of them spoken. Returns the ``flickr8k-audio`` config.
    """
    audio, text, images = folder / "flickr_audio", folder / "Flickr8k_text", \
        folder / "Flicker8k_Dataset"
    text.mkdir(parents=True, exist_ok=True)
    tokens, wav2capt, wav2spk = [], [], []
    index = 0
    for split in ("train", "dev", "test"):
        names = []
        for _ in range(images_per_split):
            name = f"{1000268201 + index}_{index:04x}cb0e.jpg"
            write_image(images / name, index)
            names.append(name)
            tokens += [f"{name}#{n}\t{_caption(index, n).capitalize()} ." for n in range(5)]
            for n in range(spoken_per_image):
                wav = f"{Path(name).stem}_{n}.wav"
                write_wav(audio / "wavs" / wav, index)
                wav2capt.append(f"{wav} {name} #{n}")
                wav2spk.append(f"{wav} {1 + (index + n) % 3}")
            index += 1
        (text / f"Flickr_8k.{split}Images.txt").write_text("".join(f"{n}\n" for n in names))
    (text / "Flickr8k.token.txt").write_text("".join(f"{t}\n" for t in tokens))
    (audio / "wav2capt.txt").write_text("".join(f"{line}\n" for line in wav2capt))
    (audio / "wav2spk.txt").write_text("".join(f"{line}\n" for line in wav2spk))
    return {"audio_root": str(audio), "image_root": str(images), "text_root": str(text)}


def write_voxemoset_tree(folder: Path, per_emotion: int = 1,
                         emotions: Sequence[str] = EMOSET_EMOTIONS,
                         splits: Sequence[str] = ("train", "test")) -> dict[str, Any]:
    """A VoxEmoset folder (the layout of the README) under ``folder/VoxEmoset``.

    Each split has ``per_emotion`` EmoSet images per emotion (``image/<emotion>/...jpg``), each
    with one utterance (``audio/<emotion>/<id>.wav``). Returns the ``voxemoset`` config.
    """
    root = folder / "VoxEmoset"
    root.mkdir(parents=True, exist_ok=True)
    number = 0
    for split in splits:
        rows = []
        for position, emotion in enumerate(emotions):
            for _ in range(per_emotion):
                number += 1
                stem = f"{emotion}_{number:05d}"
                image = f"image/{emotion}/{stem}.jpg"
                wav = f"audio/{emotion}/{stem}_0.wav"
                write_image(root / image, position)
                write_wav(root / wav, position)
                rows.append({"id": f"{stem}_0", "audio": wav, "image": image,
                             "transcript": _caption(position, number),
                             "speaker": f"esd_{number % 4:04d}",
                             "labels": {"emotion": emotion}})
        (root / f"voxemoset_{split}.jsonl").write_text(
            "".join(json.dumps(row) + "\n" for row in rows))
    return {"root": str(root)}


def write_manifest_tree(folder: Path, fmt: str = "csv", count: int = 3,
                        splits: Sequence[str] = ("train", "test")) -> dict[str, Any]:
    """``folder/{split}.{csv|jsonl}`` with columns id,audio,image,transcript,speaker,emotion.

    Files sit in ``folder/audio`` and ``folder/images``, referenced relative to the manifest.
    Returns the ``manifest`` config (``path`` holding ``{split}``).
    """
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    emotions = ("enjoyment", "anger", "disgust", "fear", "sadness")
    for split in splits:
        rows = []
        for index in range(count):
            sample = f"{split}{index}"
            write_wav(folder / "audio" / f"{sample}.wav", index)
            write_image(folder / "images" / f"{sample}.png", index)
            rows.append({"id": sample, "audio": f"audio/{sample}.wav",
                         "image": f"images/{sample}.png", "transcript": _caption(index, 0),
                         "speaker": f"s{index % 2}", "emotion": emotions[index % 5]})
        if fmt == "csv":
            with (folder / f"{split}.csv").open("w", newline="", encoding="utf-8") as file:
                writer = csv.DictWriter(file, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        else:
            (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {"path": str(folder / f"{{split}}.{fmt}")}


def write_tiny_recipe(path: Path, train: Sequence[dict[str, Any]],
                      eval: Sequence[dict[str, Any]] = (), *, cache_dir: Path | None = None,
                      max_steps: int = 3, name: str = "tiny-public") -> Path:
    """A recipe training a tiny mel -> sib -> tiny-unet model (16 px) on ``train`` for a few steps.

    ``train``/``eval`` are ``data`` entries (``{"name", "config", "weight"}``). Written as YAML
    flow mappings (JSON), so it needs no YAML library. Returns ``path``.
    """
    data: dict[str, Any] = {"train": list(train), "eval": list(eval)}
    if cache_dir is not None:
        data["cache_dir"] = str(cache_dir)
    sections = {
        "name": name,
        "seed": 0,
        "encoder": {"name": "mel", "config": {"n_mels": 16}},
        "bottleneck": {"name": "sib", "config": {"ratio": 4, "num_heads": 2, "widths": [16, 16]}},
        "generator": {"name": "tiny-unet",
                      "config": {"resolution": 16, "block_out_channels": [16, 32],
                                 "cross_attention_dim": 16}},
        "data": data,
        "train": {"lr": 1e-3, "batch_size": 4, "max_steps": max_steps,
                  "checkpoint_every": max_steps, "keep_checkpoints": 1, "validate_every": 0},
        "generate": {"steps": 2, "guidance_scale": 2.0, "scheduler": "ddim", "batch_size": 4},
        "metrics": [],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key}: {json.dumps(value)}\n" for key, value in sections.items()))
    return path
