"""train -> generate -> evaluate through the CLI on a tiny budget, resume after SIGKILL, DDP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from support import toy_recipe, toy_site, write_toy_data

REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A plugin with a toy dataset and metric (on the subprocesses' PYTHONPATH), its data."""
    tmp = tmp_path_factory.mktemp("toy")
    site = toy_site(tmp)
    manifest = write_toy_data(tmp / "data")
    return {"site": site, "manifest": manifest, "cache": tmp / "cache", "tmp": tmp}


@pytest.fixture(scope="module")
def trained(toy: dict[str, Path]) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One 6-step training run shared by the tests that only read it."""
    recipe = toy_recipe(toy["tmp"], toy["manifest"], toy["cache"])
    run = toy["tmp"] / "run"
    return run, voxcore(toy, "train", str(recipe), "--run-dir", str(run), "--no-progress")


def voxcore(toy: dict[str, Path], *args: str, check: bool = True,
            ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(toy["site"])}
    result = subprocess.run([sys.executable, "-m", "voxcore.cli", *args], capture_output=True,
                            text=True, env=env, cwd=toy["tmp"], timeout=600)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def loss_rows(run: Path) -> list[tuple[str, str]]:
    lines = (run / "logs" / "loss.csv").read_text().splitlines()[1:]
    return [tuple(line.split(",")[:2]) for line in lines]  # type: ignore[misc]


@pytest.mark.slow
def test_train_generate_evaluate(
    toy: dict[str, Path], trained: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    run, first = trained
    recipe = toy["tmp"] / "toy.yaml"
    assert "12 computed" in first.stderr
    assert "trained 'toy' to step 6" in first.stdout
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step-000003",
                                                                        "step-000006"]
    assert {p.name for p in (run / "checkpoints" / "step-000006").iterdir()} == {
        "model.safetensors", "optimizer.safetensors", "optimizer.json", "state.json"}
    assert len(loss_rows(run)) == 6
    assert list((run / "logs" / "tensorboard").glob("events.out.tfevents.*"))
    assert (run / "samples" / "step-000006.png").is_file()
    versions = json.loads((run / "versions.json").read_text())
    assert versions["components"]["encoder"] == {"name": "mel", "distribution": "voxcore-mel",
                                                 "version": "0.2.0"}
    assert "voxcore" in versions and "torch" in versions["libraries"]
    assert "name: toy" in (run / "recipe.yaml").read_text()

    again = voxcore(toy, "train", str(recipe), "--run-dir", str(toy["tmp"] / "run2"),
                    "--no-progress", "train.max_steps=1")
    assert "12 reused from the cache, 0 computed" in again.stderr

    stereo = toy["tmp"] / "stereo.flac"
    tone = 0.2 * np.sin(np.arange(30000) / 44100 * 2 * np.pi * 300)
    soundfile.write(stereo, np.stack([tone, tone], axis=1), 44100)
    out = toy["tmp"] / "out"
    made = voxcore(toy, "generate", str(run), "--audio", str(toy["manifest"].parent / "a1.wav"),
                   str(stereo), "--out", str(out), "--steps", "2", "--scheduler", "dpm-solver++")
    assert made.stdout.split() == [str(out / "a1.png"), str(out / "stereo.png")]

    evaluated = voxcore(toy, "evaluate", str(run), "--split", "test")
    report = json.loads((run / "eval" / "test" / "metrics.json").read_text())
    assert report["samples"] == 4 and report["checkpoint_step"] == 6
    assert 0.0 <= report["metrics"]["brightness"]["brightness"] <= 1.0
    assert "brightness" in evaluated.stdout
    assert (run / "eval" / "test" / "samples.png").is_file()


def pixels(folder: Path) -> dict[str, np.ndarray]:
    from PIL import Image
    return {path.name: np.asarray(Image.open(path), dtype=np.int16)
            for path in sorted(folder.glob("*.png"))}


def five_utterances(toy: dict[str, Path]) -> list[str]:
    audio = [str(path) for path in sorted(toy["manifest"].parent.glob("a*.wav"))][:5]
    assert len(audio) == 5
    return audio


@pytest.mark.slow
def test_an_image_does_not_depend_on_the_batch_it_was_drawn_in(
    toy: dict[str, Path], trained: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    run, audio = trained[0], five_utterances(toy)
    outs = {}
    for size in ("1", "2", "5"):
        outs[size] = toy["tmp"] / f"batched-{size}"
        made = voxcore(toy, "generate", str(run), "--audio", *audio, "--out", str(outs[size]),
                       "--steps", "3", "--scheduler", "ddpm", "--batch-size", size)
        assert "5 image(s) in " in made.stderr and f"images/s, batches of {size})" in made.stderr
    one, two, five = (pixels(outs[size]) for size in ("1", "2", "5"))
    assert list(one) == list(two) == list(five) and len(one) == 5
    for name in one:  # the same pixels up to float rounding of the batched kernels
        for other in (two, five):
            assert int(np.abs(one[name] - other[name]).max()) <= 1, name
    assert len({image.tobytes() for image in one.values()}) == 5  # each input its own seed
    # Input i is drawn with seed SEED+i: the third input alone with --seed 2 is the same image.
    alone = toy["tmp"] / "alone"
    voxcore(toy, "generate", str(run), "--audio", audio[2], "--out", str(alone), "--steps", "3",
            "--scheduler", "ddpm", "--seed", "2")
    third = Path(audio[2]).stem + ".png"
    assert int(np.abs(pixels(alone)[third] - one[third]).max()) <= 1
    bad = voxcore(toy, "generate", str(run), "--audio", audio[0], "--out", str(alone),
                  "--batch-size", "0", check=False)
    assert bad.returncode == 2 and "--batch-size must be at least 1, got 0" in bad.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("name", "content", "message"), [
    ("silent.wav", "silence", "is silent"),
    ("empty.wav", b"", "is empty"),
    ("corrupt.wav", b"RIFF\x00\x00not really a wave file", "could not be read as audio"),
    ("missing.wav", None, "does not exist"),
])
def test_generate_rejects_bad_audio(
    toy: dict[str, Path], trained: tuple[Path, subprocess.CompletedProcess[str]],
    name: str, content: object, message: str,
) -> None:
    run = trained[0]
    path = toy["tmp"] / name
    if content == "silence":
        soundfile.write(path, np.zeros(8000), 16000)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    result = voxcore(toy, "generate", str(run), "--audio", str(path), "--out",
                     str(toy["tmp"] / f"out-{name}"), check=False)
    assert result.returncode == 2
    assert message in result.stderr and name in result.stderr
    assert "Traceback" not in result.stderr
    assert not (toy["tmp"] / f"out-{name}").exists()


@pytest.mark.slow
def test_edit_an_image_with_speech(
    toy: dict[str, Path], trained: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    run, data = trained[0], toy["manifest"].parent
    out = toy["tmp"] / "edited"
    made = voxcore(toy, "edit", str(run), "--image", str(data / "i0.png"), "--audio",
                   str(data / "a1.wav"), str(data / "a2.wav"), "--strength", "0.5", "--out",
                   str(out), "--steps", "4", "--device", "cpu")
    assert made.stdout.split() == [str(out / "i0-a1.png"), str(out / "i0-a2.png")]
    wrong = voxcore(toy, "edit", str(run), "--image", str(data / "i0.png"), "--audio",
                    str(data / "a1.wav"), "--out", str(out), "--device", "gpu0", check=False)
    assert wrong.returncode == 2 and "--device gpu0: not a device" in wrong.stderr
    bad = voxcore(toy, "edit", str(run), "--image", str(data / "i0.png"), "--audio",
                  str(data / "a1.wav"), "--strength", "1.5", "--out", str(out), check=False)
    assert bad.returncode == 2 and "--strength must be in (0, 1], got 1.5" in bad.stderr
    missing = voxcore(toy, "edit", str(run), "--image", str(data / "nope.png"), "--audio",
                      str(data / "a1.wav"), "--out", str(out), check=False)
    assert missing.returncode == 2 and "nope.png does not exist" in missing.stderr


@pytest.mark.slow
def test_sigkill_then_resume_continues_the_same_loss_curve(toy: dict[str, Path]) -> None:
    recipe = toy_recipe(toy["tmp"] / "kill", toy["manifest"], toy["cache"], max_steps=12,
                        checkpoint_every=4, validate_every=0)
    straight = toy["tmp"] / "straight"
    voxcore(toy, "train", str(recipe), "--run-dir", str(straight), "--no-progress")

    killed = toy["tmp"] / "killed"
    env = {**os.environ, "PYTHONPATH": str(toy["site"])}
    process = subprocess.Popen(
        [sys.executable, "-m", "voxcore.cli", "train", str(recipe), "--run-dir", str(killed),
         "--no-progress", "train.max_steps=400"], cwd=toy["tmp"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (killed / "checkpoints" / "step-000008" / "state.json").exists():
        assert process.poll() is None, "training ended before it could be killed"
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    left = sorted(p.name for p in (killed / "checkpoints").iterdir())
    assert all(name.startswith("step-") for name in left), left  # no half-written checkpoint

    resumed = voxcore(toy, "train", str(recipe), "--run-dir", str(killed), "--no-progress",
                      "--resume")
    assert "resumed from" in resumed.stderr
    assert loss_rows(killed) == loss_rows(straight)


def test_a_checkpoint_is_written_after_the_loss_rows_before_it(
        toy: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed the moment its checkpoint appears resumes with every loss row before it
    (the SIGKILL test above races for this; here it is checked at every checkpoint)."""
    import voxcore.training.trainer as trainer
    from voxcore.recipe import load_recipe
    from voxcore.testing import reset_plugins

    run = toy["tmp"] / "rows-before-checkpoint"
    recipe = toy_recipe(toy["tmp"] / "rows", toy["manifest"], toy["cache"], max_steps=6,
                        checkpoint_every=2, validate_every=0, log_every=5)
    saving = trainer.save_checkpoint
    logged_at_save: dict[int, int] = {}

    def checked(folder: Path, step: int, *args: object, **kwargs: object) -> object:
        logged_at_save[step] = len(loss_rows(run))
        return saving(folder, step, *args, **kwargs)

    monkeypatch.setattr(trainer, "save_checkpoint", checked)
    monkeypatch.syspath_prepend(str(toy["site"]))
    reset_plugins()
    try:
        trainer.train(load_recipe(recipe), run, progress=False)
    finally:
        reset_plugins()
    assert logged_at_save == {2: 2, 4: 4, 6: 6}


@pytest.mark.slow
def test_resume_refuses_a_changed_recipe_and_train_refuses_to_overwrite(
    toy: dict[str, Path], trained: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    run = trained[0]
    recipe = toy["tmp"] / "toy.yaml"
    again = voxcore(toy, "train", str(recipe), "--run-dir", str(run), check=False)
    assert again.returncode == 2 and "pass --resume" in again.stderr
    changed = voxcore(toy, "train", str(recipe), "--run-dir", str(run), "--resume",
                      "train.lr=0.5", "train.max_steps=9", check=False)
    assert changed.returncode == 2 and "train.lr (0.001 -> 0.5)" in changed.stderr


def launch(toy: dict[str, Path], *args: str, env: dict[str, str] | None = None,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    """``accelerate launch --num_processes 2 -m voxcore.cli ARGS`` on this CPU."""
    full_env = {**os.environ, "PYTHONPATH": str(toy["site"]), "OMP_NUM_THREADS": "1",
                **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
         "2", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
         "-m", "voxcore.cli", *args], capture_output=True, text=True, env=full_env,
        cwd=toy["tmp"], timeout=600)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_evaluation_split_among_two_processes_equals_one_process_and_resumes_after_a_kill(
    toy: dict[str, Path], trained: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    run = trained[0]
    one, two = toy["tmp"] / "eval-one", toy["tmp"] / "eval-two"
    options = ["--split", "train", "--batch-size", "2", "--no-progress"]
    voxcore(toy, "evaluate", str(run), *options, "--out", str(one))
    single = json.loads((one / "metrics.json").read_text())
    total = single["samples"]
    assert total >= 6 and single["processes"] == 1
    # Process 1 is killed (SIGKILL) at its second batch, after its images are on disk.
    killed = launch(toy, "evaluate", str(run), *options, "--out", str(two),
                    env={"TOY_KILL_RANK": "1", "TOY_KILL_AFTER": "2"}, check=False)
    assert killed.returncode != 0 and not (two / "metrics.json").exists()
    assert json.loads((two / "state-1-of-2.json").read_text()) == {"done": 2}
    resumed = launch(toy, "evaluate", str(run), *options, "--out", str(two))
    report = json.loads((two / "metrics.json").read_text())
    assert report["processes"] == 2 and report["samples"] == total
    assert report["resumed_from"] >= 2 and report["generated"] < total
    assert report["metrics"]["brightness"]["brightness"] == pytest.approx(
        single["metrics"]["brightness"]["brightness"], rel=1e-9)
    assert resumed.stdout.count("written to") == 1  # the first process reports
    for image in sorted((one / "images").iterdir()):
        assert (two / "images" / image.name).read_bytes() == image.read_bytes(), image.name
    # Another number of processes is another plan: refused until --restart, not mixed.
    again = voxcore(toy, "evaluate", str(run), *options, "--out", str(two), check=False)
    assert again.returncode == 2 and "processes differ" in again.stderr


@pytest.mark.slow
def test_generate_splits_many_files_among_two_processes(
    toy: dict[str, Path], trained: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    run, audio = trained[0], five_utterances(toy)
    one, two = toy["tmp"] / "gen-one", toy["tmp"] / "gen-two"
    voxcore(toy, "generate", str(run), "--audio", *audio, "--out", str(one), "--steps", "3",
            "--seed", "4")
    made = launch(toy, "generate", str(run), "--audio", *audio, "--out", str(two), "--steps",
                  "3", "--seed", "4")
    # (accelerate launch prints its own notes on stdout too)
    written = [line for line in made.stdout.splitlines() if line.endswith(".png")]
    assert sorted(written) == sorted(str(two / Path(a).with_suffix(".png").name) for a in audio)
    assert "process 1 of 2" in made.stderr
    first, second = pixels(one), pixels(two)
    assert list(first) == list(second) and len(first) == 5
    for name in first:
        assert int(np.abs(first[name] - second[name]).max()) <= 1, name
    # more processes than files: the process left without one says so and the run succeeds
    alone = launch(toy, "generate", str(run), "--audio", audio[0], "--out",
                   str(toy["tmp"] / "gen-alone"), "--steps", "3", "--seed", "4")
    assert "process 0 of 2: no inputs left for this process (1 among 2)" in alone.stderr
    assert [line for line in alone.stdout.splitlines() if line.endswith(".png")] == [
        str(toy["tmp"] / "gen-alone" / Path(audio[0]).with_suffix(".png").name)]


@pytest.mark.slow
def test_two_cpu_processes_with_accelerate_launch(toy: dict[str, Path]) -> None:
    recipe = toy_recipe(toy["tmp"] / "ddp-recipe", toy["manifest"], toy["cache"], max_steps=3,
                        validate_every=0)
    run = toy["tmp"] / "ddp"
    env = {**os.environ, "PYTHONPATH": str(toy["site"]), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
         "2", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
         "-m", "voxcore.cli", "train", str(recipe), "--run-dir", str(run), "--no-progress"],
        capture_output=True, text=True, env=env, cwd=toy["tmp"], timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "(2 processes" in result.stderr
    assert len(loss_rows(run)) == 3
    assert (run / "checkpoints" / "step-000003" / "state.json").is_file()
