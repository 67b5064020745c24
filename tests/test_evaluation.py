"""``voxcore evaluate`` at scale: random prompt draws, resuming after a kill, flat memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import toy_recipe, toy_site, write_toy_data

import voxcore.evaluation
from voxcore.cli import main
from voxcore.errors import UserError
from voxcore.evaluation import evaluate, random_prompts
from voxcore.interfaces import Sample


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A 2-step toy run, trained in this process with the toy plugin installed."""
    monkeypatch.syspath_prepend(str(toy_site(tmp_path)))
    manifest = write_toy_data(tmp_path / "data")
    recipe = toy_recipe(tmp_path, manifest, tmp_path / "cache", max_steps=2, checkpoint_every=2,
                        validate_every=0)
    run_dir = tmp_path / "run"
    assert main(["train", str(recipe), "--run-dir", str(run_dir), "--no-progress"]) == 0
    yield run_dir


class CountingGenerator:
    """Wraps generate_for: counts images made, raises on the call numbered ``fail_on``."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.calls, self.images, self.fail_on = 0, 0, fail_on
        self.real = voxcore.evaluation.generate_for

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.fail_on:
            raise KeyboardInterrupt
        images = self.real(*args, **kwargs)
        self.images += images.shape[0]
        return images


def counting(monkeypatch: pytest.MonkeyPatch, fail_on: int | None = None) -> CountingGenerator:
    counter = CountingGenerator(fail_on)
    monkeypatch.setattr(voxcore.evaluation, "generate_for", counter)
    return counter


def test_interrupted_evaluation_resumes_without_regenerating(
    run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = counting(monkeypatch, fail_on=3)
    with pytest.raises(KeyboardInterrupt):
        evaluate(run, split="train", batch_size=2)
    folder = run / "eval" / "train"
    assert json.loads((folder / "state.json").read_text()) == {"done": 4}
    assert sorted(p.name for p in (folder / "images").iterdir()) == [
        "000000.png", "000001.png", "000002.png", "000003.png"]

    counter = counting(monkeypatch)
    resumed = evaluate(run, split="train", batch_size=2)
    assert (counter.images, resumed["resumed_from"], resumed["generated"]) == (8, 4, 8)
    assert len(list((folder / "images").iterdir())) == 12

    counter = counting(monkeypatch)
    fresh = evaluate(run, split="train", batch_size=2, out_dir=run / "fresh")
    assert counter.images == 12
    assert resumed["metrics"] == fresh["metrics"]
    report = (folder / "report.md").read_text()
    assert "resumed after 4 prompts" in report and "brightness.brightness" in report


def test_images_written_before_a_kill_are_read_back_not_regenerated(
    run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toy_data  # type: ignore[import-not-found]  # the toy plugin's module (its metric)

    scored = toy_data.Brightness.update
    updates = 0

    def update_then_die(self: Any, batch: Any) -> None:
        nonlocal updates
        updates += 1
        if updates == 2:
            raise KeyboardInterrupt  # this batch's images are on disk, its scores are not
        scored(self, batch)

    monkeypatch.setattr(toy_data.Brightness, "update", update_then_die)
    with pytest.raises(KeyboardInterrupt):
        evaluate(run, split="test", batch_size=2)
    assert len(list((run / "eval" / "test" / "images").iterdir())) == 4
    monkeypatch.setattr(toy_data.Brightness, "update", scored)
    counter = counting(monkeypatch)
    report = evaluate(run, split="test", batch_size=2)
    assert counter.images == 0 and report["generated"] == 0 and report["samples"] == 4
    assert report["resumed_from"] == 2


def test_other_settings_are_refused_until_restart(run: Path, monkeypatch: pytest.MonkeyPatch,
                                                  ) -> None:
    evaluate(run, split="test", batch_size=2)
    with pytest.raises(UserError, match=r"other settings \(generate differ\).*--restart"):
        evaluate(run, split="test", batch_size=4)
    counter = counting(monkeypatch)
    evaluate(run, split="test", batch_size=4, restart=True)
    assert counter.images == 4


def test_more_random_prompts_continue_the_earlier_draw(
    run: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    counter = counting(monkeypatch)
    assert main(["evaluate", str(run), "--data", "toy", "--split", "train", "--num-samples", "4",
                 "--batch-size", "2"]) == 0
    assert counter.images == 4
    assert main(["evaluate", str(run), "--data", "toy", "--split", "train", "--num-samples", "8",
                 "--batch-size", "2", "--no-progress"]) == 0
    assert counter.images == 8
    folder = run / "eval" / "toy-train"
    report = json.loads((folder / "metrics.json").read_text())
    assert report["samples"] == 8 and report["resumed_from"] == 4
    assert len(set(json.loads((folder / "plan.json").read_text())["prompt_ids"])) == 8
    assert f"written to {folder}/metrics.json" in capsys.readouterr().out
    assert (folder / "samples.png").is_file()


def test_unknown_dataset_and_bad_counts_are_user_errors(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", str(run), "--data", "spokencoco"]) == 2
    assert "no dataset 'spokencoco'" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--num-samples", "0"]) == 2
    assert "--num-samples must be at least 1" in capsys.readouterr().err


def test_random_prompts_are_seeded_prefixes() -> None:
    samples = [Sample(id=str(i), audio=None, image=None) for i in range(50)]
    ten = random_prompts(samples, 10, seed=3)
    assert [s.id for s in ten] == [s.id for s in random_prompts(samples, 20, seed=3)[:10]]
    assert [s.id for s in ten] != [s.id for s in random_prompts(samples, 10, seed=4)]
    assert random_prompts(samples, None, seed=3) == samples
    assert random_prompts(samples, 500, seed=3) == samples


@pytest.mark.slow
def test_sigkilled_evaluation_continues_where_it_stopped(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    site = toy_site(tmp_path)
    manifest = write_toy_data(tmp_path / "data", count=40)
    recipe = toy_recipe(tmp_path, manifest, tmp_path / "cache", max_steps=1, checkpoint_every=1,
                        validate_every=0)
    env = {**os.environ, "PYTHONPATH": str(site)}
    command = [sys.executable, "-m", "voxcore.cli"]
    subprocess.run([*command, "train", str(recipe), "--run-dir", str(tmp_path / "run"),
                    "--no-progress"], env=env, check=True, capture_output=True, timeout=600)
    evaluate_command = [*command, "evaluate", str(tmp_path / "run"), "--split", "train",
                        "--batch-size", "1", "--no-progress"]
    state = tmp_path / "run" / "eval" / "train" / "state.json"
    process = subprocess.Popen(evaluate_command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if state.is_file() and json.loads(state.read_text())["done"] >= 3:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    done = json.loads(state.read_text())["done"]
    assert 3 <= done < 40, "the evaluation should have been killed midway"
    finished = subprocess.run(evaluate_command, env=env, check=True, capture_output=True,
                              text=True, timeout=600)
    report = json.loads((state.parent / "metrics.json").read_text())
    assert report["samples"] == 40 and report["resumed_from"] == done
    assert report["generated"] <= 40 - done  # nothing finished before the kill was redrawn
    assert "brightness" in finished.stdout
