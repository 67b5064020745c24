"""``voxcore data NAME --out DIR``: make a dataset on disk with a registered dataset builder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Add the ``data`` subcommand."""
    parser = commands.add_parser(
        "data", help="build a dataset on disk (e.g. voxshapes)",
        description="Build a dataset with a registered dataset builder. Options other than "
                    "--size and --seed are given as KEY=VALUE and validated against the "
                    "builder's config.")
    parser.add_argument("name", metavar="NAME", help="dataset builder (see 'voxcore plugins')")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the dataset to")
    parser.add_argument("--size", type=int, help="number of samples (if the builder takes one)")
    parser.add_argument("--seed", type=int, help="random seed (if the builder takes one)")
    parser.add_argument("overrides", metavar="KEY=VALUE", nargs="*", help="builder options")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Validate the options, build, and say where the dataset is."""
    from pydantic import ValidationError

    from voxcore.errors import RecipeError
    from voxcore.plugins import get_registry
    from voxcore.recipe.loading import parse_overrides
    from voxcore.recipe.validation import pydantic_issues

    entry = get_registry("dataset_builder").get(args.name)
    options = parse_overrides(args.overrides, source=f"voxcore data {args.name}")
    for key in ("size", "seed"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    try:
        config = entry.validate_config(options)
    except ValidationError as exc:
        raise RecipeError(f"options of dataset builder {args.name!r}",
                          pydantic_issues(exc, entry.config_model)) from None
    entry.resolve_factory()(config).build(args.out)
    print(f"{args.name} dataset written to {args.out}")
    return 0
