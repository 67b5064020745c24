"""``voxcore prepare RECIPE``: run what a recipe's parts learn from data before training."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(commands: Any) -> None:
    """Add the ``prepare`` subcommand."""
    parser = commands.add_parser(
        "prepare", help="prepare a recipe's parts (train a recogniser, a judge, ...)",
        description="Run the preparation step of every part of a recipe that has one (for "
                    "example the word recogniser of ctc-words or the judge's classifier), "
                    "reusing finished artefacts from their caches. 'voxcore train' does this "
                    "as its first step; building a model to generate, evaluate or export "
                    "never does.")
    parser.add_argument("recipe", metavar="RECIPE", help="path to a recipe YAML file")
    parser.add_argument("overrides", metavar="KEY=VALUE", nargs="*",
                        help="recipe overrides in dot notation")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Prepare and list each artefact."""
    from voxcore.cli.logs import configure_logging
    from voxcore.preparation import prepare_recipe
    from voxcore.recipe import load_recipe

    configure_logging()
    resolved = load_recipe(args.recipe, args.overrides)
    prepared = prepare_recipe(resolved)
    if not prepared:
        print(f"recipe {args.recipe}: no part needs preparing")
        return 0
    for section, artifact in prepared.items():
        state = "reused" if artifact.reused else f"prepared in {artifact.seconds:.0f} s"
        print(f"{section}: {artifact.description} ({artifact.component}) {state}: "
              f"{artifact.folder} {json.dumps(artifact.figures)}")
    return 0
