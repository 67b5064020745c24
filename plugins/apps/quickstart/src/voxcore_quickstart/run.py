"""``voxcore quickstart``: the whole chain, offline, on a CPU, in minutes.

It builds VoxShapes (shapes whose mood is carried by the voice, not the words), trains the
speech model (``ctc-words`` -> ``words-prosody`` -> ``tiny-unet``: a small word recogniser,
trained first on the training speech, plus the voice's prosody) and the text baseline,
evaluates both with the ``judge`` metrics, and writes ``report.md`` with a metrics table and a
grid: the same sentence spoken in each mood, next to what each model drew.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from voxcore_voxshapes import MOOD_NAMES, VoxShapesBuildConfig, VoxShapesBuilder

from voxcore.plugin_api import (
    LoadedRun,
    ResolvedRecipe,
    RunDir,
    Sample,
    cache_root,
    evaluate,
    find_recipe,
    generate_for,
    image_grid,
    load_image,
    load_recipe,
    load_run,
    prompt_inputs,
    save_image,
    train,
    write_text_atomic,
)
from voxcore_quickstart.parallel import Job, available_cores, run_jobs

log = logging.getLogger(__name__)

MODELS = ("speech", "text")


@dataclass(frozen=True)
class QuickstartResult:
    """Where the report is and the figures in it."""

    report: Path
    metrics: dict[str, dict[str, float]]
    seconds: float


def run_quickstart(
    out: Path,
    *,
    size: int = 1500,
    max_steps: int | None = None,
    seed: int = 0,
    progress: bool = True,
    together: bool | None = None,
) -> QuickstartResult:
    """Build, train, evaluate and report into ``out``; reuses whatever a previous run left.

    With ``together`` (the default on a machine of two or more cores) the two models train
    side by side, and are evaluated side by side, in a process each with half the cores
    (:mod:`voxcore_quickstart.parallel`); otherwise one after the other here.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    data_dir = out / "voxshapes"
    _build_dataset(data_dir, size, seed)
    timings["dataset"] = time.perf_counter() - started
    overrides = [f"data.train.0.config.root={data_dir}", f"data.cache_dir={out / 'cache'}",
                 f"seed={seed}"]
    if max_steps is not None:
        overrides.append(f"train.max_steps={max_steps}")
    resolved = {model: load_recipe(find_recipe(f"quickstart/{model}.yaml"), overrides)
                for model in MODELS}
    paths = {model: component_path(found) for model, found in resolved.items()}
    run_dirs = {model: out / "runs" / model for model in MODELS}
    cores = available_cores()
    together = cores >= 2 if together is None else together
    todo = [m for m in MODELS
            if load_run_step(run_dirs[m]) != resolved[m].recipe.train.max_steps]
    begin = time.perf_counter()
    if together and len(todo) > 1:
        # Each training prepares what it needs first: the speech model its word recogniser
        # while the text model's prepares the judge both share (the other waits for it).
        run_jobs([Job(m, train_model, (m, overrides, run_dirs[m]), run_dirs[m],
                      resolved[m].recipe.train.max_steps) for m in todo],
                 threads=max(1, cores // len(todo)), progress=progress)
    else:
        for model in todo:
            train_model(model, overrides, run_dirs[model], progress=progress)
    timings["prepare and train " + " + ".join(todo) if todo else "train"] = \
        time.perf_counter() - begin
    begin = time.perf_counter()
    if together:
        metrics = run_jobs([Job(m, evaluate_model, (run_dirs[m],)) for m in MODELS],
                           threads=max(1, cores // len(MODELS)), progress=False)
    else:
        metrics = {m: evaluate_model(run_dirs[m]) for m in MODELS}
    timings["evaluate speech + text"] = time.perf_counter() - begin
    runs = {model: load_run(run_dirs[model]) for model in MODELS}
    heard = runs["speech"].prepared_figures.get("encoder", {})
    begin = time.perf_counter()
    grid = _mood_grid(out, runs)
    timings["grid"] = time.perf_counter() - begin
    seconds = time.perf_counter() - started
    report = out / "report.md"
    write_text_atomic(report, _report_text(metrics, paths, timings, seconds, grid, size, out,
                                           heard))
    return QuickstartResult(report, metrics, seconds)


def train_model(model: str, overrides: list[str], run_dir: Path, *,
                progress: bool = False) -> None:
    """Train (or finish training) the quickstart's ``model`` into ``run_dir``."""
    resolved = load_recipe(find_recipe(f"quickstart/{model}.yaml"), overrides)
    done = load_run_step(run_dir)
    if done != resolved.recipe.train.max_steps:
        train(resolved, run_dir, resume=done > 0, progress=progress)


def evaluate_model(run_dir: Path) -> dict[str, float]:
    """The judge's figures of ``run_dir`` on the test split (resumed if interrupted)."""
    judged: dict[str, float] = evaluate(run_dir, split="test")["metrics"]["judge"]
    return judged


def component_path(resolved: ResolvedRecipe) -> str:
    """The recipe's model as ``encoder → bottleneck → generator`` (registered names)."""
    sections = resolved.recipe.encoder, resolved.recipe.bottleneck, resolved.recipe.generator
    return " → ".join(section.name for section in sections)


def load_run_step(run_dir: Path) -> int:
    """The step of a run's newest checkpoint (0 if none)."""
    latest = RunDir(run_dir).latest()
    return latest.step if latest else 0


def _build_dataset(data_dir: Path, size: int, seed: int) -> None:
    builder = VoxShapesBuilder(VoxShapesBuildConfig(size=size, seed=seed))
    if not builder.build_unless_built(data_dir):
        log.info("reusing the VoxShapes dataset in %s", data_dir)


def _mood_grid(out: Path, runs: dict[str, LoadedRun]) -> tuple[Path, str]:
    """Rows: moods; columns: real image, speech model, text model, for one sentence."""
    resolved = runs["speech"].resolved
    test = resolved.eval_data[0]
    config = {**test.config.model_dump(), "split": "test"}
    dataset = test.entry.build(config)
    samples = [dataset[i] for i in range(len(dataset))]
    chosen, content = _one_sentence_per_mood(samples)
    moods = [s.labels["mood"] for s in chosen]
    speech, text = runs["speech"], runs["text"]
    settings = resolved.recipe.generate
    drawn = []
    for loaded in (speech, text):
        inputs = prompt_inputs(loaded.model, loaded.resolved.encoder,
                               cache_root(loaded.resolved), chosen, preload_bytes=0)
        drawn.append(generate_for(loaded.model, inputs, settings, 0))
    spoken, written = drawn
    resolution = speech.model.generator_part.resolution
    tiles: list[torch.Tensor] = []
    for sample, from_speech, from_text in zip(chosen, spoken, written, strict=True):
        assert sample.image is not None
        tiles += [load_image(sample.image, resolution), from_speech, from_text]
    path = out / "mood_grid.png"
    save_image(image_grid(tiles, columns=3, scale=4, row_labels=moods,
                          column_labels=["real", "speech", "text"]), path)
    return path, content


def _one_sentence_per_mood(samples: Sequence[Sample]) -> tuple[list[Sample], str]:
    by_content: dict[str, dict[str, Sample]] = {}
    for sample in samples:
        content, mood = sample.labels.get("content"), sample.labels.get("mood")
        if content and mood and sample.audio and sample.image:
            by_content.setdefault(content, {}).setdefault(mood, sample)
    moods = sorted({s.labels.get("mood", "") for s in samples} - {""})
    for content, found in sorted(by_content.items()):
        if set(found) == set(moods):
            return [found[m] for m in moods], content
    content, found = max(by_content.items(), key=lambda item: len(item[1]))
    return [found[m] for m in sorted(found)], content


def _report_text(
    metrics: dict[str, dict[str, float]],
    paths: dict[str, str],
    timings: dict[str, float],
    seconds: float,
    grid: tuple[Path, str],
    size: int,
    out: Path,
    heard: dict[str, float],
) -> str:
    path, content = grid
    speech, text = metrics["speech"], metrics["text"]

    def cell(values: dict[str, float], key: str) -> str:
        return f"{values[key]:.1f}" if key in values else "–"

    lines = [
        "# voxcore quickstart report",
        "",
        f"VoxShapes ({size} samples), test split. Accuracies are the judge classifier's "
        "(a timm model trained on VoxShapes' real training images) on the generated images: "
        "content accuracy stands in for CLIPScore, mood accuracy for Emo-A; FID is computed on "
        "the judge's features against the real test images.",
        "",
        "| model | input | content accuracy (%) | mood accuracy (%) | FID (judge features) |",
        "|---|---|---|---|---|",
        f"| {paths['speech']} | speech | {cell(speech, 'content_accuracy')} | "
        f"{cell(speech, 'mood_accuracy')} | {cell(speech, 'fid')} |",
        f"| {paths['text']} | text | {cell(text, 'content_accuracy')} | "
        f"{cell(text, 'mood_accuracy')} | {cell(text, 'fid')} |",
        "",
        f"Speech minus text, mood accuracy: "
        f"{speech.get('mood_accuracy', 0.0) - text.get('mood_accuracy', 0.0):+.1f} points "
        f"(the transcript never says the mood; chance is {100 / len(MOOD_NAMES):.0f}%).",
        "",
        f"The judge on real test images: content {cell(speech, 'real_content_accuracy')}%, "
        f"mood {cell(speech, 'real_mood_accuracy')}%.",
        "",
        *([f"The speech model's word recogniser (trained on the training split's speech and "
           f"transcripts) on the test speech: {heard['exact_transcripts_percent']:.1f}% of "
           f"utterances transcribed exactly, {heard['words_recognised_percent']:.1f}% of "
           "their words heard.", ""] if "exact_transcripts_percent" in heard else []),
        f"## The same sentence in each mood: \"{content}\"",
        "",
        "Each row is one test utterance of the same words, spoken with that mood's prosody. "
        "Columns: the real image, what the speech model drew from the voice, what the text "
        "model drew from the transcript (identical words, so it cannot tell the rows apart).",
        "",
        f"![mood grid]({path.relative_to(out)})",
        "",
        "## Time",
        "",
        "| step | seconds |",
        "|---|---|",
        *[f"| {name} | {value:.0f} |" for name, value in timings.items()],
        f"| **total** | **{seconds:.0f}** |",
        "",
        "Runs are in `runs/speech` and `runs/text` (recipe, checkpoints, logs, "
        "`eval/test/metrics.json`).",
        "",
    ]
    return "\n".join(lines)

