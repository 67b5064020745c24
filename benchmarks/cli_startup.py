"""Start-up time of voxcore's commands, with and without compiled bytecode, side by side.

Run: ``uv run python benchmarks/cli_startup.py [--runs N]``. Every command runs in a fresh
interpreter, all of them interleaved round after round so that machine noise hits them alike,
in two conditions:

- **compiled**: Python finds compiled bytecode for everything (the set-up compiles installed
  packages, ``compile-bytecode`` in ``pyproject.toml``; one untimed round compiles voxcore's
  own modules);
- **no bytecode**: what a process meets where no bytecode was compiled and Python may not write
  it (``PYTHONDONTWRITEBYTECODE=1``, as in CI and some sandboxes, with ``PYTHONPYCACHEPREFIX``
  pointing at an empty folder so that the compiled files are not found): every start compiles
  every module it imports.

The commands: a bare ``python -c pass``, ``import torch``, ``voxcore --help``, ``voxcore
plugins``, ``recipe check`` and ``voxcore generate`` of one quickstart image (from a run of
``recipes/quickstart/speech.yaml`` trained for 2 steps on a small VoxShapes build, made first and
not timed). Medians (and the ratio of the two conditions) are printed; the targets are
``voxcore plugins`` under 0.5 s and one-image ``generate`` under 4 s, both compiled.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).parents[1]
VOXCORE = [sys.executable, "-m", "voxcore.cli"]


def quickstart_run(tmp: Path, size: int = 60) -> tuple[Path, Path]:
    """A 2-step run of the quickstart's speech recipe (on a VoxShapes build of ``size``
    samples) and one of its utterances."""
    data = tmp / "voxshapes"
    subprocess.run([*VOXCORE, "data", "voxshapes", "--out", str(data), "--size", str(size)],
                   check=True, capture_output=True)
    run = tmp / "run"
    subprocess.run([*VOXCORE, "train", str(REPO / "recipes/quickstart/speech.yaml"),
                    f"data.train.0.config.root={data}", f"data.cache_dir={tmp / 'cache'}",
                    "train.max_steps=2", "train.checkpoint_every=2", "train.batch_size=4",
                    "--run-dir", str(run), "--no-progress"], check=True, capture_output=True)
    return run, sorted((data / "audio").glob("*.wav"))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        run, audio = quickstart_run(tmp)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import torch'": [sys.executable, "-c", "import torch"],
            "voxcore --help": [*VOXCORE, "--help"],
            "voxcore plugins": [*VOXCORE, "plugins"],
            "voxcore recipe check": [*VOXCORE, "recipe", "check",
                                     str(REPO / "recipes/speech-sib-tiny.yaml")],
            "voxcore generate (1 image)": [*VOXCORE, "generate", str(run), "--audio",
                                           str(audio), "--out", str(tmp / "images")],
        }
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        conditions = {
            "compiled": base,
            "no bytecode": {**base, "PYTHONDONTWRITEBYTECODE": "1",
                            "PYTHONPYCACHEPREFIX": str(tmp / "empty-pycache")},
        }
        times: dict[tuple[str, str], list[float]] = {
            (c, n): [] for c in conditions for n in commands}
        for round_number in range(runs + 1):
            for name, command in commands.items():
                for condition, env in conditions.items():
                    start = time.perf_counter()
                    subprocess.run(command, check=True, capture_output=True, env=env, cwd=REPO)
                    if round_number:  # round 0 only compiles voxcore's own modules
                        times[condition, name].append(time.perf_counter() - start)
    median = {key: statistics.median(samples) for key, samples in times.items()}
    print(f"{'command':28s} {'compiled s':>10s} {'no bytecode s':>14s} {'ratio':>6s}"
          f"  (medians of {runs} runs)")
    for name in commands:
        fast, slow = median["compiled", name], median["no bytecode", name]
        print(f"{name:28s} {fast:10.2f} {slow:14.2f} {slow / fast:6.1f}")
    for name, target in (("voxcore plugins", 0.5), ("voxcore generate (1 image)", 4.0)):
        seconds = median["compiled", name]
        verdict = "meets" if seconds < target else "misses"
        print(f"{name}: {seconds:.2f} s compiled, {verdict} the {target} s target")


if __name__ == "__main__":
    main()
