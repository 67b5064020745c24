"""From ``voxcore new plugin KIND NAME`` to a trained 5-step run, timed step by step.

Run: ``uv run python benchmarks/plugin_template.py [--kind encoder]``. It renders the template
into a temporary folder, installs it (pip, no downloads), runs its tests, checks its example
recipe and trains it for 5 steps on a small VoxShapes build, each in a fresh process as a user
would type it, and prints the seconds of each step and the total (the VoxShapes build is not
counted: it is the data, not the plugin).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", default="encoder",
                        choices=["encoder", "bottleneck", "generator"])
    kind = parser.parse_args().kind
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        data = tmp / "voxshapes"
        subprocess.run([sys.executable, "-m", "voxcore.cli", "data", "voxshapes", "--out",
                        str(data), "--size", "60"], check=True, capture_output=True)
        folder, site = tmp / "plugin", tmp / "site"
        env = {**os.environ, "PYTHONPATH": str(site)}
        steps = {
            "voxcore new plugin": [sys.executable, "-m", "voxcore.cli", "new", "plugin", kind,
                                   f"acme-{kind}", "--out", str(folder)],
            "pip install": [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                            "--no-build-isolation", "--no-index", "--target", str(site),
                            str(folder)],
            "pytest (its conformance suite)": [sys.executable, "-m", "pytest", "-q",
                                               "-p", "no:cacheprovider", str(folder / "tests")],
            "voxcore recipe check": [sys.executable, "-m", "voxcore.cli", "recipe", "check",
                                     str(folder / "recipe.yaml"),
                                     f"data.train.0.config.root={data}"],
            "voxcore train (5 steps)": [sys.executable, "-m", "voxcore.cli", "train",
                                        str(folder / "recipe.yaml"),
                                        f"data.train.0.config.root={data}",
                                        f"data.cache_dir={tmp / 'cache'}", "train.max_steps=5",
                                        "train.checkpoint_every=5", "--run-dir",
                                        str(tmp / "run"), "--no-progress"],
        }
        total = 0.0
        print(f"{'step':34s} {'seconds':>8s}   ({kind} template)")
        for name, command in steps.items():
            began = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env, cwd=folder
                           if name.startswith("pytest") else tmp)
            seconds = time.perf_counter() - began
            total += seconds
            print(f"{name:34s} {seconds:8.1f}")
        print(f"{'total':34s} {total:8.1f}")


if __name__ == "__main__":
    main()
