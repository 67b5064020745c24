"""``voxcore evaluate`` in one process vs split among several (``accelerate launch``), side by
side.

Run: ``uv run python benchmarks/evaluate_processes.py [--prompts 128] [--processes 2]
[--rounds 2]``. It trains a 2-step run of ``recipes/quickstart/speech.yaml`` on a small
VoxShapes build (made first, not timed; the judge metric is prepared with it), then evaluates
the same first ``--prompts`` training prompts with the recipe's sampling, alternately in one process
(all cores) and in ``--processes`` processes (the cores shared out, ``OMP_NUM_THREADS`` each),
each into a fresh folder, round after round. It prints the median wall time of each, the
speed-up, and the largest difference between their metrics (they must agree to float
rounding). On this 2-core machine the processes only share two cores; on a machine with one
GPU per process the split is what scales.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cli_startup import VOXCORE, quickstart_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
              "--num_processes", str(args.processes), "--num_machines", "1",
              "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "voxcore.cli"]
    threads = str(max(1, cores // args.processes))
    ways = {"1 process": (VOXCORE, {}),
            f"{args.processes} processes": (launch, {"OMP_NUM_THREADS": threads})}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        run, _ = quickstart_run(tmp, size=max(60, args.prompts * 2))
        seconds: dict[str, list[float]] = {way: [] for way in ways}
        metrics: dict[str, dict[str, float]] = {}
        for round_number in range(args.rounds):
            for way, (command, env) in ways.items():
                out = tmp / f"eval-{round_number}-{way.replace(' ', '-')}"
                started = time.perf_counter()
                arguments = ["evaluate", str(run), "--split", "train", "--limit",
                             str(args.prompts), "--no-progress", "--out", str(out)]
                done = subprocess.run([*command, *arguments], capture_output=True, text=True,
                                      env={**os.environ, **env})
                if done.returncode:
                    raise SystemExit(f"{way} failed:\n{done.stderr[-3000:]}")
                seconds[way].append(time.perf_counter() - started)
                report = json.loads((out / "metrics.json").read_text())
                metrics[way] = report["metrics"]["judge"]
                prompts = report["samples"]
    one, many = (statistics.median(seconds[way]) for way in ways)
    difference = max(abs(metrics["1 process"][key] - metrics[list(ways)[1]][key])
                     for key in metrics["1 process"])
    print(f"{prompts} prompts, quickstart speech model (20 steps), {cores} cores; medians of "
          f"{args.rounds} rounds (start-up and model load included)")
    print(f"{'evaluate':14s} {'seconds':>8s} {'prompts/s':>10s}")
    for way in ways:
        median = statistics.median(seconds[way])
        print(f"{way:14s} {median:8.1f} {prompts / median:10.2f}")
    print(f"speed-up {one / many:.2f}; largest metric difference {difference:.2e} "
          f"({', '.join(sorted(metrics['1 process']))})")


if __name__ == "__main__":
    main()
