"""The ablation file and its expansion into validated variants.

An ablation file names a base recipe and what to vary::

    name: pooling-ratio
    recipe: ../quickstart/speech.yaml          # relative to this file, or a shipped recipe
    overrides: {train.max_steps: 300}          # applied to every variant
    grid:                                      # cartesian product of dotted overrides
      bottleneck.config.strides: [[1, 1, 1], [2, 1, 1], [2, 2, 1], [2, 2, 2], [4, 2, 2]]
    variants:                                  # named variants (crossed with the grid)
      sib: {}
      transformer: {overrides: {bottleneck: {name: transformer, config: {num_layers: 3}}}}
    seeds: [0]
    axis: bottleneck.config.ratio              # x axis of the line plots (resolved recipe key)

:func:`plan_ablation` reads it, expands every variant and validates every (variant, seed)
recipe, and raises one :class:`AblationError` listing every problem of every variant, before
anything is built or trained.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from voxcore.errors import RecipeError, RecipeIssue, UserError

Direction = Literal["higher", "lower"]

_SAFE = re.compile(r"[^A-Za-z0-9._=+,-]+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VariantSpec(_Strict):
    """A named variant: its own overrides, optionally over another base recipe."""

    recipe: str | None = Field(
        default=None, description="another base recipe for this variant (relative to the "
                                  "ablation file, or a shipped one: quickstart/text.yaml)")
    overrides: dict[str, Any] = Field(default_factory=dict,
                                      description="dotted KEY: VALUE overrides of the recipe")
    description: str = ""


class BuildSpec(_Strict):
    """A dataset to build (with a registered dataset builder) before anything trains."""

    builder: str = Field(min_length=1, description="registered dataset builder, e.g. voxshapes")
    out: str = Field(min_length=1, description="folder to build into (relative to the working "
                                               "directory, like a recipe's dataset roots); "
                                               "reused when it already holds a build")
    config: dict[str, Any] = Field(default_factory=dict)


class EvaluateSpec(_Strict):
    """How every variant is evaluated (``voxcore evaluate``)."""

    data: str | None = Field(default=None, description="one dataset of the recipe by name "
                                                       "(voxcore evaluate --data)")
    split: str | None = Field(default=None, description="dataset split; None = the recipe's")
    limit: int | None = Field(default=None, ge=1)
    num_samples: int | None = Field(default=None, ge=1,
                                    description="prompts drawn at random (--num-samples)")
    batch_size: int | None = Field(default=None, ge=1, description="images per batch")
    seed: int = 0
    processes: int = Field(default=1, ge=1, description="evaluate each run in this many "
                                                        "processes (accelerate launch; one GPU "
                                                        "each, or CPU processes), metrics merged")

    @property
    def folder_name(self) -> str:
        """The folder under ``RUN/eval/`` that ``voxcore evaluate`` writes to."""
        return "-".join(part for part in (self.data, self.split) if part) or "eval"


class AblationFile(_Strict):
    """The whole ablation file."""

    name: str = Field(min_length=1)
    description: str = ""
    recipe: str = Field(min_length=1, description="the base recipe")
    overrides: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    variants: dict[str, VariantSpec] = Field(default_factory=dict)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    axis: str | None = Field(
        default=None, description="dotted key of the resolved recipe giving each variant's x "
                                  "value in the line plots; default: the grid's key when the "
                                  "grid has exactly one numeric key")
    axis_label: str | None = None
    directions: dict[str, Direction] = Field(
        default_factory=dict, description="metric column -> higher/lower is better")
    cache_dir: str | None = Field(
        default=None, description="data.cache_dir shared by every variant; default: the base "
                                  "recipe's, else OUT/cache")
    build: list[BuildSpec] = Field(default_factory=list)
    evaluate: EvaluateSpec = Field(default_factory=EvaluateSpec)
    threads: int | None = Field(
        default=None, ge=1,
        description="CPU threads of each training / evaluation process (OMP_NUM_THREADS); "
                    "None = inherit. On a busy CPU one thread per process is often much faster")
    grid_samples: int = Field(default=8, ge=1, le=32,
                              description="test utterances in the image grid")

    @model_validator(mode="after")
    def _check(self) -> AblationFile:
        empty = [key for key, values in self.grid.items() if not values]
        if empty:
            raise ValueError(f"grid values must not be empty: {', '.join(empty)}")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct, got {self.seeds}")
        return self


@dataclass(frozen=True)
class Variant:
    """One expanded variant: a base recipe and the overrides that make it."""

    name: str
    recipe_path: Path
    settings: dict[str, Any]
    """What distinguishes the variant (named variant and grid values), for the tables."""
    overrides: dict[str, Any]
    """Every override, in order (common, named, grid)."""
    series: str = ""
    """The named variant it comes from ("" when there are none): one line per series."""
    grid_values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedRun:
    """A (variant, seed) pair with its validated recipe."""

    variant: Variant
    seed: int
    resolved: Any  # voxcore.recipe.ResolvedRecipe (kept loose to avoid a typing cycle)
    run_dir: Path

    @property
    def label(self) -> str:
        return f"{self.variant.name} (seed {self.seed})"


@dataclass(frozen=True)
class AblationPlan:
    """Everything an ablation will run, all validated."""

    spec: AblationFile
    source: Path
    out: Path
    cache_dir: Path
    variants: list[Variant]
    seeds: list[int]
    runs: list[PlannedRun]
    axis: str | None
    axis_label: str | None

    def runs_of(self, variant: Variant) -> list[PlannedRun]:
        return [run for run in self.runs if run.variant.name == variant.name]


class AblationError(UserError):
    """Every problem of an ablation file and its variants, reported together."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        lines = [f"ablation {source} has {count} problem{'s' if count != 1 else ''} "
                 "(nothing was run):"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


def read_ablation(path: Path) -> AblationFile:
    """Read and validate the ablation file itself (not yet its variants)."""
    import importlib

    yaml: Any = importlib.import_module("yaml")  # PyYAML (omegaconf's dependency), no stubs
    if not path.is_file():
        raise UserError(f"ablation file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, OSError) as exc:
        raise UserError(f"cannot read ablation file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise AblationError(str(path), ["the file must hold a mapping (name, recipe, grid, "
                                        "variants, ...)"])
    try:
        return AblationFile.model_validate(data)
    except ValidationError as exc:
        from voxcore.recipe.validation import pydantic_issues

        raise AblationError(str(path), [str(i) for i in pydantic_issues(exc, AblationFile)]
                            ) from None


def variant_name(values: Mapping[str, Any], keys: Sequence[str]) -> str:
    """A short, file-system-safe name for a grid point, e.g. ``strides=2-2-1``."""
    short = {key: key.split(".")[-1] for key in keys}
    if len(set(short.values())) != len(keys):
        short = {key: key for key in keys}
    parts = [f"{short[key]}={_value_text(values[key])}" for key in keys]
    return _SAFE.sub("-", ",".join(parts))


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "-".join(_value_text(v) for v in value)
    if isinstance(value, dict):
        return _SAFE.sub("-", json.dumps(value, sort_keys=True))
    return str(value)


def expand_variants(spec: AblationFile, source: Path) -> list[Variant]:
    """Named variants (or the base alone) crossed with every grid point, in file order."""
    base = resolve_recipe_path(spec.recipe, source)
    named: list[tuple[str, VariantSpec]] = list(spec.variants.items()) or [("", VariantSpec())]
    keys = list(spec.grid)
    points = [dict(zip(keys, combo, strict=True))
              for combo in itertools.product(*(spec.grid[k] for k in keys))] if keys else [{}]
    variants = []
    for series, named_spec in named:
        recipe = resolve_recipe_path(named_spec.recipe, source) if named_spec.recipe else base
        for point in points:
            parts = [p for p in (series, variant_name(point, keys) if point else "") if p]
            name = ",".join(parts) or "base"
            settings: dict[str, Any] = {}
            if series and keys:
                settings["series"] = series
            settings.update(point)
            variants.append(Variant(
                name=name, recipe_path=recipe, settings=settings,
                overrides={**spec.overrides, **named_spec.overrides, **point},
                series=series if keys else "", grid_values=dict(point)))
    return variants


def resolve_recipe_path(recipe: str, source: Path) -> Path:
    """``recipe`` relative to the ablation file, else a recipe shipped with voxcore."""
    candidate = Path(recipe)
    if not candidate.is_absolute():
        candidate = source.parent / candidate
    if candidate.is_file():
        return candidate
    from voxcore.recipe.shipped import find_recipe

    for name in (recipe, f"{recipe}.yaml"):
        try:
            return find_recipe(name)
        except UserError:
            continue
    return candidate  # reported as missing by the recipe loader, with its path


def override_strings(overrides: Mapping[str, Any]) -> list[str]:
    """``KEY=VALUE`` strings for :func:`voxcore.recipe.read_recipe` (values as JSON, a YAML
    subset, so lists and mappings survive)."""
    return [f"{key}={json.dumps(value)}" for key, value in overrides.items()]


def select(variants: list[Variant], only: Sequence[str]) -> list[Variant]:
    """The variants named (or matched, with shell wildcards) by ``only``; all when empty."""
    if not only:
        return variants
    unknown = [pattern for pattern in only
               if not any(fnmatch.fnmatchcase(v.name, pattern) for v in variants)]
    if unknown:
        raise UserError(f"--only names no variant: {', '.join(unknown)}; the variants are: "
                        f"{', '.join(v.name for v in variants)}")
    return [v for v in variants if any(fnmatch.fnmatchcase(v.name, p) for p in only)]


def plan_ablation(
    source: Path,
    out: Path | None = None,
    *,
    only: Sequence[str] = (),
    seeds: Sequence[int] | None = None,
) -> AblationPlan:
    """Read the ablation file, expand and validate every variant; raise every problem at once."""
    from voxcore.plugins import get_registry
    from voxcore.recipe import read_recipe, validate_recipe

    spec = read_ablation(source)
    out = out if out is not None else Path("runs") / "ablations" / spec.name
    problems: list[str] = []
    variants = expand_variants(spec, source)
    names = [v.name for v in variants]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems.append(f"variant names repeat: {', '.join(repeated)} (give the named "
                        "variants distinct names)")
    variants = select(variants, only)
    seed_list = list(seeds) if seeds else list(spec.seeds)

    for index, build in enumerate(spec.build):
        try:
            entry = get_registry("dataset_builder").get(build.builder)
        except UserError as exc:
            problems.append(f"build[{index}].builder: {exc}")
            continue
        try:
            entry.validate_config(build.config)
        except ValidationError as exc:
            from voxcore.recipe.validation import pydantic_issues

            problems += [str(issue) for issue in pydantic_issues(
                exc, entry.config_model, prefix=f"build[{index}].config")]

    cache_dir = _cache_dir(spec, source, out)
    runs: list[PlannedRun] = []
    for variant in variants:
        issues: dict[str, None] = {}
        for seed in seed_list:
            overrides = {"name": f"{spec.name}-{variant.name}", **variant.overrides,
                         "seed": seed, "data.cache_dir": str(cache_dir)}
            try:
                data = read_recipe(variant.recipe_path, override_strings(overrides))
                resolved = validate_recipe(data, source=str(variant.recipe_path))
            except RecipeError as exc:
                issues.update(dict.fromkeys(_describe(exc.issues, variant)))
                continue
            except UserError as exc:
                issues[str(exc)] = None
                continue
            if seed == seed_list[0]:  # whether the parts fit does not depend on the seed
                from voxcore.assembly import check_assembly

                report = check_assembly(resolved)
                if report.issues:
                    issues.update(dict.fromkeys(_describe(report.issues, variant)))
                    continue
            run_dir = out / "runs" / variant.name / f"seed-{seed}"
            stale = _stale_run(run_dir, resolved)
            if stale:
                issues[stale] = None
                continue
            runs.append(PlannedRun(variant, seed, resolved, run_dir))
        problems += [f"variant {variant.name!r}: {issue}" for issue in issues]
    if problems:
        raise AblationError(str(source), problems)
    axis = spec.axis
    if axis is None and len(spec.grid) == 1:
        (key, values), = spec.grid.items()
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            axis = key
    return AblationPlan(spec=spec, source=source, out=out, cache_dir=cache_dir,
                        variants=variants, seeds=seed_list, runs=runs, axis=axis,
                        axis_label=spec.axis_label or axis)


def _cache_dir(spec: AblationFile, source: Path, out: Path) -> Path:
    if spec.cache_dir:
        return Path(spec.cache_dir)
    from voxcore.recipe import read_recipe

    try:
        base = read_recipe(resolve_recipe_path(spec.recipe, source))
    except UserError:
        base = {}
    data = base.get("data")
    cache = data.get("cache_dir") if isinstance(data, dict) else None
    return Path(cache) if cache else out / "cache"


def _describe(issues: Sequence[RecipeIssue], variant: Variant) -> list[str]:
    """Recipe issues, each naming the override that caused it when one did."""
    described = []
    for issue in issues:
        culprit = next((key for key in variant.overrides
                        if issue.path == key or issue.path.startswith(f"{key}.")
                        or key.startswith(f"{issue.path}.")), None)
        suffix = f" (from override {culprit!r})" if culprit and culprit != issue.path else ""
        described.append(f"{issue}{suffix}")
    return described


def _stale_run(run_dir: Path, resolved: Any) -> str | None:
    """A message when ``run_dir`` holds a run of another recipe (it cannot be reused)."""
    from voxcore.runs.folders import RunDir, recipe_changes

    run = RunDir(run_dir)
    if not run.recipe_file.is_file():
        return None
    try:
        changed = recipe_changes(run.load_recipe(), resolved, shown=5)
    except UserError as exc:
        return f"{run_dir} holds a run whose recipe no longer loads ({exc}); remove it"
    if not changed:
        return None
    return (f"{run_dir} holds a run of another recipe ({changed}); remove that folder or "
            "choose another --out")
