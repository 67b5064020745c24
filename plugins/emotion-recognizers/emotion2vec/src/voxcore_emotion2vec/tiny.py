"""A tiny random-weight emotion2vec+ checkpoint, written in the hub's folder layout.

For tests and offline demonstrations: the folder holds what ``emotion2vec/emotion2vec_plus_
large`` holds (``config.yaml``, ``model.pt``, ``tokens.txt``), so both this plugin and
FunASR's own ``AutoModel(model=FOLDER)`` load it; only the sizes are shrunk
(:data:`voxcore_emotion2vec.architecture.TINY`) and the weights are random.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from voxcore_emotion2vec.architecture import TINY
from voxcore_emotion2vec.labels import PLUS_LABELS

__all__ = ["write_tiny_checkpoint"]


def write_tiny_checkpoint(folder: str | Path, *, labels: Sequence[str] = PLUS_LABELS,
                          seed: int = 0, model_conf: Mapping[str, Any] = TINY,
                          logit_scale: float = 8.0) -> Path:
    """Write a random emotion2vec+ checkpoint with ``labels`` into ``folder`` (created);
    ``logit_scale`` sharpens the random output layer so the scores are far from uniform.
    The full model is saved, pre-training decoder included, as FunASR saves it."""
    from funasr.models.emotion2vec.model import Emotion2vec  # type: ignore[import-untyped]
    from omegaconf import OmegaConf

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    with torch.random.fork_rng(devices=[]):  # seeded without touching the caller's RNG
        torch.manual_seed(seed)
        model = Emotion2vec(model_conf=dict(model_conf), vocab_size=len(labels))
    with torch.no_grad():
        model.proj.weight.mul_(logit_scale)
    config = {"model": "Emotion2vec", "model_conf": dict(model_conf),
              "tokenizer": "CharTokenizer",
              "tokenizer_conf": {"unk_symbol": "<unk>", "split_with_space": True}}
    OmegaConf.save(OmegaConf.create(config), root / "config.yaml")
    torch.save(model.state_dict(), root / "model.pt")
    (root / "tokens.txt").write_text("\n".join(labels), encoding="utf-8")
    return root
