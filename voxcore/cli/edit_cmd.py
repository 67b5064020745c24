"""``voxcore edit RUN_DIR --image in.png --audio a.wav [...] --strength 0.6 --out DIR``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from voxcore.cli.options import add_device_option


def add_parser(commands: Any) -> None:
    """Add the ``edit`` subcommand."""
    parser = commands.add_parser(
        "edit", help="edit an image with speech (img2img under each utterance)",
        description="Redraw one image under each given utterance: the image is noised to "
                    "--strength (0 keeps it, 1 redraws it from scratch) and denoised with the "
                    "speech's condition, through the generator's img2img path (the stock "
                    "diffusers img2img pipelines for sd15/sdxl). Writes IMAGE-AUDIO.png per "
                    "utterance. Text-baseline runs take --text instead of --audio.")
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path,
                        help="a 'voxcore train' run or a 'voxcore export' folder")
    parser.add_argument("--image", required=True, type=Path, help="the image to edit")
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--audio", nargs="+", type=Path, metavar="FILE", help="audio files")
    inputs.add_argument("--text", nargs="+", metavar="TEXT", help="transcripts (text runs)")
    parser.add_argument("--strength", type=float, default=0.6,
                        help="how much to change the image, in (0, 1] (default 0.6)")
    parser.add_argument("--out", required=True, type=Path, help="folder for the PNG files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="sampling steps at strength 1 (default: the "
                                                  "recipe's); strength x steps are run")
    parser.add_argument("--guidance", type=float, help="classifier-free guidance scale")
    parser.add_argument("--scheduler", help="sampler, e.g. ddim or dpm-solver++")
    parser.add_argument("--no-ema", action="store_true", help="use raw weights, not the EMA")
    add_device_option(parser, launched=False)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the inputs, load the run, write one edited PNG per utterance."""
    from voxcore.audio import load_audio
    from voxcore.errors import UserError
    from voxcore.images import load_image, save_image
    from voxcore.inference import edit_images, settings_with
    from voxcore.io import unique_names
    from voxcore.processes import resolve_device
    from voxcore.runs import load

    if not 0.0 < args.strength <= 1.0:
        raise UserError(f"--strength must be in (0, 1], got {args.strength}")
    waveforms = [load_audio(path) for path in args.audio] if args.audio else None
    device = resolve_device(args.device)
    loaded = load(args.run_dir, use_ema=not args.no_ema, device=str(device))
    resolution = loaded.model.generator_part.resolution
    image = load_image(args.image, resolution)
    settings = settings_with(loaded.resolved.recipe.generate, args.steps, args.guidance,
                             args.scheduler)
    count = len(args.audio or args.text)
    images = image.unsqueeze(0).expand(count, -1, -1, -1)
    edited = edit_images(loaded.model, settings, args.seed, images, args.strength,
                         waveforms=waveforms, texts=args.text)
    stems = ([path.stem for path in args.audio] if args.audio
             else [f"text-{index:03d}" for index in range(count)])
    for name, picture in zip(unique_names(stems), edited, strict=True):
        path = args.out / f"{args.image.stem}-{name}.png"
        save_image(picture, path)
        print(path)
    return 0
