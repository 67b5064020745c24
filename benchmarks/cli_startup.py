"""Wall time of ``voxcore --help`` and ``voxcore plugins`` against a bare ``python -c pass``.

Run: ``uv run python benchmarks/cli_startup.py [--runs N]``. Every command runs in a fresh
interpreter, interleaved so that machine noise hits them alike; medians are printed with the
ratio to the bare interpreter start. The target for ``voxcore plugins`` is under 0.5 s.

Commands run as users run them, with Python's bytecode cache: ``PYTHONDONTWRITEBYTECODE`` is
removed from their environment (where it is set, as in some sandboxes, every start
recompiles every module, which roughly doubles these times) and one untimed round warms the
cache first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "voxcore --help": [sys.executable, "-m", "voxcore.cli", "--help"],
    "voxcore plugins": [sys.executable, "-m", "voxcore.cli", "plugins"],
    "voxcore plugins --json": [sys.executable, "-m", "voxcore.cli", "plugins", "--json"],
    "voxcore recipe check": [sys.executable, "-m", "voxcore.cli", "recipe", "check",
                             "recipes/speech-sib-tiny.yaml"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for round_number in range(runs + 1):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env)
            if round_number:  # round 0 only fills the bytecode cache
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["python -c pass"])
    print(f"{'command':28s} {'median s':>9s} {'min s':>7s} {'x bare python':>14s}  ({runs} runs)")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:28s} {median:9.3f} {min(samples):7.3f} {median / base:14.1f}")
    plugins = statistics.median(times["voxcore plugins"])
    verdict = "meets" if plugins < 0.5 else "misses"
    print(f"voxcore plugins: {plugins:.3f} s median, {verdict} the 0.5 s target")


if __name__ == "__main__":
    main()
