"""Building the registered components a plugin's config names (``{name, config}`` sections).

A dataset builder names its stages as :class:`~voxcore.configs.ComponentRef` s (a captioner,
a synthesizer, voice corpora, ...). :func:`check_references` validates every one of them
before anything runs, reporting all problems together at their dotted keys;
:func:`build_component` then builds one, preparing it first when it learns from data, and
returns it with the :class:`~voxcore.failures.PartLabel` its errors are reported under
(``with blame(built.label, "captioning"): ...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from voxcore.configs import ComponentRef
from voxcore.errors import RecipeError, RecipeIssue, UserError
from voxcore.failures import PartLabel, blame

__all__ = ["BuiltComponent", "build_component", "check_references"]


@dataclass(frozen=True)
class BuiltComponent:
    """A component built from a ``{name, config}`` section, and how messages name it."""

    component: Any
    label: PartLabel


def check_references(config: BaseModel, source: str) -> None:
    """Raise one :class:`RecipeError` (naming ``source``) listing every
    :class:`ComponentRef` inside ``config`` that names no registered component or whose
    config its component rejects, each at its dotted key."""
    from voxcore.assembly import _references
    from voxcore.plugins import get_registry
    from voxcore.recipe.validation import pydantic_issues

    issues: list[RecipeIssue] = []
    for path, ref in _references(config, ""):
        path = path.lstrip(".")
        try:
            entry = get_registry(ref.kind).get(ref.name)  # type: ignore[arg-type]
        except UserError as exc:
            issues.append(RecipeIssue(f"{path}.name", str(exc)))
            continue
        try:
            entry.validate_config(ref.config)
        except ValidationError as exc:
            issues += pydantic_issues(exc, entry.config_model, prefix=f"{path}.config")
    if issues:
        raise RecipeError(source, issues)


def build_component(ref: ComponentRef, section: str, *, prepare: bool = True) -> BuiltComponent:
    """Build the component ``ref`` names (``section`` is its dotted key, for messages).

    A component registered with a preparation step is prepared first when ``prepare`` is
    true (reusing a finished artefact); with ``prepare=False`` a missing artefact is a
    :class:`~voxcore.errors.PreparationMissing` error (for the processes that wait while the
    main one prepares). Exceptions raised inside the plugin name the component and section.
    """
    from voxcore.plugins import get_registry
    from voxcore.preparation import ensure_prepared, finished
    from voxcore.recipe.validation import pydantic_issues

    entry = get_registry(ref.kind).get(ref.name)  # type: ignore[arg-type]
    label = PartLabel.of(entry, section)
    try:
        config = entry.validate_config(ref.config)
    except ValidationError as exc:
        raise RecipeError(section, pydantic_issues(exc, entry.config_model,
                                                   prefix=f"{section}.config")) from None
    folder = None
    if entry.needs_preparation:
        with blame(label, "planning its preparation"):
            preparation = entry.preparation(config)
        if preparation is not None:
            if prepare:
                with blame(label, f"preparing its {preparation.description}"):
                    folder = ensure_prepared(
                        preparation, section=section, component=entry.qualified_name,
                        record={"version": entry.version,
                                "config": config.model_dump(mode="json")}).folder
            else:
                folder = preparation.cache_folder()
                if not finished(folder):
                    from voxcore.errors import PreparationMissing

                    raise PreparationMissing(f"{section} ({entry.kind} {entry.name!r}) needs "
                                             f"its {preparation.description} prepared first; "
                                             f"{folder} holds none")
    with blame(label, "being built"):
        component = entry.build(config, prepared=folder) if entry.needs_preparation \
            else entry.build(config)
    return BuiltComponent(component, label)
