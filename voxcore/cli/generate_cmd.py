"""``voxcore generate RUN_DIR --audio a.wav [...] --out DIR``: images from speech."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from voxcore.cli.options import add_device_option


def add_parser(commands: Any) -> None:
    """Add the ``generate`` subcommand."""
    parser = commands.add_parser(
        "generate", help="generate images from speech with a trained run",
        description="Generate one image per audio file (any wav/flac/ogg, any sample rate or "
                    "channel count) with the newest checkpoint of a run. Runs of the text "
                    "baseline take --text instead. Inputs are drawn in batches; input i's noise "
                    "comes from seed SEED+i, so its image does not depend on the batch size. "
                    "Under 'accelerate launch --num_processes N -m voxcore.cli generate ...' "
                    "the inputs are split among the N processes (one GPU each).")
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a 'voxcore train' run")
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--audio", nargs="+", type=Path, metavar="FILE", help="audio files")
    inputs.add_argument("--text", nargs="+", metavar="TEXT", help="transcripts (text runs)")
    parser.add_argument("--out", required=True, type=Path, help="folder for the PNG files")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the first input's noise (input i: SEED+i)")
    parser.add_argument("--batch-size", type=int, metavar="N",
                        help="inputs sampled together (default: the recipe's generate.batch_size)")
    parser.add_argument("--steps", type=int, help="sampling steps (default: the recipe's)")
    parser.add_argument("--guidance", type=float, help="classifier-free guidance scale")
    parser.add_argument("--scheduler", help="sampler, e.g. ddim or dpm-solver++")
    parser.add_argument("--no-ema", action="store_true", help="use raw weights, not the EMA")
    add_device_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the run, read the inputs, write one PNG per input (under ``accelerate launch``,
    each process its share of them)."""
    from voxcore.audio import load_audio
    from voxcore.errors import UserError
    from voxcore.images import save_image
    from voxcore.inference import generate_images, settings_with
    from voxcore.io import unique_names
    from voxcore.processes import current_processes
    from voxcore.runs import load

    if args.batch_size is not None and args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    processes = current_processes(args.device)
    loaded = load(args.run_dir, use_ema=not args.no_ema, device=str(processes.device))
    settings = settings_with(loaded.resolved.recipe.generate, args.steps, args.guidance,
                             args.scheduler, batch_size=args.batch_size)
    if args.audio:
        waveforms = [load_audio(path) for path in args.audio]  # every file checked before work
        names = unique_names([path.stem for path in args.audio])
    else:
        names = [f"text-{index:03d}" for index in range(len(args.text))]
    share = processes.share(len(names))
    who = f"process {processes.index} of {processes.count}: " if processes.count > 1 else ""
    if not share:  # more processes than inputs
        print(f"{who}no inputs left for this process ({len(names)} among {processes.count})",
              file=sys.stderr)
    else:
        inputs: dict[str, Any] = (
            {"waveforms": waveforms[share.start:share.stop]} if args.audio
            else {"texts": args.text[share.start:share.stop]})
        started = time.perf_counter()
        images = generate_images(loaded.model, settings, args.seed + share.start, **inputs)
        seconds = time.perf_counter() - started
        for name, image in zip(names[share.start:share.stop], images, strict=True):
            path = args.out / f"{name}.png"
            save_image(image, path)
            print(path)
        print(f"{who}{len(share)} image(s) in {seconds:.2f} s ({len(share) / seconds:.2f} "
              f"images/s, batches of {settings.batch_size})", file=sys.stderr)
    processes.barrier()
    return 0
