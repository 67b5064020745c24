"""Images per second of ``voxcore generate`` on this machine by batch size, side by side.

Run: ``uv run python benchmarks/generate_throughput.py [--files 64] [--rounds 3]``. It trains
a 2-step run of ``recipes/quickstart/speech.yaml`` on a small VoxShapes build (made first, not
timed: sampling costs the same whatever the weights), loads it once and samples the same
``--files`` utterances with the recipe's 20 DPM-Solver++ steps and guidance at batch sizes 1,
8, 16 and 64, the sizes interleaved round after round so machine noise hits them alike. It
prints the median images per second of each, the speed-up over batch size 1, and the largest
pixel difference (8-bit levels) from batch size 1: each input's noise comes from its own seed,
so batching must not change an image beyond float rounding. A last line times the whole
command, ``voxcore generate RUN --audio FILE x N --batch-size 64``, as a user runs it
(start-up and model load included), with the figure it prints.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import torch
from cli_startup import VOXCORE, quickstart_run

BATCH_SIZES = (1, 8, 16, 64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from voxcore.audio import load_audio
    from voxcore.inference import generate_images, settings_with
    from voxcore.runs import load

    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        run, first = quickstart_run(tmp, size=max(args.files, 60))
        files = sorted(first.parent.glob("*.wav"))[:args.files]
        waveforms = [load_audio(path) for path in files]
        loaded = load(run)
        base = loaded.resolved.recipe.generate
        seconds: dict[int, list[float]] = {size: [] for size in BATCH_SIZES}
        images: dict[int, torch.Tensor] = {}
        for _ in range(args.rounds):
            for size in BATCH_SIZES:
                settings = settings_with(base, batch_size=size)
                started = time.perf_counter()
                images[size] = generate_images(loaded.model, settings, 0, waveforms=waveforms)
                seconds[size].append(time.perf_counter() - started)
        command = [*VOXCORE, "generate", str(run), "--audio", *map(str, files),
                   "--out", str(tmp / "images"), "--batch-size", "64"]
        started = time.perf_counter()
        made = subprocess.run(command, check=True, capture_output=True, text=True)
        whole = time.perf_counter() - started

    print(f"{len(files)} utterances, {base.steps} {base.scheduler} steps, guidance "
          f"{base.guidance_scale}, {torch.get_num_threads()} threads; medians of "
          f"{args.rounds} rounds")
    print(f"{'batch size':>10s} {'images/s':>9s} {'vs 1':>6s} {'max diff (levels)':>18s}")
    reference = (images[1] * 255).round()
    one = statistics.median(seconds[1])
    for size in BATCH_SIZES:
        median = statistics.median(seconds[size])
        levels = int(((images[size] * 255).round() - reference).abs().max())
        print(f"{size:10d} {len(files) / median:9.2f} {one / median:6.2f} {levels:18d}")
    printed = made.stderr.strip().splitlines()[-1]
    print(f"whole command (start-up, load, {len(files)} images, PNGs): {whole:.1f} s; "
          f"it printed: {printed}")


if __name__ == "__main__":
    main()
