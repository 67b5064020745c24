"""The quickstart's two trainings one after the other (both cores each) vs side by side (one
core each), measured in one run.

Run: ``uv run python benchmarks/quickstart_parallel.py [--steps 100] [--rounds 2]``. It builds
the quickstart's VoxShapes (1500 samples) and prepares the speech recipe (word recogniser and
judge) once, untimed, then in each round trains fresh runs of ``recipes/quickstart/speech.yaml``
and ``text.yaml`` for ``--steps`` steps through the CLI:

- **after each other**: ``voxcore train speech`` then ``voxcore train text``, torch free to use
  every core;
- **side by side**: both started at once, each with ``OMP_NUM_THREADS=cores/2``.

The two ways alternate round after round so that machine noise hits them alike; medians of
the wall times and their ratio are printed, with each training's own seconds per step (from
its ``logs/loss.csv``).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).parents[1]
VOXCORE = [sys.executable, "-m", "voxcore.cli"]
MODELS = ("speech", "text")


def train_command(model: str, tmp: Path, run: Path, steps: int) -> list[str]:
    return [*VOXCORE, "train", str(REPO / "recipes" / "quickstart" / f"{model}.yaml"),
            f"data.train.0.config.root={tmp / 'voxshapes'}", f"data.cache_dir={tmp / 'cache'}",
            f"train.max_steps={steps}", f"train.checkpoint_every={steps}", "--run-dir", str(run),
            "--no-progress"]


def seconds_per_step(run: Path) -> float:
    """Mean seconds a step from a run's loss log (its first ten steps left out)."""
    with (run / "logs" / "loss.csv").open() as handle:
        rows = [(int(r["step"]), float(r["seconds"])) for r in csv.DictReader(handle)]
    first, last = rows[min(9, len(rows) - 2)], rows[-1]
    return (last[1] - first[1]) / (last[0] - first[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        subprocess.run([*VOXCORE, "data", "voxshapes", "--out", str(tmp / "voxshapes"),
                        "--size", "1500"], check=True, capture_output=True)
        # Untimed: the recogniser, the judge and both runs' cached features.
        for model in MODELS:
            subprocess.run(train_command(model, tmp, tmp / f"warm-{model}", 2), check=True,
                           capture_output=True)
        walls: dict[str, list[float]] = {"after each other": [], "side by side": []}
        steps: dict[str, list[float]] = {}
        for round_number in range(args.rounds):
            for way in walls:
                runs = {m: tmp / f"{way}-{round_number}-{m}".replace(" ", "-") for m in MODELS}
                threads = max(1, cores // 2) if way == "side by side" else cores
                env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
                began = time.perf_counter()
                if way == "side by side":
                    started = [subprocess.Popen(train_command(m, tmp, runs[m], args.steps),
                                                env=env, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL) for m in MODELS]
                    if any(p.wait() for p in started):
                        raise SystemExit("a training failed")
                else:
                    for model in MODELS:
                        subprocess.run(train_command(model, tmp, runs[model], args.steps),
                                       env=env, check=True, capture_output=True)
                walls[way].append(time.perf_counter() - began)
                for model in MODELS:
                    steps.setdefault(f"{way}: {model}", []).append(seconds_per_step(runs[model]))
                    shutil.rmtree(runs[model])
    print(f"{args.steps} steps of each quickstart model, {cores} cores, medians of "
          f"{args.rounds} rounds")
    for way, found in walls.items():
        print(f"  {way:18s} {statistics.median(found):7.1f} s wall")
    ratio = statistics.median(walls["after each other"]) / statistics.median(walls["side by side"])
    print(f"  side by side is {ratio:.2f}x as fast")
    for name, found in steps.items():
        print(f"  {name:26s} {statistics.median(found):.3f} s a step")


if __name__ == "__main__":
    main()
