"""``voxcore recipe check|show``: validate a recipe, or print it fully resolved."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(commands: Any) -> None:
    """Add the ``recipe`` subcommand and its ``check`` and ``show`` actions."""
    parser = commands.add_parser("recipe", help="check or show a recipe",
                                 description="Validate or print a recipe after merging its "
                                             "'extends' chain and KEY=VALUE overrides.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, run, help_text in (
        ("check", run_check, "validate a recipe and every component config in it"),
        ("show", run_show, "print the resolved recipe with every default filled in"),
    ):
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument("recipe", metavar="RECIPE", help="path to a recipe YAML file")
        action.add_argument("overrides", metavar="KEY=VALUE", nargs="*",
                            help="overrides in dot notation, e.g. train.lr=1e-5")
        action.set_defaults(run=run)


def run_check(args: argparse.Namespace) -> int:
    """Validate; print a one-paragraph summary."""
    from voxcore.recipe import load_recipe

    resolved = load_recipe(args.recipe, args.overrides)
    print(f"recipe {args.recipe} is valid ({resolved.recipe.name!r})")
    parts = [resolved.encoder, resolved.bottleneck, resolved.generator, *resolved.metrics,
             *resolved.train_data, *resolved.eval_data]
    for bound in parts:
        entry = bound.entry
        print(f"  {bound.path}: {entry.name} ({entry.distribution} {entry.version})")
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print the resolved recipe as YAML."""
    from voxcore.recipe import load_recipe

    print(load_recipe(args.recipe, args.overrides).to_yaml(), end="")
    return 0
