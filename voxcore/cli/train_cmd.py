"""``voxcore train RECIPE [KEY=VALUE ...]``: train a recipe's model into a run directory."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Add the ``train`` subcommand."""
    parser = commands.add_parser(
        "train", help="train a recipe's model",
        description="Train the model a recipe describes. Runs as is in one process, or under "
                    "'accelerate launch' for several processes or machines.")
    parser.add_argument("recipe", metavar="RECIPE", help="path to a recipe YAML file")
    parser.add_argument("overrides", metavar="KEY=VALUE", nargs="*",
                        help="recipe overrides in dot notation, e.g. train.max_steps=200")
    parser.add_argument("--run-dir", type=Path,
                        help="where the run is written (default: train.output_dir/NAME)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the newest checkpoint in the run directory")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the recipe, train, report where the run is."""
    from voxcore.cli.logs import configure_logging
    from voxcore.recipe import load_recipe
    from voxcore.runs import default_run_dir
    from voxcore.training.trainer import train

    configure_logging()
    resolved = load_recipe(args.recipe, args.overrides)
    run_dir = args.run_dir or default_run_dir(resolved)
    result = train(resolved, run_dir, resume=args.resume, progress=not args.no_progress)
    if result.main_process:
        print(f"trained {resolved.recipe.name!r} to step {result.step} "
              f"(loss {result.last_loss:.4f}); run directory: {result.run_dir}")
    return 0
