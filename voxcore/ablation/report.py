"""The results of an ablation: ``results.csv`` / ``results.json``, ``report.md``, plots and an
image grid of the same test utterances drawn by every variant."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxcore.ablation.runner import metrics_file, read_record
from voxcore.ablation.spec import AblationPlan, Direction, PlannedRun, Variant
from voxcore.io import write_text_atomic
from voxcore.runs.folders import flatten

log = logging.getLogger(__name__)

#: Metric names (or name parts) where a lower value is better; anything else: higher.
LOWER_IS_BETTER = re.compile(
    r"(^|[._-])(fid|kid|fd|loss|error|err|distance|dist|lpips|mse|mae|rmse|wer|cer|"
    r"seconds|time|params)($|[._-])", re.IGNORECASE)

#: Columns the report adds besides the metrics, with their direction.
EXTRA_COLUMNS: dict[str, Direction] = {
    "trainable_params": "lower",
    "total_params": "lower",
    "train_seconds": "lower",
    "samples_per_second": "higher",
    "wall_seconds": "lower",
}


def direction(column: str, declared: Mapping[str, Direction]) -> Direction:
    """Whether higher or lower is better: declared in the ablation file, else by name."""
    if column in declared:
        return declared[column]
    short = column.split(".")[-1]
    if short in declared:
        return declared[short]
    if column in EXTRA_COLUMNS:
        return EXTRA_COLUMNS[column]
    return "lower" if LOWER_IS_BETTER.search(short) else "higher"


@dataclass
class VariantResult:
    """Per-seed values and their mean / std for one variant."""

    variant: Variant
    seeds: list[int] = field(default_factory=list)
    per_seed: list[dict[str, float]] = field(default_factory=list)
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    axis_value: float | None = None
    steps: int = 0


def train_seconds(run_dir: Path) -> tuple[float, int]:
    """Seconds spent in the training loop (summed over resumed sessions) and the last step,
    from ``logs/loss.csv``."""
    path = run_dir / "logs" / "loss.csv"
    if not path.is_file():
        return math.nan, 0
    total, last_seconds, last_step = 0.0, 0.0, 0
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            seconds = float(row["seconds"])
            if seconds < last_seconds:  # a resumed session starts its clock again
                total += last_seconds
            last_seconds, last_step = seconds, int(row["step"])
    return total + last_seconds, last_step


def metric_values(report: Mapping[str, Any]) -> dict[str, float]:
    """``{metric.key: value}`` of a ``metrics.json`` (numbers only)."""
    metrics = report.get("metrics", {})
    values: dict[str, float] = {}
    for name, result in metrics.items():
        if isinstance(result, Mapping):
            for key, value in result.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    values[f"{name}.{key}"] = float(value)
        elif isinstance(result, int | float) and not isinstance(result, bool):
            values[str(name)] = float(result)
    return values


def metric_directions(report: Mapping[str, Any]) -> dict[str, Direction]:
    """``{metric.key: higher|lower}`` a ``metrics.json`` declares under ``directions``
    (``{metric: {key: "higher" | "lower"}}``, written by metrics that know it)."""
    found: dict[str, Direction] = {}
    declared = report.get("directions")
    if isinstance(declared, Mapping):
        for name, keys in declared.items():
            if isinstance(keys, Mapping):
                for key, which in keys.items():
                    if which in ("higher", "lower"):
                        found[f"{name}.{key}"] = which
    return found


def _short_names(columns: Sequence[str]) -> dict[str, str]:
    """Drop the metric name where the key alone is unambiguous (``judge.fid`` -> ``fid``)."""
    short = {column: column.split(".", 1)[-1] for column in columns}
    counts: dict[str, int] = {}
    for value in short.values():
        counts[value] = counts.get(value, 0) + 1
    return {column: (value if counts[value] == 1 else column) for column, value in short.items()}


def collect(plan: AblationPlan) -> tuple[list[VariantResult], list[str]]:
    """Results of every variant with at least one finished seed, and the metric columns."""
    results: list[VariantResult] = []
    raw_columns: dict[str, None] = {}
    declared: dict[str, Direction] = {}
    per_run: dict[str, list[tuple[PlannedRun, dict[str, float]]]] = {}
    for run in plan.runs:
        path = metrics_file(plan, run)
        if not path.is_file():
            continue
        report = json.loads(path.read_text())
        values = metric_values(report)
        declared.update(metric_directions(report))
        raw_columns.update(dict.fromkeys(values))
        seconds, step = train_seconds(run.run_dir)
        config = run.resolved.recipe.train
        values["train_seconds"] = seconds
        values["samples_per_second"] = (step * config.batch_size * config.grad_accum / seconds
                                        if seconds and seconds == seconds else math.nan)
        record = read_record(run.run_dir)
        values["wall_seconds"] = sum(s.get("train_wall_seconds", 0.0)
                                     + s.get("evaluate_wall_seconds", 0.0)
                                     for s in record.get("sessions", []))
        per_run.setdefault(run.variant.name, []).append((run, values))
    renamed = _short_names(list(raw_columns))
    for column, which in declared.items():  # what the metrics declared, unless the file says
        plan.spec.directions.setdefault(renamed.get(column, column), which)
    for variant in plan.variants:
        finished = per_run.get(variant.name, [])
        if not finished:
            continue
        result = VariantResult(variant)
        for run, values in finished:
            result.seeds.append(run.seed)
            result.per_seed.append({renamed.get(k, k): v for k, v in values.items()})
            result.steps = run.resolved.recipe.train.max_steps
        keys = list(result.per_seed[0])
        for key in keys:
            numbers = [row[key] for row in result.per_seed
                       if not math.isnan(row.get(key, math.nan))]
            result.mean[key] = statistics.fmean(numbers) if numbers else math.nan
            result.std[key] = statistics.stdev(numbers) if len(numbers) > 1 else 0.0
        if plan.axis:
            value = flatten(finished[0][0].resolved.to_dict()).get(plan.axis)
            if value is None:
                value = variant.grid_values.get(plan.axis)
            if isinstance(value, int | float) and not isinstance(value, bool):
                result.axis_value = float(value)
        results.append(result)
    return results, [renamed[c] for c in raw_columns]


def count_parameters(run_dir: Path) -> tuple[int, int, Any]:
    """(trainable, total) parameters of a run's model, and the loaded run."""
    from voxcore.runs import load

    loaded = load(run_dir)
    total = sum(p.numel() for p in loaded.model.parameters())
    trainable = sum(p.numel() for p in loaded.model.parameters() if p.requires_grad)
    return trainable, total, loaded


def _best(results: Sequence[VariantResult], column: str,
          declared: Mapping[str, Direction]) -> set[str]:
    values = {r.variant.name: r.mean.get(column, math.nan) for r in results}
    finite = {k: v for k, v in values.items() if not math.isnan(v)}
    if len(finite) < 2 or len(set(finite.values())) == 1:
        return set()
    pick = min if direction(column, declared) == "lower" else max
    target = pick(finite.values())
    return {k for k, v in finite.items() if v == target}


def _fmt(value: float, std: float | None = None) -> str:
    if math.isnan(value):
        return "–"
    digits = 0 if abs(value) >= 1000 else (1 if abs(value) >= 10 else 3 if abs(value) < 1 else 2)
    text = f"{value:,.{digits}f}" if abs(value) >= 1000 else f"{value:.{digits}f}"
    if std is not None:
        text += f" ± {std:.{digits}f}"
    return text


def _params(value: float) -> str:
    if math.isnan(value):
        return "–"
    return f"{value / 1e6:.2f} M" if value >= 1e5 else f"{value / 1e3:.1f} k"


def write_results(plan: AblationPlan, wall_seconds: float | None = None) -> dict[str, Path]:
    """Write results.csv/json, report.md, plots and the image grid; returns their paths."""
    results, metric_columns = collect(plan)
    out = plan.out
    written: dict[str, Path] = {}
    if not results:
        log.warning("no variant has finished yet; nothing to report")
        return written
    if plan.spec.threads is not None:  # the grid's sampling runs in this process
        import torch

        torch.set_num_threads(plan.spec.threads)
    loaded_runs: dict[str, Any] = {}
    for result in results:
        run_dir = plan.runs_of(result.variant)[0].run_dir
        trainable, total, loaded = count_parameters(run_dir)
        result.mean["trainable_params"], result.mean["total_params"] = trainable, total
        result.std["trainable_params"] = result.std["total_params"] = 0.0
        loaded_runs[result.variant.name] = loaded
    columns = [*metric_columns, *EXTRA_COLUMNS]
    declared = plan.spec.directions
    best = {column: _best(results, column, declared) for column in columns}
    setting_keys = list(dict.fromkeys(k for r in results for k in r.variant.settings))

    written["results.json"] = out / "results.json"
    write_text_atomic(written["results.json"], json.dumps(
        _results_json(plan, results, columns, best, declared), indent=2, default=_nan) + "\n")
    written["results.csv"] = out / "results.csv"
    write_text_atomic(written["results.csv"], _results_csv(results, setting_keys, columns))
    plots = write_plots(plan, results, metric_columns, declared)
    written.update({p.name: p for p in plots})
    grid = None
    try:
        grid = write_image_grid(plan, results, loaded_runs)
    except Exception as exc:  # the grid is a bonus; a failure must not lose the tables
        log.warning("could not draw the image grid: %s", exc)
    if grid is not None:
        written[grid.name] = grid
    written["report.md"] = out / "report.md"
    write_text_atomic(written["report.md"], _report(plan, results, setting_keys, metric_columns,
                                                    best, declared, plots, grid, wall_seconds))
    return written


def _nan(value: Any) -> Any:
    return None


def _clean(value: float) -> float | None:
    return None if isinstance(value, float) and math.isnan(value) else value


def _results_json(plan: AblationPlan, results: Sequence[VariantResult], columns: Sequence[str],
                  best: Mapping[str, set[str]], declared: Mapping[str, Direction]
                  ) -> dict[str, Any]:
    return {
        "ablation": plan.spec.name,
        "description": plan.spec.description,
        "source": str(plan.source),
        "seeds": plan.seeds,
        "axis": plan.axis,
        "directions": {c: direction(c, declared) for c in columns},
        "best": {c: sorted(v) for c, v in best.items() if v},
        "variants": [{
            "name": r.variant.name,
            "settings": r.variant.settings,
            "recipe": str(r.variant.recipe_path),
            "overrides": r.variant.overrides,
            "axis_value": r.axis_value,
            "max_steps": r.steps,
            "seeds": r.seeds,
            "mean": {k: _clean(v) for k, v in r.mean.items()},
            "std": {k: _clean(v) for k, v in r.std.items()},
            "per_seed": [{k: _clean(v) for k, v in row.items()} for row in r.per_seed],
        } for r in results],
    }


def _results_csv(results: Sequence[VariantResult], setting_keys: Sequence[str],
                 columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["variant", *setting_keys, "seeds"]
    for column in columns:
        header += [column, f"{column}_std"]
    writer.writerow(header)
    for r in results:
        row: list[Any] = [r.variant.name,
                          *[_csv_value(r.variant.settings.get(k)) for k in setting_keys],
                          " ".join(map(str, r.seeds))]
        for column in columns:
            mean, std = r.mean.get(column, math.nan), r.std.get(column, math.nan)
            row += [_csv_number(mean), _csv_number(std)]
        writer.writerow(row)
    return buffer.getvalue()


def _csv_number(value: float) -> str:
    if math.isnan(value):
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _cell(text: str, bold: bool) -> str:
    return f"**{text}**" if bold else text


def _report(plan: AblationPlan, results: Sequence[VariantResult], setting_keys: Sequence[str],
            metric_columns: Sequence[str], best: Mapping[str, set[str]],
            declared: Mapping[str, Direction], plots: Sequence[Path], grid: Path | None,
            wall_seconds: float | None) -> str:
    many_seeds = any(len(r.seeds) > 1 for r in results)
    arrow = {"higher": "↑", "lower": "↓"}
    head = ["variant", *[k.split(".")[-1] for k in setting_keys],
            *[f"{c} {arrow[direction(c, declared)]}" for c in metric_columns],
            "trainable params", "total params", "train time (s)", "samples/s", "wall (s)"]
    lines = [f"# Ablation: {plan.spec.name}", ""]
    if plan.spec.description:
        lines += [plan.spec.description.strip(), ""]
    steps = sorted({r.steps for r in results})
    lines += [
        f"Base recipe `{plan.spec.recipe}`; {len(results)} variant(s) of {len(plan.variants)} "
        f"finished; seeds {', '.join(map(str, plan.seeds))}"
        f"{' (mean ± std over seeds)' if many_seeds else ''}; "
        f"{'/'.join(map(str, steps))} training steps; evaluated on "
        f"`{plan.spec.evaluate.folder_name}`. **Bold**: the best value of a "
        "column (↑ higher is better, ↓ lower is better).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in results:
        name = r.variant.name
        cells = [name, *[_value_cell(r.variant.settings.get(k)) for k in setting_keys]]
        for column in metric_columns:
            text = _fmt(r.mean.get(column, math.nan), r.std.get(column) if many_seeds else None)
            cells.append(_cell(text, name in best[column]))
        cells += [
            _cell(_params(r.mean["trainable_params"]), name in best["trainable_params"]),
            _cell(_params(r.mean["total_params"]), name in best["total_params"]),
            _cell(_fmt(r.mean.get("train_seconds", math.nan)), name in best["train_seconds"]),
            _cell(_fmt(r.mean.get("samples_per_second", math.nan)),
                  name in best["samples_per_second"]),
            _fmt(r.mean.get("wall_seconds", math.nan)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    missing = [v.name for v in plan.variants if v.name not in {r.variant.name for r in results}]
    if missing:
        lines += ["", f"Not finished yet: {', '.join(missing)} (run the same command again)."]
    lines += ["", "Train time is the training loop only (summed over resumed sessions); "
              "samples/s = steps × batch size / train time; wall is the whole 'voxcore train' "
              "and 'voxcore evaluate' child processes (start-up, features, evaluation)."]
    if wall_seconds is not None:
        lines += [f"This invocation ran for {wall_seconds:.0f} s of wall time before writing "
                  "this report."]
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{p.stem}]({p.relative_to(plan.out).as_posix()})" for p in plots]
    if grid is not None:
        lines += ["", "## The same test utterances, drawn by every variant", "",
                  "Top row: the real images; then one row per variant (first seed).", "",
                  f"![grid]({grid.relative_to(plan.out).as_posix()})"]
    lines += ["", "Files: `results.csv`, `results.json`; runs in `runs/VARIANT/seed-S/` "
              "(recipe, checkpoints, logs, eval); child-process logs in `logs/`.", ""]
    return "\n".join(lines)


def _value_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value).replace("|", "\\|")


def write_plots(plan: AblationPlan, results: Sequence[VariantResult],
                metric_columns: Sequence[str], declared: Mapping[str, Direction]) -> list[Path]:
    """One bar chart per metric, and a line plot per metric against the numeric axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = plan.out / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    names = [r.variant.name for r in results]
    paths = []
    for column in [*metric_columns, "samples_per_second"]:
        means = [r.mean.get(column, math.nan) for r in results]
        finite = {m for m in means if not math.isnan(m)}
        if not finite or (len(results) > 1 and len(finite) == 1):
            continue  # nothing to compare (e.g. the judge's own accuracy on real images)
        stds = [r.std.get(column, 0.0) for r in results]
        arrow = "↑" if direction(column, declared) == "higher" else "↓"
        figure, axes = plt.subplots(figsize=(max(4.0, 0.8 * len(names) + 2), 3.4))
        bars = axes.bar(range(len(names)), means, yerr=stds if any(stds) else None, capsize=3,
                        color="#4c72b0")
        for index in _best_indices(means, direction(column, declared)):
            bars[index].set_color("#dd8452")
        axes.set_xticks(range(len(names)), names, rotation=30 if len(names) > 3 else 0,
                        ha="right" if len(names) > 3 else "center", fontsize=8)
        axes.set_ylabel(f"{column} {arrow}")
        axes.set_title(f"{plan.spec.name}: {column}", fontsize=10)
        figure.tight_layout()
        path = folder / f"{_file_name(column)}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        paths.append(path)
    with_axis = [r for r in results if r.axis_value is not None]
    if plan.axis and len({r.axis_value for r in with_axis}) > 1:
        label = plan.axis_label or plan.axis
        for column in metric_columns:
            if len({r.mean.get(column) for r in with_axis}) == 1:
                continue
            figure, axes = plt.subplots(figsize=(4.6, 3.4))
            series: dict[str, list[VariantResult]] = {}
            for r in with_axis:
                series.setdefault(r.variant.series, []).append(r)
            for name, members in series.items():
                members = sorted(members, key=lambda r: r.axis_value or 0.0)
                xs = [r.axis_value or 0.0 for r in members]
                ys = [r.mean.get(column, math.nan) for r in members]
                errors = [r.std.get(column, 0.0) for r in members]
                axes.errorbar(xs, ys, yerr=errors if any(errors) else None, marker="o",
                              capsize=3, label=name or None)
            values = sorted({r.axis_value for r in with_axis if r.axis_value})
            if values and values[-1] / values[0] >= 8 and all(v > 0 for v in values):
                axes.set_xscale("log", base=2)
                axes.set_xticks(values, [f"{v:g}" for v in values])
            axes.set_xlabel(label)
            arrow = "↑" if direction(column, declared) == "higher" else "↓"
            axes.set_ylabel(f"{column} {arrow}")
            axes.set_title(f"{plan.spec.name}: {column} vs {label}", fontsize=10)
            if len(series) > 1:
                axes.legend(fontsize=8)
            axes.grid(alpha=0.3)
            figure.tight_layout()
            path = folder / f"{_file_name(column)}-vs-{_file_name(label)}.png"
            figure.savefig(path, dpi=110)
            plt.close(figure)
            paths.append(path)
    return paths


def _best_indices(values: Sequence[float], which: Direction) -> list[int]:
    finite = [v for v in values if not math.isnan(v)]
    if len(finite) < 2 or len(set(finite)) == 1:
        return []
    target = min(finite) if which == "lower" else max(finite)
    return [i for i, v in enumerate(values) if v == target]


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "metric"


def write_image_grid(plan: AblationPlan, results: Sequence[VariantResult],
                     loaded_runs: Mapping[str, Any]) -> Path | None:
    """Rows: the real images, then each variant; columns: the same test utterances."""
    from voxcore.evaluation import evaluation_samples, select_datasets
    from voxcore.images import image_grid, load_image, save_image
    from voxcore.prompts import generate_for, prompt_inputs
    from voxcore.runs import cache_root

    first = loaded_runs[results[0].variant.name]
    specs = select_datasets(first.resolved.eval_data, first.resolved.train_data,
                            plan.spec.evaluate.data)
    samples = evaluation_samples(specs, plan.spec.evaluate.split, None)
    chosen = pick_samples(samples, plan.spec.grid_samples)
    if not chosen:
        return None
    resolution = first.model.generator_part.resolution
    tiles = [load_image(s.image, resolution) for s in chosen if s.image is not None]
    if len(tiles) != len(chosen):
        tiles = []
    labels = ["real"] if tiles else []
    for result in results:
        loaded = loaded_runs[result.variant.name]
        model, resolved = loaded.model, loaded.resolved
        # the same inputs as evaluation: cached features, cached transcripts, or texts
        inputs = prompt_inputs(model, resolved.encoder, cache_root(resolved), chosen,
                               preload_bytes=0, log_summary=False)
        images = generate_for(model, inputs, resolved.recipe.generate, plan.spec.evaluate.seed)
        if images.shape[-1] != resolution:
            import torch

            images = torch.nn.functional.interpolate(images, size=(resolution, resolution))
        tiles += list(images)
        labels.append(result.variant.name)
    column_labels = [_column_label(s) for s in chosen]
    scale = max(1, 64 // resolution)
    path = plan.out / "grid.png"
    save_image(image_grid(tiles, columns=len(chosen), scale=scale, row_labels=labels,
                          column_labels=column_labels if scale * resolution >= 48 else None),
               path)
    return path


def _column_label(sample: Any) -> str:
    labels = sample.labels or {}
    text = "/".join(str(v) for v in labels.values()) if labels else str(sample.id)
    return text[:10]


def pick_samples(samples: Sequence[Any], count: int) -> list[Any]:
    """Up to ``count`` samples covering as many distinct label values as possible."""
    usable = [s for s in samples if s.audio is not None or s.transcript]
    chosen: list[Any] = []
    seen: dict[str, set[str]] = {}
    for sample in usable:
        if len(chosen) >= count:
            break
        labels = dict(sample.labels or {})
        if all(v not in seen.get(k, set()) for k, v in labels.items()) or not labels:
            chosen.append(sample)
            for k, v in labels.items():
                seen.setdefault(k, set()).add(v)
    for sample in usable:
        if len(chosen) >= count:
            break
        if sample not in chosen:
            labels = dict(sample.labels or {})
            fresh = [k for k, v in labels.items() if v not in seen.get(k, set())]
            if fresh or len(chosen) < count:
                chosen.append(sample)
                for k, v in labels.items():
                    seen.setdefault(k, set()).add(v)
    return chosen[:count]
