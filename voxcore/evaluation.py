"""``voxcore evaluate``: generate an image for every evaluation prompt and score them.

Speech prompts reuse the feature cache, so evaluating after training encodes nothing twice.
Results go to ``RUN_DIR/eval/<split>/metrics.json`` with a grid of real vs generated images.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from voxcore.errors import UserError
from voxcore.images import image_grid, load_image, save_image
from voxcore.inference import LoadedRun, generate_images, load_run
from voxcore.interfaces import EvalBatch, Metric, Sample
from voxcore.io import write_text_atomic
from voxcore.recipe import BoundComponent
from voxcore.training.data import pad_features
from voxcore.training.feature_cache import FeatureCache
from voxcore.training.trainer import default_cache_root

log = logging.getLogger(__name__)

GRID_IMAGES = 16


def evaluation_samples(
    specs: Sequence[BoundComponent], split: str | None, limit: int | None
) -> list[Sample]:
    """The samples of the recipe's ``data.eval`` datasets, with their ``split`` replaced."""
    if not specs:
        raise UserError("the recipe has no data.eval datasets to evaluate on; add one "
                        "({name, config}) under data.eval")
    samples: list[Sample] = []
    for spec in specs:
        config = spec.config.model_dump()
        if split is not None:
            if "split" not in spec.config.model_fields:
                raise UserError(f"--split was given but dataset {spec.entry.name!r} "
                                f"({spec.path}) has no 'split' option")
            config["split"] = split
        dataset = spec.entry.build(config)
        samples += [dataset[i] for i in range(len(dataset))]
    return samples[:limit] if limit is not None else samples


def evaluate(
    run_dir: Path,
    *,
    split: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    loaded: LoadedRun | None = None,
) -> dict[str, Any]:
    """Score a run's newest checkpoint on its evaluation data; returns what it writes."""
    loaded = loaded or load_run(run_dir)
    resolved, model = loaded.resolved, loaded.model
    if not resolved.metrics:
        raise UserError("the recipe lists no metrics; add some under 'metrics'")
    samples = evaluation_samples(resolved.eval_data, split, limit)
    if not samples:
        raise UserError("the evaluation datasets have no samples")
    metrics: dict[str, Metric] = {bound.entry.name: bound.build() for bound in resolved.metrics}
    resolution = model.generator_part.resolution
    settings = resolved.recipe.generate
    started = time.perf_counter()
    features = None
    if model.modality == "speech":
        assert model.speech_encoder is not None
        audio = [_require(s.audio, s, "audio") for s in samples]
        features = FeatureCache(default_cache_root(resolved), resolved.encoder).features(
            audio, model.speech_encoder)
    label_keys = sorted({key for s in samples for key in s.labels})
    shown: list[tuple[torch.Tensor, torch.Tensor]] = []
    for start in range(0, len(samples), settings.batch_size):
        chunk = samples[start:start + settings.batch_size]
        if features is not None:
            batch = pad_features(features.features[start:start + len(chunk)],
                                 features.frame_rate)
            images = generate_images(model, settings, seed + start, features=batch)
        else:
            texts = [_require(s.transcript, s, "transcript") for s in chunk]
            images = generate_images(model, settings, seed + start, texts=texts)
        references = torch.stack([load_image(_require(s.image, s, "image"), resolution)
                                  for s in chunk])
        eval_batch = EvalBatch(images=images, references=references,
                               transcripts=[s.transcript or "" for s in chunk],
                               labels={k: [s.labels.get(k, "") for s in chunk]
                                       for k in label_keys})
        for metric in metrics.values():
            metric.update(eval_batch)
        if len(shown) < GRID_IMAGES:
            shown += list(zip(references, images, strict=True))[:GRID_IMAGES - len(shown)]
    results = {name: metric.compute() for name, metric in metrics.items()}
    report = {
        "run": str(run_dir),
        "recipe": resolved.recipe.name,
        "checkpoint_step": loaded.step,
        "ema": loaded.used_ema,
        "split": split,
        "samples": len(samples),
        "seconds": round(time.perf_counter() - started, 1),
        "generate": settings.model_dump(),
        "metrics": results,
    }
    out = run_dir / "eval" / (split or "eval")
    write_text_atomic(out / "metrics.json", json.dumps(report, indent=2) + "\n")
    real_row, generated_row = [r for r, _ in shown], [g for _, g in shown]
    save_image(image_grid(real_row + generated_row, columns=len(shown), scale=2,
                          row_labels=["real", "ours"]), out / "samples.png")
    log.info("evaluated %s on %d samples: %s", resolved.recipe.name, len(samples), results)
    return report


def _require(value: Any, sample: Sample, what: str) -> Any:
    if value is None:
        raise UserError(f"evaluation sample {sample.id!r} has no {what}")
    return value
