"""Reading a recipe file: YAML, ``extends`` chains and ``KEY=VALUE`` overrides.

The result is one plain mapping, not yet validated. Layers merge deeply (mappings merge,
lists and scalars replace), with one rule on top: when a layer changes the ``name`` of the
``encoder``, ``bottleneck`` or ``generator``, that section's ``config`` starts from what the
layer gives, because the old component's options mean nothing to the new one. That is what
lets ``encoder.name=whisper`` swap an encoder from the command line.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from voxcore.errors import RecipeError, RecipeIssue
from voxcore.recipe.schema import COMPONENT_SECTIONS

EXTENDS_KEY = "extends"


def read_recipe(path: str | Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Load ``path`` with its ``extends`` chain, apply ``overrides`` and resolve ``${...}``.

    Raises :class:`RecipeError` listing every problem found on the way.
    """
    from omegaconf import OmegaConf

    source = Path(path)
    merged = _read_with_bases(source, chain=())
    merged = merge_layer(merged, parse_overrides(overrides, source=str(source)))
    try:
        resolved = OmegaConf.to_container(OmegaConf.create(merged), resolve=True)
    except Exception as exc:  # omegaconf raises several unrelated types for bad ${...}
        issue = RecipeIssue("", f"cannot resolve interpolation: {exc}")
        raise RecipeError(str(source), [issue]) from None
    assert isinstance(resolved, dict)
    return {str(k): v for k, v in resolved.items()}


def merge_layer(base: Mapping[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``layer`` over ``base`` (see the module docstring for the rules)."""
    renamed = {key: copy.deepcopy(dict(value)) for key, value in layer.items()
               if key in COMPONENT_SECTIONS and _renames_component(base.get(key), value)}
    merged = _merge_plain(base, {k: v for k, v in layer.items() if k not in renamed})
    return {**merged, **renamed}


def _merge_plain(base: Mapping[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in layer.items():
        old = out.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            out[key] = _merge_plain(old, value)
        elif isinstance(value, Mapping) and isinstance(old, list) and _indexes(value, len(old)):
            # 'data.train.0.config.root=x' reaches into one list item instead of replacing it
            items = copy.deepcopy(old)
            for index, item in value.items():
                position = int(index)
                if isinstance(item, Mapping) and isinstance(items[position], Mapping):
                    items[position] = _merge_plain(items[position], item)
                else:
                    items[position] = copy.deepcopy(item)
            out[key] = items
        else:
            out[key] = copy.deepcopy(value)
    return out


def _indexes(layer: Mapping[str, Any], length: int) -> bool:
    """Whether every key of ``layer`` is the index of an existing list item."""
    return all(str(k).isdigit() and int(k) < length for k in layer)


def _renames_component(old: Any, new: Any) -> bool:
    return (isinstance(old, Mapping) and isinstance(new, Mapping) and "name" in new
            and new.get("name") != old.get("name"))


def _read_with_bases(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise RecipeError(str(path), [RecipeIssue(EXTENDS_KEY, f"extends cycle: {cycle}")])
    data = _read_yaml(path)
    bases = data.pop(EXTENDS_KEY, None)
    if bases is None:
        return data
    if isinstance(bases, str):
        bases = [bases]
    if not (isinstance(bases, list) and all(isinstance(b, str) for b in bases)):
        raise RecipeError(str(path), [RecipeIssue(
            EXTENDS_KEY, f"must be a file name or a list of file names, got {bases!r}")])
    merged: dict[str, Any] = {}
    for base in bases:
        base_path = (path.parent / base)
        if not base_path.is_file():
            raise RecipeError(str(path), [RecipeIssue(
                EXTENDS_KEY, f"base recipe {base!r} not found (looked for {base_path})")])
        merged = merge_layer(merged, _read_with_bases(base_path, (*chain, resolved)))
    return merge_layer(merged, data)


def _read_yaml(path: Path) -> dict[str, Any]:
    from omegaconf import OmegaConf

    if not path.is_file():
        hint = " (it is a directory)" if path.is_dir() else ""
        raise RecipeError(str(path), [RecipeIssue("", f"recipe file not found{hint}: {path}")])
    try:
        loaded = OmegaConf.load(path)
    except Exception as exc:  # yaml.YAMLError and OSError, each with its own message
        raise RecipeError(str(path), [RecipeIssue("", f"cannot read {path}: {exc}")]) from None
    container = OmegaConf.to_container(loaded, resolve=False)
    if not isinstance(container, dict):
        raise RecipeError(str(path), [RecipeIssue(
            "", f"{path} must hold a mapping of sections, got {type(container).__name__}")])
    return {str(k): v for k, v in container.items()}


def parse_overrides(overrides: Sequence[str], source: str) -> dict[str, Any]:
    """Turn ``KEY=VALUE`` strings (dot notation, YAML values) into one nested mapping.

    Raises :class:`RecipeError` (naming ``source``) listing every malformed override.
    """
    from omegaconf import OmegaConf

    issues: list[RecipeIssue] = []
    layer: dict[str, Any] = {}
    for item in overrides:
        key, sep, _ = item.partition("=")
        if not sep or not key.strip():
            issues.append(RecipeIssue("", f"override {item!r} must look like KEY=VALUE, "
                                          "e.g. train.lr=1e-5"))
            continue
        if key.strip() == EXTENDS_KEY:
            issues.append(RecipeIssue(EXTENDS_KEY, "cannot be overridden from the command line"))
            continue
        try:
            parsed = OmegaConf.to_container(OmegaConf.from_dotlist([item]), resolve=False)
        except Exception as exc:
            issues.append(RecipeIssue(key, f"cannot parse override {item!r}: {exc}"))
            continue
        assert isinstance(parsed, dict)
        layer = _merge_plain(layer, {str(k): v for k, v in parsed.items()})
    if issues:
        raise RecipeError(source, issues)
    return layer
