"""``voxcore export RUN_DIR --out DIR``: a trained run as a self-contained pretrained folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Add the ``export`` subcommand."""
    parser = commands.add_parser(
        "export", help="save a trained run as a pretrained folder (save_pretrained)",
        description="Write the newest checkpoint of a run (its EMA weights when there are "
                    "some) to a folder that voxcore.from_pretrained(), 'voxcore generate' and "
                    "'voxcore evaluate' read: the resolved recipe, versions, the bottleneck, "
                    "and the generator's weights, in diffusers' formats where the generator "
                    "has one (pytorch_lora_weights.safetensors for LoRA runs, unet/ for full "
                    "runs).")
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a 'voxcore train' run")
    parser.add_argument("--out", required=True, type=Path, help="folder to write")
    parser.add_argument("--no-ema", action="store_true", help="export raw weights, not the EMA")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the run and write the folder."""
    from voxcore.runs import load, save_pretrained

    loaded = load(args.run_dir, use_ema=not args.no_ema)
    folder = save_pretrained(loaded, args.out)
    weights = "EMA" if loaded.used_ema else "raw"
    print(f"exported '{loaded.resolved.recipe.name}' (step {loaded.step}, {weights} weights) "
          f"to {folder}")
    return 0
