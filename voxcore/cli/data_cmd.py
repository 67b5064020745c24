"""``voxcore data NAME --out DIR``: make a dataset on disk with a registered dataset builder.

The builder's options come from its config model, given in three layers (later wins): a YAML
file (``--config build.yaml``), ``--option VALUE`` flags named after the config's top-level
fields (``--images data/EmoSet``, ``--voices crema-d=data/CREMA-D ravdess=data/RAVDESS``:
several values make a list; ``-`` in a flag name is ``_`` in the field) and ``KEY=VALUE``
overrides in dot notation (``captioner.config.batch_size=8``).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Add the ``data`` subcommand."""
    parser = commands.add_parser(
        "data", help="build a dataset on disk (e.g. voxshapes, voxemoset)",
        description="Build a dataset with a registered dataset builder. Its options are the "
                    "fields of the builder's config: from a YAML file (--config), as --FIELD "
                    "VALUE flags (several values make a list) or as KEY=VALUE overrides in dot "
                    "notation; later ones win. 'voxcore plugins' lists the builders.")
    parser.add_argument("name", metavar="NAME", help="dataset builder (see 'voxcore plugins')")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the dataset to")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="YAML file of builder options")
    parser.add_argument("--size", type=int, help="number of samples (if the builder takes one)")
    parser.add_argument("--seed", type=int, help="random seed (if the builder takes one)")
    parser.add_argument("overrides", metavar="KEY=VALUE", nargs="*", help="builder options")
    parser.set_defaults(run=run, option_flags=[])


def run(args: argparse.Namespace) -> int:
    """Validate the options, build, and say where the dataset is."""
    from pydantic import ValidationError

    from voxcore.errors import RecipeError
    from voxcore.plugins import get_registry
    from voxcore.recipe.loading import parse_overrides
    from voxcore.recipe.validation import pydantic_issues

    entry = get_registry("dataset_builder").get(args.name)
    source = f"voxcore data {args.name}"
    options = _read_options_file(args.config) if args.config is not None else {}
    flags, overrides = split_flags(args.option_flags, source,
                                   fields=set(entry.config_model.model_fields))
    options = _merge(options, flags)
    for key in ("size", "seed"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    layer = parse_overrides([*args.overrides, *overrides], source=source)
    if layer:
        # Overrides reach into what the file and flags gave in the config's own shorthand
        # ('--captioner captions-file captioner.config.path=...'), so they apply to the
        # config as its model spells it out, when the earlier layers are valid on their own.
        with contextlib.suppress(ValidationError):
            options = entry.validate_config(options).model_dump(mode="json")
        options = _merge(options, layer)
    try:
        config = entry.validate_config(options)
    except ValidationError as exc:
        raise RecipeError(f"options of dataset builder {args.name!r}",
                          pydantic_issues(exc, entry.config_model)) from None
    entry.resolve_factory()(config).build(args.out)
    print(f"{args.name} dataset written to {args.out}")
    return 0


def split_flags(tokens: Sequence[str], source: str, fields: set[str] | None = None
                ) -> tuple[dict[str, Any], list[str]]:
    """``--name VALUE [VALUE ...]`` flags as options (YAML values; several make a list) and
    the ``KEY=VALUE`` overrides among them.

    ``--name=VALUE`` works too. A ``KEY=VALUE`` token after a flag is a value of that flag
    (``--voices crema-d=DIR``) unless KEY's first part is one of ``fields`` (the config's
    top-level fields), which makes it an override. Raises
    :class:`~voxcore.errors.RecipeError` for a flag with no value or a token that is neither.
    """
    from voxcore.errors import RecipeError, RecipeIssue

    options: dict[str, Any] = {}
    overrides: list[str] = []
    issues: list[RecipeIssue] = []
    current: str | None = None
    values: dict[str, list[str]] = {}
    for token in tokens:
        if token.startswith("--") and len(token) > 2:
            name, equals, value = token[2:].partition("=")
            current = name.replace("-", "_")
            values.setdefault(current, [])
            if equals:
                values[current].append(value)
                current = None
        elif current is not None and not _is_override(token, fields or set()):
            values[current].append(token)
        elif "=" in token and not token.startswith("-"):
            overrides.append(token)
        else:
            issues.append(RecipeIssue("", f"unexpected argument {token!r}: options are --FIELD "
                                          "VALUE flags or KEY=VALUE overrides"))
    for name, found in values.items():
        if not found:
            issues.append(RecipeIssue(name, f"--{name.replace('_', '-')} needs a value"))
        else:
            parsed = [_yaml_value(value) for value in found]
            options[name] = parsed[0] if len(parsed) == 1 else parsed
    if issues:
        raise RecipeError(source, issues)
    return options, overrides


def _is_override(token: str, fields: set[str]) -> bool:
    key, equals, _ = token.partition("=")
    return bool(equals) and key.split(".")[0].split("[")[0] in fields


def _yaml_value(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text


def _read_options_file(path: Path) -> dict[str, Any]:
    from omegaconf import OmegaConf

    from voxcore.errors import UserError

    if not path.is_file():
        raise UserError(f"--config {path}: no such file; give a YAML file of builder options")
    try:
        loaded = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except Exception as exc:
        raise UserError(f"--config {path} is not valid YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise UserError(f"--config {path} must hold a mapping of builder options")
    return {str(key): value for key, value in loaded.items()}


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif isinstance(value, dict) and isinstance(merged.get(key), list) \
                and all(str(index).isdigit() for index in value):
            merged[key] = _merge_into_list(merged[key], value)
        else:
            merged[key] = value
    return merged


def _merge_into_list(items: list[Any], layer: dict[str, Any]) -> list[Any]:
    """``voices.0.config.emotions=[...]``: overrides of list items by index."""
    merged = list(items)
    for index, value in layer.items():
        position = int(index)
        if position < len(merged) and isinstance(value, dict) \
                and isinstance(merged[position], dict):
            merged[position] = _merge(merged[position], value)
        elif position < len(merged):
            merged[position] = value
        elif position == len(merged):
            merged.append(value)
    return merged
