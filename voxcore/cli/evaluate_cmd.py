"""``voxcore evaluate RUN_DIR [--split test]``: score a trained run, write metrics.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Add the ``evaluate`` subcommand."""
    parser = commands.add_parser(
        "evaluate", help="score a trained run with the recipe's metrics",
        description="Generate an image for every prompt of the recipe's data.eval datasets "
                    "and score them with the recipe's metrics. Writes "
                    "RUN_DIR/eval/SPLIT/metrics.json and a grid of real vs generated images.")
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a 'voxcore train' run")
    parser.add_argument("--split", help="dataset split to use instead of the recipe's")
    parser.add_argument("--limit", type=int, help="evaluate only the first N prompts")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the metrics."""
    from voxcore.cli.logs import configure_logging
    from voxcore.evaluation import evaluate

    configure_logging()
    report = evaluate(args.run_dir, split=args.split, limit=args.limit, seed=args.seed)
    print(json.dumps(report["metrics"], indent=2))
    print(f"written to {args.run_dir / 'eval' / (args.split or 'eval') / 'metrics.json'}")
    return 0
