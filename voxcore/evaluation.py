"""``voxcore evaluate``: generate an image for every evaluation prompt and score them.

Prompts are a recipe's ``data.eval`` datasets (or one dataset picked by name), all of them in
order or a seeded random subset (the paper scores 10 k random prompts). Work is done in
batches that are written to disk as they finish (see :mod:`voxcore.evaluation_progress`), so
a killed evaluation continues where it stopped and memory stays flat however many images are
scored: features, references and images exist one batch at a time, and metrics keep running
sums. Results go to ``RUN_DIR/eval/<tag>/``: ``metrics.json``, ``report.md``, a grid of real
vs generated images and every generated image.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from voxcore.errors import UserError
from voxcore.evaluation_progress import EvaluationProgress, metric_states, quantize
from voxcore.failures import blame
from voxcore.images import image_grid, load_image, save_image
from voxcore.interfaces import EvalBatch, MergesState, Metric, Sample
from voxcore.io import write_text_atomic
from voxcore.preparation import prepared_folder
from voxcore.processes import current_processes, process_tag
from voxcore.prompts import generate_for, prompt_inputs
from voxcore.recipe import BoundComponent
from voxcore.runs import LoadedRun, cache_root, load

log = logging.getLogger(__name__)

GRID_IMAGES = 16


def select_datasets(resolved_eval: Sequence[BoundComponent],
                    resolved_train: Sequence[BoundComponent],
                    name: str | None) -> list[BoundComponent]:
    """The datasets to evaluate on: all of ``data.eval``, or the one called ``name``.

    ``name`` is looked up in ``data.eval`` first, then in ``data.train`` (whose config is then
    used with its split replaced by ``--split``).
    """
    if name is None:
        return list(resolved_eval)
    for specs in (resolved_eval, resolved_train):
        found = [spec for spec in specs if spec.entry.name == name]
        if found:
            return found[:1]
    known = sorted({spec.entry.name for spec in [*resolved_eval, *resolved_train]})
    raise UserError(f"--data {name}: the recipe has no dataset {name!r} under data.eval or "
                    f"data.train (it has: {', '.join(known) or 'none'}); add it under data.eval "
                    "with its config")


def evaluation_samples(
    specs: Sequence[BoundComponent], split: str | None, limit: int | None
) -> list[Sample]:
    """The samples of ``specs`` with their ``split`` replaced, the first ``limit`` of them."""
    if not specs:
        raise UserError("the recipe has no data.eval datasets to evaluate on; add one "
                        "({name, config}) under data.eval")
    samples: list[Sample] = []
    for spec in specs:
        config = spec.config.model_dump()
        if split is not None:
            if "split" not in type(spec.config).model_fields:
                raise UserError(f"--split was given but dataset {spec.entry.name!r} "
                                f"({spec.path}) has no 'split' option")
            config["split"] = split
        dataset = spec.entry.build(config)
        samples += [dataset[i] for i in range(len(dataset))]
    return samples[:limit] if limit is not None else samples


def random_prompts(samples: Sequence[Sample], count: int | None, seed: int) -> list[Sample]:
    """``count`` prompts drawn without replacement with a fixed seed (all, in order, if None).

    The draw for a smaller ``count`` is a prefix of the draw for a larger one, so growing
    ``--num-samples`` continues a finished evaluation instead of starting a new one.
    """
    if count is None or count >= len(samples):
        return list(samples)
    order = torch.randperm(len(samples), generator=torch.Generator().manual_seed(seed))
    return [samples[int(i)] for i in order[:count]]


def evaluate(
    run_dir: Path,
    *,
    data: str | None = None,
    split: str | None = None,
    limit: int | None = None,
    num_samples: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    out_dir: Path | None = None,
    restart: bool = False,
    progress: bool = False,
    loaded: LoadedRun | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """Score a run's newest checkpoint (or an exported model) and return what it writes.

    ``data`` picks one dataset by name, ``split`` replaces its split, ``limit`` keeps the
    first prompts, ``num_samples`` draws that many at random (seeded by ``seed``, which also
    seeds the sampling: prompt ``i``'s image comes from seed ``seed + i``), ``batch_size``
    overrides ``generate.batch_size``. The results go to ``out_dir`` (default
    ``RUN_DIR/eval/<data>-<split>``); an unfinished evaluation there resumes, ``restart``
    starts it over. The model runs on ``device`` (``auto``: a GPU when there is one).

    Started by ``accelerate launch --num_processes N``, each process scores a contiguous share
    of the prompts on its own device, keeps its own resumable state, and the metrics' running
    states are merged at the end (every metric must have :class:`~voxcore.interfaces.
    MergesState`): the same images and, to float rounding, the same metrics as one process.
    The first process writes the results; every process returns them.
    """
    processes = current_processes(device)
    loaded = loaded or load(run_dir, device=str(processes.device))
    resolved, model = loaded.resolved, loaded.model
    if not resolved.metrics:
        raise UserError("the recipe lists no metrics; add some under 'metrics'")
    specs = select_datasets(resolved.eval_data, resolved.train_data, data)
    prompts = random_prompts(evaluation_samples(specs, split, limit), num_samples, seed)
    if not prompts:
        raise UserError("the evaluation datasets have no samples")
    settings = resolved.recipe.generate
    if batch_size is not None:
        settings = settings.model_copy(update={"batch_size": batch_size})
    tag = "-".join(part for part in (data, split) if part) or "eval"
    folder = out_dir or run_dir / "eval" / tag
    plan = {"checkpoint_step": loaded.step, "ema": loaded.used_ema,
            "weights": _weights_fingerprint(Path(loaded.source)),
            "seed": seed, "generate": settings.model_dump(mode="json"),
            "metrics": [bound.config.model_dump(mode="json") | {"name": bound.entry.name}
                        for bound in resolved.metrics]}
    if processes.count > 1:
        plan["processes"] = processes.count
    metrics = build_metrics(loaded)
    labels = {bound.entry.name: bound.label for bound in resolved.metrics}
    if processes.count > 1:
        _require_merging(metrics, labels, processes.count)
    share = processes.share(len(prompts))
    ids = [p.id for p in prompts]
    # The first process checks (or restarts) the folder and writes the plan; then the others.
    state = None
    if processes.main:
        state = EvaluationProgress.open(folder, plan, ids, restart=restart, share=share,
                                        tag=processes.tag)
    processes.barrier()
    if state is None:
        state = EvaluationProgress.open(folder, plan, ids, share=share, tag=processes.tag,
                                        write_plan=False)
    state.restore(metrics)
    resumed_from = state.done
    started = time.perf_counter()
    generated = 0
    bar = _Progress(len(share), state.done, progress and processes.main)
    try:
        for done in range(state.done, len(share), settings.batch_size):
            start = share.start + done
            chunk = prompts[start:min(start + settings.batch_size, share.stop)]
            images = state.stored_images(start, len(chunk), model.generator_part.resolution)
            if images is None:
                inputs = prompt_inputs(model, resolved.encoder, cache_root(resolved), chunk,
                                       preload_bytes=0, log_summary=False)
                images = quantize(generate_for(model, inputs, settings, seed + start))
                state.store_images(start, images)
                generated += len(chunk)
            batch = _eval_batch(chunk, images, model.generator_part.resolution)
            for name, metric in metrics.items():
                with blame(labels[name], "scoring images"):
                    metric.update(batch)
            state.checkpoint(metrics, done + len(chunk))
            bar.update(len(chunk))
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    if processes.count > 1:
        state.checkpoint(metrics, state.done)  # a process with no share leaves a state too
        write_text_atomic(folder / f"work-{processes.tag}.json", json.dumps(
            {"resumed_from": resumed_from, "generated": generated, "seconds": seconds}) + "\n")
        processes.barrier()
        resumed_from, generated, seconds = _merge(folder, metrics, processes.count)
    results = {}
    for name, metric in metrics.items():
        with blame(labels[name], "computing its values"):
            results[name] = metric.compute()
    report = {
        "run": str(run_dir),
        "recipe": resolved.recipe.name,
        "checkpoint_step": loaded.step,
        "ema": loaded.used_ema,
        "data": data or [spec.entry.name for spec in specs],
        "split": split,
        "samples": len(prompts),
        "resumed_from": resumed_from,
        "generated": generated,
        "seconds": round(seconds, 1),
        "processes": processes.count,
        "seed": seed,
        "generate": settings.model_dump(),
        "metrics": results,
        "folder": str(folder),
    }
    if processes.main:
        write_text_atomic(folder / "metrics.json", json.dumps(report, indent=2) + "\n")
        _write_grid(state, prompts, model.generator_part.resolution)
        write_text_atomic(folder / "report.md", _report_markdown(report))
        log.info("evaluated %s on %d samples: %s", resolved.recipe.name, len(prompts), results)
    processes.barrier()  # nobody leaves before the results are written
    return report


def _require_merging(metrics: dict[str, Metric], labels: dict[str, Any], count: int) -> None:
    """Every metric must merge running states for an evaluation split among processes."""
    unable = [str(labels[name] or name) for name, metric in metrics.items()
              if not isinstance(metric, MergesState)]
    if unable:
        raise UserError(f"evaluating in {count} processes needs every metric to merge the "
                        f"running states of the processes (merge_state), but {', '.join(unable)}"
                        " cannot; evaluate in one process, or give the metric merge_state "
                        "(voxcore.plugin_api.TensorState provides it)")


def _merge(folder: Path, metrics: dict[str, Metric], count: int) -> tuple[int, int, float]:
    """Put every process's running state into ``metrics`` (process 0's first, then the others
    in order, so every process computes the same values); return the prompts resumed from and
    images generated by all processes, and the slowest one's seconds."""
    resumed_from, generated, seconds = 0, 0, 0.0
    for index in range(count):
        tag = process_tag(index, count)
        for name, state in metric_states(folder, tag).items():
            metric = metrics[name]
            if index == 0:
                metric.load_state_dict(state)
            else:
                assert isinstance(metric, MergesState)
                metric.merge_state(state)
        work = json.loads((folder / f"work-{tag}.json").read_text(encoding="utf-8"))
        resumed_from += int(work["resumed_from"])
        generated += int(work["generated"])
        seconds = max(seconds, float(work["seconds"]))
    return resumed_from, generated, seconds


def _weights_fingerprint(source: Path) -> str:
    """Names, sizes and modification times of the weight files (a retrained run differs)."""
    files = sorted(source.rglob("*.safetensors")) if source.is_dir() else [source]
    parts = [f"{f.relative_to(source) if source.is_dir() else f.name}:{f.stat().st_size}:"
             f"{f.stat().st_mtime_ns}" for f in files if f.is_file()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def build_metrics(loaded: LoadedRun) -> dict[str, Metric]:
    """The recipe's metrics, each with its prepared artefact (a trained judge) from the run or
    exported folder, by registered name. Building them trains nothing."""
    metrics: dict[str, Metric] = {}
    source = f"{loaded.folder / 'recipe.yaml'}"
    for bound in loaded.resolved.metrics:
        folder = prepared_folder(bound, loaded.prepared, source=source)
        metrics[bound.entry.name] = bound.build(prepared=folder)
    return metrics


def _eval_batch(chunk: Sequence[Sample], images: torch.Tensor, resolution: int) -> EvalBatch:
    references = torch.stack([load_image(_require(s.image, s, "image"), resolution)
                              for s in chunk])
    keys = sorted({key for s in chunk for key in s.labels})
    return EvalBatch(images=images, references=references,
                     transcripts=[s.transcript or "" for s in chunk],
                     labels={k: [s.labels.get(k, "") for s in chunk] for k in keys})


def _write_grid(state: EvaluationProgress, prompts: Sequence[Sample], resolution: int) -> None:
    shown = prompts[:GRID_IMAGES]
    real = [load_image(_require(s.image, s, "image"), resolution) for s in shown]
    ours = [load_image(state.image_path(i), resolution) for i in range(len(shown))]
    save_image(image_grid(real + ours, columns=len(shown), scale=2,
                          row_labels=["real", "ours"]), state.folder / "samples.png")


def _report_markdown(report: dict[str, Any]) -> str:
    lines = [f"# Evaluation of {report['recipe']}", "",
             f"- run: `{report['run']}` (checkpoint step {report['checkpoint_step']}"
             f"{', EMA weights' if report['ema'] else ''})",
             f"- data: {report['data']}, split: {report['split'] or 'recipe default'}, "
             f"{report['samples']} prompts, seed {report['seed']}",
             f"- sampling: {report['generate']['scheduler']}, {report['generate']['steps']} "
             f"steps, guidance {report['generate']['guidance_scale']}",
             f"- {report['generated']} images generated in {report['seconds']} s"
             + (f" (resumed after {report['resumed_from']} prompts)"
                if report["resumed_from"] else ""),
             "", "| metric | value |", "|---|---|"]
    for name, values in report["metrics"].items():
        lines += [f"| {name}.{key} | {value:.4g} |" for key, value in values.items()]
    lines += ["", "Real (top) and generated (bottom) images of the first prompts:", "",
              "![samples](samples.png)", "", "Every generated image is in `images/`, in the "
              "order of `plan.json`'s prompt ids.", ""]
    return "\n".join(lines)


class _Progress:
    """A tqdm bar over prompts with an ETA (a no-op when disabled)."""

    def __init__(self, total: int, initial: int, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, desc="evaluate", unit="img",
                            dynamic_ncols=True)

    def update(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _require(value: Any, sample: Sample, what: str) -> Any:
    if value is None:
        raise UserError(f"evaluation sample {sample.id!r} has no {what}")
    return value
