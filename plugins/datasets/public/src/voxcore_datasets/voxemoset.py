"""The ``voxemoset`` dataset: emotional speech describing EmoSet images.

VoxEmoset has no public release format, so voxcore defines one (see the package README)::

    ROOT/
      voxemoset_train.jsonl        # also voxemoset_val.jsonl, voxemoset_test.jsonl
      image/<emotion>/<emotion>_00001.jpg     # EmoSet-118K's own layout
      audio/<emotion>/<id>.wav

Each JSONL line is a voxcore manifest line (:mod:`voxcore.data.manifest`), paths relative to
ROOT, the EmoSet category in ``labels.emotion``::

    {"id": "amusement_00001_0", "image": "image/amusement/amusement_00001.jpg",
     "audio": "audio/amusement/amusement_00001_0.wav", "transcript": "a dog ...",
     "speaker": "esd_0011", "labels": {"emotion": "amusement"}}

so it is read (and checked) by :func:`voxcore.data.read_manifest`; this module then maps the
emotion labels to the classes asked for.
"""

from __future__ import annotations

from pathlib import Path

from voxcore.plugin_api import Sample, read_manifest
from voxcore_datasets._common import (
    SampleList,
    check_referenced_files,
    numbered_lines,
    raise_problems,
    read_text,
    require_dir,
    require_file,
)
from voxcore_datasets.config import (
    EMOSET_EMOTIONS,
    PAPER_DROPPED,
    PAPER_EMOTIONS,
    PAPER_MERGED,
    VoxEmosetConfig,
)

__all__ = ["load_voxemoset", "map_emotion"]

LAYOUT = ("see the 'voxemoset' section of the voxcore-datasets README for the layout: "
          "ROOT/voxemoset_{split}.jsonl with image/ and audio/ beside it")


def map_emotion(label: str, classes: str) -> str | None:
    """``label`` in the ``classes`` scheme; ``None`` = drop the sample; ``KeyError`` = unknown.

    ``paper5`` merges amusement and excitement into enjoyment and drops awe and contentment
    (the paper: they are hard to tell apart, or to express, by voice); ``emoset8`` keeps
    EmoSet's eight categories; ``raw`` keeps any label.
    """
    if classes == "raw":
        return label
    if classes == "emoset8":
        if label not in EMOSET_EMOTIONS:
            raise KeyError(label)
        return label
    if label in PAPER_MERGED:
        return "enjoyment"
    if label in PAPER_DROPPED:
        return None
    if label not in PAPER_EMOTIONS:
        raise KeyError(label)
    return label


def load_voxemoset(config: VoxEmosetConfig) -> SampleList:
    """The samples of ``config.split``, emotions mapped to ``config.emotion_classes``."""
    root = require_dir(Path(config.root), "VoxEmoset folder", LAYOUT)
    manifest = require_file(root / f"voxemoset_{config.split}.jsonl",
                            f"VoxEmoset {config.split} file", LAYOUT)
    samples = read_manifest(manifest, check_files=False)
    lines = [number for number, _ in numbered_lines(read_text(manifest))]
    known = {"paper5": (*EMOSET_EMOTIONS, "enjoyment"), "emoset8": EMOSET_EMOTIONS}
    kept: list[tuple[int, Sample]] = []
    problems: list[str] = []
    for number, sample in zip(lines, samples, strict=True):
        absent = [name for name in ("audio", "image") if getattr(sample, name) is None]
        if absent:
            problems.append(f"line {number}: no {' and no '.join(map(repr, absent))}; every "
                            "VoxEmoset sample pairs an utterance with an image")
            continue
        label = sample.labels.get("emotion")
        if label is None:
            if config.emotion_classes != "raw":
                problems.append(f"line {number}: no labels.emotion (one of "
                                f"{', '.join(known[config.emotion_classes])})")
            elif config.limit is None or len(kept) < config.limit:
                kept.append((number, sample))
            continue
        try:
            mapped = map_emotion(label, config.emotion_classes)
        except KeyError:
            problems.append(f"line {number}: unknown emotion {label!r}; expected one of "
                            f"{', '.join(known[config.emotion_classes])}")
            continue
        if mapped is None or (config.limit is not None and len(kept) >= config.limit):
            continue
        labels = {**sample.labels, "emotion": mapped}
        kept.append((number, Sample(id=sample.id, audio=sample.audio, image=sample.image,
                                    transcript=sample.transcript, speaker=sample.speaker,
                                    labels=labels)))
    hint = ("fix the labels or set emotion_classes: raw to read them unchecked"
            if config.emotion_classes != "raw" else "")
    raise_problems(f"VoxEmoset file {manifest} has", problems, hint=hint)
    if config.check_files:
        check_referenced_files(
            ((f"line {number}", name, getattr(sample, name))
             for number, sample in kept for name in ("audio", "image")),
            manifest, hint=f"paths are relative to {root.absolute()}; {LAYOUT}")
    return SampleList(f"voxemoset {config.split}", [sample for _, sample in kept])
