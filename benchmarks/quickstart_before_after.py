"""``voxcore quickstart`` of two checkouts, timed round after round on the same machine.

Run: ``uv run python benchmarks/quickstart_before_after.py --before DIR [--rounds 1]``, where
``DIR`` is another checkout of voxcore set up as the README says (its own ``.venv``), for
example the commit before a change::

    git clone . /tmp/before && git -C /tmp/before checkout COMMIT
    (cd /tmp/before && python3 -m uv sync --locked)

Each round runs the whole quickstart of both checkouts, one after the other, into fresh output
folders (dataset, preparations, both trainings, both evaluations, report), the before first
in odd rounds and the current one first in even rounds, so that a slow patch of the machine
hits both alike. Prints each run's wall seconds and figures, the medians and their ratio.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).parents[1]


def run_quickstart(checkout: Path, python: Path, out: Path, seed: int) -> tuple[float, str]:
    """Wall seconds of one quickstart of ``checkout`` and the figures it printed."""
    command = [str(python), "-m", "voxcore.cli", "quickstart", "--out", str(out), "--seed",
               str(seed), "--no-progress"]
    began = time.perf_counter()
    result = subprocess.run(command, cwd=checkout, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        sys.exit(f"the quickstart of {checkout} failed:\n{result.stderr[-3000:]}")
    figures = [line for line in result.stdout.splitlines()
               if re.match(r"(speech|text): ", line)]
    return seconds, "; ".join(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True,
                        help="another voxcore checkout with its own .venv")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    checkouts = {"before": args.before.resolve(), "now": REPO}
    pythons = {name: path / ".venv" / "bin" / "python" for name, path in checkouts.items()}
    for name, python in pythons.items():
        if not python.is_file():
            sys.exit(f"{checkouts[name]} has no .venv: set it up with 'python3 -m uv sync "
                     "--locked' there first")
    commits = {name: subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
                                    capture_output=True, text=True).stdout.strip()
               for name, path in checkouts.items()}
    seconds: dict[str, list[float]] = {name: [] for name in checkouts}
    with tempfile.TemporaryDirectory(prefix="voxcore-qs-") as tmp:
        for round_number in range(args.rounds):
            order = list(checkouts) if round_number % 2 == 0 else list(reversed(checkouts))
            for name in order:
                out = Path(tmp) / f"{name}-{round_number}"
                wall, figures = run_quickstart(checkouts[name], pythons[name], out, args.seed)
                seconds[name].append(wall)
                print(f"round {round_number + 1} {name} ({commits[name]}): {wall:.0f} s; "
                      f"{figures}", flush=True)
    before, now = (statistics.median(seconds[name]) for name in ("before", "now"))
    print(f"\nquickstart wall, median of {args.rounds} round(s): before ({commits['before']}) "
          f"{before:.0f} s, now ({commits['now']}) {now:.0f} s; now takes "
          f"{now / before:.2f}x the time ({before / now:.2f}x faster)")


if __name__ == "__main__":
    main()
