"""Validating a merged recipe: the sections, then each component's own config.

Every problem is collected, each with its dotted path (``bottleneck.config.ratio``,
``metrics[1].name``), and reported together in one :class:`RecipeError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from voxcore.errors import RecipeError, RecipeIssue, UserError, did_you_mean
from voxcore.failures import PartLabel, blame
from voxcore.recipe.schema import COMPONENT_SECTIONS, Recipe
from voxcore.registry import ComponentEntry, Kind


@dataclass(frozen=True)
class BoundComponent:
    """A recipe section bound to its registry entry and its validated config."""

    path: str
    entry: ComponentEntry
    config: BaseModel

    @property
    def label(self) -> PartLabel:
        """How messages name this part."""
        return PartLabel.of(self.entry, self.path)

    def build(self, config: BaseModel | None = None, *, prepared: Path | None = None) -> Any:
        """Build the component from its validated config (or ``config``, e.g. with widths
        filled in), with the folder of its prepared artefact when it has one; an exception
        inside the plugin becomes a :class:`~voxcore.errors.PluginFailure` naming this part."""
        with blame(self.label, "being built"):
            return self.entry.build(config if config is not None else self.config,
                                    prepared=prepared)


@dataclass(frozen=True)
class ResolvedRecipe:
    """A recipe whose sections and component configs are all valid."""

    recipe: Recipe
    source: str
    encoder: BoundComponent
    bottleneck: BoundComponent
    generator: BoundComponent
    metrics: list[BoundComponent] = field(default_factory=list)
    train_data: list[BoundComponent] = field(default_factory=list)
    eval_data: list[BoundComponent] = field(default_factory=list)

    @property
    def model_parts(self) -> list[BoundComponent]:
        """The encoder, bottleneck and generator."""
        return [self.encoder, self.bottleneck, self.generator]

    @property
    def parts(self) -> list[BoundComponent]:
        """Every component the recipe names: model parts, metrics, datasets."""
        return [*self.model_parts, *self.metrics, *self.train_data, *self.eval_data]

    def to_dict(self) -> dict[str, Any]:
        """The recipe with every default filled in, as plain data (what ``recipe show`` prints)."""
        data = self.recipe.model_dump(mode="json")
        for bound in self.model_parts:
            data[bound.path]["config"] = bound.config.model_dump(mode="json")
        for i, bound in enumerate(self.metrics):
            data["metrics"][i]["config"] = bound.config.model_dump(mode="json")
        for key, bounds in (("train", self.train_data), ("eval", self.eval_data)):
            for i, bound in enumerate(bounds):
                data["data"][key][i]["config"] = bound.config.model_dump(mode="json")
        return data

    def to_yaml(self) -> str:
        """:meth:`to_dict` as YAML."""
        from omegaconf import OmegaConf

        return OmegaConf.to_yaml(OmegaConf.create(self.to_dict()))


def validate_recipe(data: Mapping[str, Any], source: str = "<recipe>") -> ResolvedRecipe:
    """Validate merged recipe data; raise :class:`RecipeError` with every problem found."""
    from voxcore.plugins import get_registry

    issues: list[RecipeIssue] = []
    recipe: Recipe | None = None
    try:
        recipe = Recipe.model_validate(dict(data))
    except ValidationError as exc:
        issues += pydantic_issues(exc, Recipe)

    bound: dict[str, list[BoundComponent]] = {}
    for path, kind, raw in _component_sections(data):
        try:
            entry = get_registry(kind).get(str(raw["name"]))
        except UserError as exc:
            issues.append(RecipeIssue(f"{path}.name", str(exc)))
            continue
        config = raw.get("config") or {}
        if not isinstance(config, Mapping):
            continue  # already reported by the section schema
        try:
            validated = entry.validate_config(config)
        except ValidationError as exc:
            issues += pydantic_issues(exc, entry.config_model, prefix=f"{path}.config")
            continue
        bound.setdefault(path.split("[")[0], []).append(BoundComponent(path, entry, validated))

    issues = sorted(dict.fromkeys(issues), key=_section_order)
    if issues or recipe is None:
        raise RecipeError(source, issues)
    return ResolvedRecipe(
        recipe=recipe,
        source=source,
        encoder=bound["encoder"][0],
        bottleneck=bound["bottleneck"][0],
        generator=bound["generator"][0],
        metrics=bound.get("metrics", []),
        train_data=bound.get("data.train", []),
        eval_data=bound.get("data.eval", []),
    )


_SECTION_ORDER = ("", "name", "seed", "encoder", "bottleneck", "generator", "data", "train",
                  "generate", "metrics")


def _section_order(issue: RecipeIssue) -> int:
    head = issue.path.split(".")[0].split("[")[0]
    return _SECTION_ORDER.index(head) if head in _SECTION_ORDER else len(_SECTION_ORDER)


def _component_sections(data: Mapping[str, Any]) -> list[tuple[str, Kind, Mapping[str, Any]]]:
    """``(path, kind, raw section)`` for each component section that names something."""
    found: list[tuple[str, Kind, Any]] = []
    for section, kind in COMPONENT_SECTIONS.items():
        found.append((section, kind, data.get(section)))
    metrics = data.get("metrics")
    if isinstance(metrics, list):
        found += [(f"metrics[{i}]", "metric", m) for i, m in enumerate(metrics)]
    datasets = data.get("data")
    if isinstance(datasets, Mapping):
        for split in ("train", "eval"):
            items = datasets.get(split)
            if isinstance(items, list):
                found += [(f"data.{split}[{i}]", "dataset", d) for i, d in enumerate(items)]
    return [(path, kind, raw) for path, kind, raw in found
            if isinstance(raw, Mapping) and isinstance(raw.get("name"), str) and raw["name"]]


def pydantic_issues(
    exc: ValidationError, model: type[BaseModel], prefix: str = ""
) -> list[RecipeIssue]:
    """Turn a pydantic error into issues with dotted paths and, for typos, a did-you-mean."""
    issues = []
    errors = exc.errors()
    missing = {_dotted(prefix, e["loc"]) for e in errors if e["type"] == "missing"}
    for error in errors:
        loc = [part for part in error["loc"] if not _is_union_tag(part)]
        path = _dotted(prefix, loc)
        if error["type"] == "extra_forbidden":
            known = _field_names_at(model, loc[:-1])
            # a misspelled required key shows up twice: as unknown and as missing
            siblings = [k for k in known if _dotted(prefix, [*loc[:-1], k]) in missing]
            hint = did_you_mean(str(loc[-1]), siblings) or did_you_mean(str(loc[-1]), known)
            listed = f" valid keys here: {', '.join(sorted(known))}" if known else ""
            message = f"unknown key;{hint}{listed}"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif isinstance(error["input"], Mapping):
            message = error["msg"]  # a whole-section check; echoing the section is noise
        else:
            message = f"{error['msg']} (got {error['input']!r})"
        issues.append(RecipeIssue(path, message))
    return issues


def _is_union_tag(part: Any) -> bool:
    # pydantic puts the union member or a function name into loc for some errors
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _dotted(prefix: str, loc: Sequence[Any]) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path = f"{path}[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _field_names_at(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """Names of the fields of the model found by walking ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field_info = current.model_fields.get(str(part))
        if field_info is None:
            return []
        current = _model_in(field_info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside ``X``, ``list[X]``, ``X | None`` and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None:
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
