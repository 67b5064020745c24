"""``voxcore quickstart [--out DIR]``: build VoxShapes, train speech and text, report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Add the ``quickstart`` subcommand."""
    parser = commands.add_parser(
        "quickstart", help="the whole chain offline on a CPU: data, training, evaluation",
        description="Build the VoxShapes benchmark, train the speech model and the text "
                    "baseline, evaluate both and write DIR/report.md with a metrics table and "
                    "a grid of the same sentence spoken in each mood. Re-running continues "
                    "where a previous run stopped.")
    parser.add_argument("--out", type=Path, default=Path("quickstart"),
                        help="folder for everything it makes (default: ./quickstart)")
    parser.add_argument("--size", type=int, default=1500, help="VoxShapes samples to build")
    parser.add_argument("--steps", type=int, help="training steps per model (default: recipe)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--sequential", action="store_true",
                        help="train and evaluate the two models one after the other in this "
                             "process (default on a machine of 2 or more cores: side by side, "
                             "a process each)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run it and print where the report is."""
    from voxcore.plugin_api import configure_logging
    from voxcore_quickstart.run import run_quickstart

    configure_logging()
    result = run_quickstart(args.out, size=args.size, max_steps=args.steps, seed=args.seed,
                            progress=not args.no_progress,
                            together=False if args.sequential else None)
    speech, text = result.metrics["speech"], result.metrics["text"]
    for name, values in (("speech", speech), ("text", text)):
        figures = ", ".join(f"{k} {v:.1f}" for k, v in values.items()
                            if not k.startswith("real_"))
        print(f"{name}: {figures}")
    print(f"done in {result.seconds:.0f} s; report: {result.report}")
    return 0
