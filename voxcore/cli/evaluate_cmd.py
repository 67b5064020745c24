"""``voxcore evaluate RUN_DIR``: score a trained run at any scale, resumably."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from voxcore.cli.options import add_device_option


def add_parser(commands: Any) -> None:
    """Add the ``evaluate`` subcommand."""
    parser = commands.add_parser(
        "evaluate", help="score a trained run with the recipe's metrics",
        description="Generate an image for every prompt of the recipe's data.eval datasets (or "
                    "a seeded random subset) and score them with the recipe's metrics. Images "
                    "and the metrics' running state are written batch by batch, so a killed "
                    "evaluation re-run with the same options continues where it stopped. "
                    "Writes RUN_DIR/eval/[DATA-]SPLIT/{metrics.json,report.md,samples.png,"
                    "images/}. Under 'accelerate launch --num_processes N -m voxcore.cli "
                    "evaluate ...' the prompts are split among the N processes (one GPU each) "
                    "and their metrics merged: the same results as one process.")
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path,
                        help="a 'voxcore train' run or a 'voxcore export' folder")
    parser.add_argument("--data", metavar="NAME",
                        help="evaluate on this one dataset of the recipe (data.eval, else "
                             "data.train) instead of all of data.eval")
    parser.add_argument("--split", help="dataset split to use instead of the recipe's")
    parser.add_argument("--num-samples", type=int, metavar="N",
                        help="score N prompts drawn at random with --seed (the paper: 10000 "
                             "for SpokenCOCO and VoxEmoset, 5000 for Flickr8kAudio)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N prompts")
    parser.add_argument("--batch-size", type=int, metavar="B",
                        help="images generated per batch (default: the recipe's "
                             "generate.batch_size)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the prompt draw and the sampling noise (default 0)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="folder for the results (default RUN_DIR/eval/[DATA-]SPLIT)")
    parser.add_argument("--restart", action="store_true",
                        help="discard an unfinished or finished evaluation in the folder")
    add_device_option(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the metrics."""
    from voxcore.cli.logs import configure_logging
    from voxcore.errors import UserError
    from voxcore.evaluation import evaluate
    from voxcore.processes import current_processes

    configure_logging()
    for option in ("num_samples", "limit", "batch_size"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise UserError(f"--{option.replace('_', '-')} must be at least 1, got {value}")
    report = evaluate(args.run_dir, data=args.data, split=args.split, limit=args.limit,
                      num_samples=args.num_samples, batch_size=args.batch_size, seed=args.seed,
                      out_dir=args.out, restart=args.restart, device=args.device,
                      progress=not args.no_progress and sys.stderr.isatty())
    if current_processes(args.device).main:
        print(json.dumps(report["metrics"], indent=2))
        print(f"written to {report['folder']}/metrics.json")
    return 0
