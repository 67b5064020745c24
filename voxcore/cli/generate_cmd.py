"""``voxcore generate RUN_DIR --audio a.wav [...] --out DIR``: images from speech."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Add the ``generate`` subcommand."""
    parser = commands.add_parser(
        "generate", help="generate images from speech with a trained run",
        description="Generate one image per audio file (any wav/flac/ogg, any sample rate or "
                    "channel count) with the newest checkpoint of a run. Runs of the text "
                    "baseline take --text instead.")
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a 'voxcore train' run")
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--audio", nargs="+", type=Path, metavar="FILE", help="audio files")
    inputs.add_argument("--text", nargs="+", metavar="TEXT", help="transcripts (text runs)")
    parser.add_argument("--out", required=True, type=Path, help="folder for the PNG files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="sampling steps (default: the recipe's)")
    parser.add_argument("--guidance", type=float, help="classifier-free guidance scale")
    parser.add_argument("--scheduler", help="sampler, e.g. ddim or dpm-solver++")
    parser.add_argument("--no-ema", action="store_true", help="use raw weights, not the EMA")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the run, read the inputs, write one PNG per input."""
    from voxcore.audio import load_audio
    from voxcore.images import save_image
    from voxcore.inference import generate_images, settings_with
    from voxcore.io import unique_names
    from voxcore.runs import load

    loaded = load(args.run_dir, use_ema=not args.no_ema)
    settings = settings_with(loaded.resolved.recipe.generate, args.steps, args.guidance,
                             args.scheduler)
    if args.audio:
        waveforms = [load_audio(path) for path in args.audio]  # every file checked before work
        images = generate_images(loaded.model, settings, args.seed, waveforms=waveforms)
        names = unique_names([path.stem for path in args.audio])
    else:
        images = generate_images(loaded.model, settings, args.seed, texts=args.text)
        names = [f"text-{index:03d}" for index in range(len(args.text))]
    for name, image in zip(names, images, strict=True):
        path = args.out / f"{name}.png"
        save_image(image, path)
        print(path)
    return 0
