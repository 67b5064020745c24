"""``voxcore recipe check|show``: validate a recipe and check its parts fit, or print it."""

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
        ("check", run_check, "validate a recipe and every component config in it, and "
                             "assemble its model on the meta device to check that its parts "
                             "fit (no weights read, nothing downloaded or prepared)"),
        ("show", run_show, "print the resolved recipe with every default filled in"),
    ):
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument("recipe", metavar="RECIPE", help="path to a recipe YAML file")
        action.add_argument("overrides", metavar="KEY=VALUE", nargs="*",
                            help="overrides in dot notation, e.g. train.lr=1e-5")
        action.set_defaults(run=run)


def run_check(args: argparse.Namespace) -> int:
    """Validate and assemble; print a summary (or every problem, exit status 2)."""
    from voxcore.assembly import check_recipe

    report = check_recipe(args.recipe, args.overrides)
    resolved = report.resolved
    print(f"recipe {args.recipe} is valid ({resolved.recipe.name!r}) and its parts fit")
    for bound in resolved.parts:
        entry = bound.entry
        print(f"  {bound.path}: {entry.name} ({entry.distribution} {entry.version})")
    for note in report.notes:
        print(f"note: {note}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print the resolved recipe as YAML."""
    from voxcore.recipe import load_recipe

    print(load_recipe(args.recipe, args.overrides).to_yaml(), end="")
    return 0
