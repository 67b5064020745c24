"""Building VoxShapes through the real CLI and reading it back through the plugin registry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from voxcore_voxshapes import VoxShapesBuildConfig
from voxcore_voxshapes.build import FORMAT_VERSION, VoxShapesBuilder
from voxcore_voxshapes.moods import MOOD_NAMES

from voxcore.plugin_api import (
    DatasetError,
    ManifestDataset,
    Sample,
    get_registry,
    load_audio,
    read_manifest,
)

SIZE, SEED = 40, 1


def voxcore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voxcore.cli", *args], capture_output=True,
                          text=True)


def build(out: Path, *options: str, size: int = SIZE, seed: int = SEED) -> None:
    result = voxcore("data", "voxshapes", "--out", str(out), "--size", str(size),
                     "--seed", str(seed), *options)
    assert result.returncode == 0, result.stderr
    assert f"voxshapes dataset written to {out}" in result.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same build made twice, the second with one worker process."""
    first = tmp_path_factory.mktemp("one") / "voxshapes"
    second = tmp_path_factory.mktemp("two") / "voxshapes"
    build(first)
    build(second, "workers=1")
    return first, second


@pytest.fixture(scope="module")
def root(built: tuple[Path, Path]) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def splits(root: Path) -> dict[str, list[Sample]]:
    return {split: read_manifest(root / f"{split}.jsonl") for split in ("train", "test",
                                                                          "heldout")}


@pytest.fixture(scope="module")
def everything(splits: dict[str, list[Sample]]) -> list[Sample]:
    return [sample for samples in splits.values() for sample in samples]


def _files(root: Path) -> Iterator[Path]:
    return (p for p in sorted(root.rglob("*")) if p.is_file())


# -- what a build writes -----------------------------------------------------------------------

def test_build_writes_every_file_and_nothing_else(root: Path) -> None:
    assert sorted(p.name for p in root.iterdir()) == [
        "audio", "heldout.jsonl", "images", "test.jsonl", "train.jsonl", "voxshapes.json"]
    assert len(list((root / "audio").glob("*.wav"))) == SIZE
    assert len(list((root / "images").glob("*.png"))) == SIZE
    assert [p.name for p in root.parent.iterdir()] == ["voxshapes"]  # no temporary folders
    assert (root.stat().st_mode & 0o777) == (root / "audio").stat().st_mode & 0o777
    assert (root / "train.jsonl").stat().st_mode & 0o044 == (
        next((root / "audio").iterdir()).stat().st_mode & 0o044)


def test_description_matches_the_manifests(root: Path, splits: dict[str, list[Sample]]) -> None:
    info = json.loads((root / "voxshapes.json").read_text())
    assert info["name"] == "voxshapes" and info["format_version"] == FORMAT_VERSION == 2
    assert info["config"]["size"] == SIZE and info["config"]["seed"] == SEED
    assert "workers" not in info["config"]  # how a build ran does not change what it holds
    assert info["counts"] == {split: len(samples) for split, samples in splits.items()}
    assert sum(info["counts"].values()) == SIZE
    assert info["labels"]["mood"] == list(MOOD_NAMES)
    assert len(info["labels"]["content"]) == 15
    assert info["generator"]["espeak-ng"].startswith("1.")
    assert info["audio"]["sample_rate"] == 16000 and info["image"]["resolution"] == 64
    assert len(info["heldout_pairs"]) == 3


def test_manifests_hold_labels_transcripts_and_speakers(everything: list[Sample]) -> None:
    voices = set(VoxShapesBuildConfig().voices)
    assert sorted(s.id for s in everything) == [f"{i:06d}" for i in range(SIZE)]
    for sample in everything:
        labels = sample.labels
        assert list(labels) == ["content", "shape", "position", "mood"]
        assert labels["content"] == f"{labels['shape']}-{labels['position']}"
        assert labels["mood"] in MOOD_NAMES
        assert sample.transcript is not None and labels["shape"] in sample.transcript
        assert sample.speaker in voices
        assert sample.audio == sample.audio.absolute() and sample.audio.suffix == ".wav"


def test_heldout_pairs_never_appear_in_train_or_test(root: Path,
                                                     splits: dict[str, list[Sample]]) -> None:
    pairs = {(p["shape"], p["mood"]) for p in
             json.loads((root / "voxshapes.json").read_text())["heldout_pairs"]}

    def pair(sample: Sample) -> tuple[str, str]:
        return sample.labels["shape"], sample.labels["mood"]

    assert splits["heldout"] and splits["test"]
    assert all(pair(s) in pairs for s in splits["heldout"])
    assert not any(pair(s) in pairs for s in splits["train"] + splits["test"])
    ids = [s.id for samples in splits.values() for s in samples]
    assert len(ids) == len(set(ids)) == SIZE


def test_same_seed_gives_byte_identical_files(built: tuple[Path, Path]) -> None:
    first, second = built
    names = [p.relative_to(first) for p in _files(first)]
    assert names == [p.relative_to(second) for p in _files(second)]
    different = [n for n in names if (first / n).read_bytes() != (second / n).read_bytes()]
    assert different == []


def test_another_seed_gives_another_dataset(tmp_path: Path, root: Path) -> None:
    build(tmp_path / "other", size=6, seed=2)
    assert (tmp_path / "other" / "train.jsonl").read_text() != (root / "train.jsonl").read_text()


# -- what the files contain --------------------------------------------------------------------

def test_audio_is_16khz_mono_speech(everything: list[Sample]) -> None:
    for sample in everything:
        assert sample.audio is not None
        with wave.open(str(sample.audio)) as file:
            assert (file.getnchannels(), file.getsampwidth(), file.getframerate()) == (1, 2,
                                                                                       16000)
        waveform = load_audio(sample.audio)  # rejects silent, empty or broken files
        assert 0.4 < waveform.duration < 8.0
        assert float(waveform.samples.abs().max()) > 0.05


def test_images_show_the_mood_in_their_colours(everything: list[Sample]) -> None:
    def pixels(sample: Sample) -> np.ndarray:
        assert sample.image is not None
        with Image.open(sample.image) as image:
            assert image.mode == "RGB" and image.size == (64, 64)
            return np.asarray(image.resize((32, 32), Image.Resampling.BILINEAR), dtype=float)

    by_mood = {m: [pixels(s) for s in everything if s.labels["mood"] == m] for m in MOOD_NAMES}
    brightness = {m: np.mean([p.mean() for p in images]) for m, images in by_mood.items()}
    assert brightness["enjoyment"] > brightness["anger"] > brightness["fear"]
    assert brightness["enjoyment"] > brightness["sadness"] > brightness["fear"]
    redness = {m: np.mean([p[..., 0].mean() - p[..., 1:].mean() for p in images])
               for m, images in by_mood.items()}
    assert max(redness, key=redness.__getitem__) == "anger"
    blueness = {m: np.mean([p[..., 2].mean() - p[..., 0].mean() for p in images])
                for m, images in by_mood.items()}
    assert sorted(blueness, key=blueness.__getitem__)[-2:] in (["fear", "sadness"],
                                                               ["sadness", "fear"])
    # A nearest-mean-colour classifier, fitted on half the images, gets the mood of the rest.
    fit = {m: np.mean([p.mean(axis=(0, 1)) for p in images[::2]], axis=0)
           for m, images in by_mood.items()}
    for mood, images in by_mood.items():
        for image in images[1::2]:
            colour = image.mean(axis=(0, 1))
            assert min(fit, key=lambda m: float(np.linalg.norm(fit[m] - colour))) == mood


def test_slow_moods_are_longer(everything: list[Sample]) -> None:
    def seconds(mood: str) -> float:
        return float(np.mean([load_audio(s.audio).duration for s in everything
                              if s.labels["mood"] == mood and s.audio is not None]))

    assert seconds("sadness") > seconds("disgust") > seconds("enjoyment") > seconds("fear")


# -- the dataset plugin ------------------------------------------------------------------------

def test_dataset_plugin_reads_each_split(root: Path, splits: dict[str, list[Sample]]) -> None:
    entry = get_registry("dataset").get("voxshapes")
    for split, samples in splits.items():
        dataset = entry.build({"root": str(root), "split": split})
        assert isinstance(dataset, ManifestDataset)
        assert dataset.samples == samples
    test = entry.build({"root": str(root), "split": "test"})
    assert set(test.label_values("mood")) <= set(MOOD_NAMES)


def test_dataset_plugin_says_how_to_build_a_missing_dataset(tmp_path: Path) -> None:
    entry = get_registry("dataset").get("voxshapes")
    missing = tmp_path / "nothing"
    with pytest.raises(DatasetError, match=f"not found at {missing}; build it first with "
                                           f"'voxcore data voxshapes --out {missing}'"):
        entry.build({"root": str(missing)})
    missing.mkdir()
    with pytest.raises(DatasetError, match="not a finished VoxShapes dataset .* overwrite=true"):
        entry.build({"root": str(missing), "split": "heldout"})


# -- refusing, replacing, interrupting ---------------------------------------------------------

def test_cli_reports_bad_options_and_occupied_folders(tmp_path: Path) -> None:
    result = voxcore("data", "voxshapes", "--out", str(tmp_path / "x"), "--size", "0",
                     "heldout_pairs=9", "colour=red")
    assert result.returncode == 2
    assert "size: Input should be greater than or equal to 1" in result.stderr
    assert "heldout_pairs" in result.stderr and "colour: unknown key" in result.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    result = voxcore("data", "voxshapes", "--out", str(tmp_path / "full"), "--size", "2")
    assert result.returncode == 2
    assert "exists and is not empty; delete it, choose another --out, or pass overwrite=true" \
        in result.stderr
    result = voxcore("data", "voxshapes", "--out", str(tmp_path / "v"), "--size", "2",
                     "voices=[en-us+m1,nosuchvoice]")
    assert result.returncode == 2 and "espeak-ng has no voice 'nosuchvoice'" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def test_overwrite_replaces_a_dataset_only_once_the_new_one_is_complete(tmp_path: Path) -> None:
    out = tmp_path / "data"
    out.mkdir()
    (out / "old.txt").write_text("old")
    build(out, "overwrite=true", size=3)
    assert not (out / "old.txt").exists()
    assert len(ManifestDataset(out / "train.jsonl")) + len(ManifestDataset(out / "test.jsonl")) \
        + len(ManifestDataset(out / "heldout.jsonl")) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: VoxShapesBuilder, specs: object, staging: Path) -> list[float]:
        (staging / "audio" / "000000.wav").write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(VoxShapesBuilder, "_render", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        VoxShapesBuilder(VoxShapesBuildConfig(size=2)).build(tmp_path / "data")
    assert list(tmp_path.iterdir()) == []


def test_a_killed_build_never_looks_complete(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "voxcore.cli", "data", "voxshapes", "--out",
         str(tmp_path / "data"), "--size", "2000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            partial = [p for p in tmp_path.iterdir() if p.name.startswith(".data.partial-")]
            if partial and any((partial[0] / "images").glob("*.png")):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the build never started writing")
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the build and its worker processes
        process.wait()
    assert not (tmp_path / "data").exists()
    assert [p.name.startswith(".data.partial-") for p in tmp_path.iterdir()] == [True]
