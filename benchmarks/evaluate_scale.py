"""Does ``voxcore evaluate``'s memory stay flat as the number of prompts grows? And its speed?

Usage: ``uv run python benchmarks/evaluate_scale.py [--counts 32 128 512] [--image-size 64]``.

Trains a tiny toy model once (the tests' toy dataset + brightness metric, mel -> SIB ->
tiny-unet), writes a toy dataset of ``max(--counts)`` prompts with ``--image-size`` px
reference images, then evaluates ``N`` prompts for each count, each in a fresh process so that
its peak resident memory (``ru_maxrss``) is its own, and prints side by side: prompts,
seconds, prompts/s, peak RSS, and peak RSS relative to the smallest count. Memory that grew
with N (images, features or references kept for the whole run) shows as a ratio well above 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

CHILD = """
import json, resource, sys, time
from pathlib import Path
from voxcore.evaluation import evaluate
run, count, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
began = time.perf_counter()
report = evaluate(run, split="train", num_samples=count, batch_size=16, out_dir=out)
print(json.dumps({"seconds": time.perf_counter() - began, "samples": report["samples"],
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_data(folder: Path, count: int, size: int) -> Path:
    """``count`` tone/colour pairs (train split) with ``size`` px images."""
    import numpy as np
    import soundfile
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rows = []
    for index in range(count):
        seconds = np.arange(int(16000 * 0.5)) / 16000
        tone = 0.3 * np.sin(2 * np.pi * (150 + 10 * (index % 50)) * seconds)
        soundfile.write(folder / f"a{index}.wav", tone, 16000)
        pixels = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"i{index}.png")
        rows.append({"id": f"s{index}", "audio": f"a{index}.wav", "image": f"i{index}.png",
                     "transcript": "a tone"})
    for split in ("train", "test"):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder / "train.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--image-size", type=int, default=64)
    args = parser.parse_args()
    from support import toy_recipe, toy_site

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        site = toy_site(tmp)
        manifest = write_data(tmp / "data", max(args.counts), args.image_size)
        recipe = toy_recipe(tmp, manifest, tmp / "cache", max_steps=1, checkpoint_every=1,
                            validate_every=0)
        env = {**os.environ, "PYTHONPATH": str(site)}
        subprocess.run([sys.executable, "-m", "voxcore.cli", "train", str(recipe), "--run-dir",
                        str(tmp / "run"), "--no-progress"], check=True, env=env,
                       capture_output=True)
        print(f"{'prompts':>8} {'seconds':>8} {'prompts/s':>10} {'peak RSS MiB':>13} "
              f"{'RSS ratio':>10}")
        base = None
        for count in sorted(args.counts):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(tmp / "run"), str(count),
                 str(tmp / f"eval-{count}")], check=True, env=env, capture_output=True,
                text=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            base = base or row["peak_mib"]
            print(f"{row['samples']:>8} {row['seconds']:>8.1f} "
                  f"{row['samples'] / row['seconds']:>10.1f} {row['peak_mib']:>13.0f} "
                  f"{row['peak_mib'] / base:>10.2f}")


if __name__ == "__main__":
    main()
