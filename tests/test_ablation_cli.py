"""``voxcore ablate`` end to end on the toy recipe: results, plots, grid, kill and resume."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import toy_recipe, toy_site, write_toy_data

REPO = Path(__file__).parent.parent


@pytest.fixture
def toy(tmp_path: Path) -> dict[str, Path]:
    site = toy_site(tmp_path)
    manifest = write_toy_data(tmp_path / "data")
    return {"tmp": tmp_path, "site": site, "manifest": manifest}


def ablate(toy: dict[str, Path], *arguments: str, timeout: float = 900
           ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(toy["site"]), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "voxcore.cli", "ablate", *arguments]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=timeout)


def write_ablation(toy: dict[str, Path], text: str, **train: object) -> Path:
    folder = toy["tmp"] / "recipe"
    toy_recipe(folder, toy["manifest"], toy["tmp"] / "cache", **train)
    path = folder / "ablation.yaml"
    path.write_text(text)
    return path


@pytest.mark.slow
def test_a_two_variant_grid_writes_results_plots_and_a_grid(toy: dict[str, Path]) -> None:
    path = write_ablation(toy, """
name: toy-lr
recipe: toy.yaml
overrides: {train.validate_every: 0}
grid: {train.lr: [0.001, 0.01]}
directions: {brightness: lower}
grid_samples: 3
""")
    out = toy["tmp"] / "out"
    result = ablate(toy, str(path), "--out", str(out), "--seeds", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "4 run(s) trained, 0 finished before, 0 failed" in result.stdout

    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["variant"] for r in rows] == ["lr=0.001", "lr=0.01"]
    assert rows[0]["train.lr"] == "0.001" and rows[0]["seeds"] == "0 1"
    for row in rows:
        assert float(row["brightness"]) > 0 and row["brightness_std"] != ""
        assert int(row["trainable_params"]) > 0 and int(row["total_params"]) >= int(
            row["trainable_params"])
        assert float(row["train_seconds"]) > 0 and float(row["samples_per_second"]) > 0
    results = json.loads((out / "results.json").read_text())
    assert results["axis"] == "train.lr"
    assert results["directions"]["brightness"] == "lower"
    assert results["directions"]["samples_per_second"] == "higher"
    first = results["variants"][0]
    assert first["seeds"] == [0, 1] and len(first["per_seed"]) == 2
    values = [row["brightness"] for row in first["per_seed"]]
    assert first["mean"]["brightness"] == pytest.approx(sum(values) / 2)
    best = results["best"]["brightness"]
    lowest = min(results["variants"], key=lambda v: v["mean"]["brightness"])["name"]
    assert best == [lowest]

    report = (out / "report.md").read_text()
    assert "| variant | lr | brightness ↓ | trainable params |" in report
    assert " ± " in report and "**" in report
    assert "![grid](grid.png)" in report
    for plot in ("brightness.png", "samples_per_second.png", "brightness-vs-train.lr.png"):
        assert (out / "plots" / plot).stat().st_size > 1000, plot
        assert f"(plots/{plot})" in report
    from PIL import Image

    with Image.open(out / "grid.png") as grid:  # real row + 2 variants, 3 utterances
        assert grid.height > 3 * 64
    # both variants used the same feature cache: the second one computed nothing
    logs = sorted((out / "logs").glob("*.log"))
    assert len(logs) == 4
    assert "0 reused from the cache" not in (out / "logs" / "lr=0.01-seed-1.log").read_text()


@pytest.mark.slow
def test_a_killed_ablation_resumes_and_skips_finished_variants(toy: dict[str, Path]) -> None:
    path = write_ablation(toy, """
name: toy-kill
recipe: toy.yaml
overrides: {train.validate_every: 0}
variants:
  first: {}
  second: {overrides: {train.max_steps: 400, train.lr: 0.002}}
""", max_steps=4, checkpoint_every=2)
    out = toy["tmp"] / "out"
    env = {**os.environ, "PYTHONPATH": str(toy["site"]), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "voxcore.cli", "ablate", str(path), "--out", str(out)]
    process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second = out / "runs" / "second" / "seed-0"
    try:
        deadline = time.monotonic() + 600
        while not (second / "checkpoints" / "step-000002").is_dir():
            assert process.poll() is None, "the ablation ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoint of the second variant"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the ablation and its 'voxcore train' child
        process.wait()
    first = out / "runs" / "first" / "seed-0"
    assert (first / "eval" / "eval" / "metrics.json").is_file()
    assert not (second / "eval").exists()
    finished = {p: p.stat().st_mtime_ns for p in first.rglob("*") if p.is_file()}
    killed_at = max(int(p.name.split("-")[1]) for p in (second / "checkpoints").glob("step-*"))
    assert killed_at < 400

    # make the rest short: only the checkpoint cadence and max_steps may change on resume
    path.write_text(path.read_text().replace("max_steps: 400", f"max_steps: {killed_at + 2}"))
    result = ablate(toy, str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "1 run(s) trained, 1 finished before, 0 failed" in result.stdout
    assert "[1/2] first (seed 0): finished before" in result.stderr
    assert f"[2/2] second (seed 0): training, resuming from step {killed_at}" in result.stderr
    assert {p: p.stat().st_mtime_ns for p in first.rglob("*") if p.is_file()} == finished
    train_log = (second / "logs" / "train.log").read_text()
    assert f"resumed from {second / 'checkpoints' / f'step-{killed_at:06d}'}" in train_log
    assert (second / "eval" / "eval" / "metrics.json").is_file()
    first_log = (out / "logs" / "first-seed-0.log").read_text()
    assert first_log.count("$ voxcore train") == 1  # never trained again
    steps = [int(r["step"]) for r in csv.DictReader((second / "logs" / "loss.csv").open())]
    assert steps == list(range(1, killed_at + 3))
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["variant"] for r in rows] == ["first", "second"]
