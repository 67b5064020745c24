"""The ``voxemoset`` builder end to end, through the command line, offline.

One build of a fixture EmoSet tree (30 images of the built classes, 10 of awe and
contentment) with CREMA-D and RAVDESS fixture voices, ``captions-file`` captions, ``espeak``
speech and the ``speech-emotion`` check is made once per module; the tests read it (the
``voxemoset`` dataset, ``stats.json`` against the files themselves), train 20 steps on it and
evaluate, build it again with two processes and after a kill, and feed every bad input.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from statistics import fmean
from typing import Any

import pytest
import soundfile
from voxcore_voxemoset.testing import FIXTURE_SPLITS, write_captions, write_emoset
from voxcore_voxemoset.voices.testing import write_crema_d, write_ravdess

from voxcore.plugin_api import get_registry

REPO = Path(__file__).parents[4]
BUILT = ("amusement", "anger", "disgust", "excitement", "fear", "sadness")
CLASS = {"amusement": "enjoyment", "excitement": "enjoyment"}


def voxcore(*args: str, cwd: Path, check: bool = True, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``voxcore ARGS`` in a fresh process, as a user runs it."""
    result = subprocess.run([sys.executable, "-m", "voxcore.cli", *args], cwd=cwd,
                            capture_output=True, text=True, timeout=900,
                            env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})
    if check:
        assert result.returncode == 0, result.stderr[-4000:]
    return result


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixture EmoSet tree, its captions, two reference-voice corpora and a small
    VoxShapes build whose speech the emotion checker learns from (as the README says)."""
    root = tmp_path_factory.mktemp("voxemoset-inputs")
    ids = write_emoset(root / "EmoSet")
    write_captions(root / "captions.jsonl", [i for found in ids.values() for i in found])
    write_crema_d(root / "CREMA-D")
    write_ravdess(root / "RAVDESS")
    voxcore("data", "voxshapes", "--out", str(root / "voxshapes"), "--size", "300",
            cwd=root)
    return {"root": root, "emoset": root / "EmoSet", "captions": root / "captions.jsonl",
            "crema": root / "CREMA-D", "ravdess": root / "RAVDESS",
            "voxshapes": root / "voxshapes", "cache": root / "emotion-cache"}


def build_args(inputs: dict[str, Path], out: Path, *extra: str,
               checker: str = "voxshapes") -> list[str]:
    """The README's offline command line for the fixture (the checker trained on VoxShapes
    speech, or with ``checker="voices"`` on the reference voices)."""
    learn = [f"emotion_check.recognizer.config.train_data={{name: voxshapes, config: "
             f"{{root: {inputs['voxshapes']}}}}}", "emotion_check.recognizer.config.label=mood"]
    return ["data", "voxemoset", "--out", str(out), "--images", str(inputs["emoset"]),
            "--voices", f"crema-d={inputs['crema']}", f"ravdess={inputs['ravdess']}",
            "--captioner", "captions-file", f"captioner.config.path={inputs['captions']}",
            *(learn if checker == "voxshapes" else []),
            f"emotion_check.recognizer.config.cache_dir={inputs['cache']}",
            "--progress", "false", *extra]


@pytest.fixture(scope="module")
def built(inputs: dict[str, Path]) -> Path:
    """One offline build through the command line."""
    out = inputs["root"] / "VoxEmoset"
    result = voxcore(*build_args(inputs, out), cwd=inputs["root"])
    assert "voxemoset dataset written to" in result.stdout
    return out


def records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "details.jsonl").read_text().splitlines()]


def outputs(out: Path) -> dict[str, bytes]:
    """Every file a build wrote (its work folder and timings aside), by relative path."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".build" not in p.relative_to(out).parts
            and p.name != "timings.json"}


@pytest.mark.slow
def test_the_voxemoset_dataset_reads_the_build(built: Path) -> None:
    dataset = get_registry("dataset")
    sizes = {}
    for split in FIXTURE_SPLITS:
        samples = dataset.get("voxemoset").build({"root": str(built), "split": split})
        sizes[split] = len(samples)
        for index in range(len(samples)):
            sample = samples[index]
            assert sample.audio is not None and sample.audio.is_file()
            assert sample.image is not None and sample.image.is_file()
            assert sample.labels["emotion"] in ("enjoyment", "anger", "disgust", "fear",
                                                "sadness")
            assert sample.transcript and sample.speaker
            info = soundfile.info(sample.audio)
            assert info.samplerate == 16_000 and info.channels == 1
    assert all(sizes.values())
    written = [r for r in records(built) if r["status"] == "ok"]
    assert sum(sizes.values()) == len(written)


@pytest.mark.slow
def test_stats_match_the_files(built: Path, inputs: dict[str, Path]) -> None:
    stats = json.loads((built / "stats.json").read_text())
    details = records(built)
    emoset_rows = {split: json.loads((inputs["emoset"] / f"{split}.json").read_text())
                   for split in FIXTURE_SPLITS}
    for split, rows in emoset_rows.items():
        manifest = [json.loads(line) for line in
                    (built / f"voxemoset_{split}.jsonl").read_text().splitlines()]
        for emotion in ("enjoyment", "anger", "disgust", "fear", "sadness"):
            row = stats["splits"][split]["classes"][emotion]
            mine = [m for m in manifest if m["labels"]["class"] == emotion]
            planned = [r for r in rows if CLASS.get(r[0], r[0]) == emotion]
            assert row["utterances"] == len(mine)
            assert row["images"] == len({m["image"] for m in mine}) <= len(planned)
            assert mine, f"no {emotion} utterance in {split}: the fixture checker is too weak"
            durations = [soundfile.info(built / m["audio"]).duration for m in mine]
            assert row["length_s"] == pytest.approx(fmean(durations), abs=1e-3)
            words = [len(m["transcript"].split()) for m in mine]
            assert row["words_per_caption"] == pytest.approx(fmean(words), abs=1e-3)
            confidences = [d["confidence"] for d in details
                           if d["status"] == "ok" and d["split"] == split
                           and d["emotion"] == emotion]
            assert row["emo_c"] == pytest.approx(fmean(confidences), abs=1e-3)
            dropped = sum(1 for d in details if d["split"] == split and d["emotion"] == emotion
                          and d["status"] == "dropped")
            assert row["dropped"] == dropped
            assert row["utterances"] + dropped == 3 * len(planned)
    build = stats["build"]
    per_split = sum(FIXTURE_SPLITS.values())
    assert build["left_out"] == {"awe": per_split, "contentment": per_split}
    assert build["images_planned"] == per_split * len(BUILT)
    assert stats["total"]["utterances"] == sum(
        stats["splits"][s]["all"]["utterances"] for s in FIXTURE_SPLITS)
    histogram = stats["caption_words"]
    assert sum(histogram["captions"]) == stats["total"]["utterances"]
    report = (built / "report.md").read_text()
    assert "| total |" in report and "Emo-C" in report
    assert (built / "caption_lengths.png").is_file()
    examples = (built / "examples.md").read_text()
    assert "](audio/" in examples and "![" in examples


@pytest.mark.slow
def test_each_utterance_carries_its_emotion_and_test_voices_stay_in_test(built: Path) -> None:
    details = [r for r in records(built) if r["status"] == "ok"]
    assert min(r["confidence"] for r in details) >= 0.5
    assert sum(r["confidence"] for r in details) / len(details) > 0.7
    train_speakers = {r["speaker"] for r in details if r["split"] != "test"}
    test_speakers = {r["speaker"] for r in details if r["split"] == "test"}
    assert not train_speakers & test_speakers


@pytest.mark.slow
def test_weak_utterances_are_made_again_with_other_voices_then_dropped(
        inputs: dict[str, Path]) -> None:
    out = inputs["root"] / "strict"
    voxcore(*build_args(inputs, out, "--limit", "5", "images.splits=[train]",
                        "emotion_check.threshold=0.999", "emotion_check.retries=2",
                        checker="voices"), cwd=inputs["root"])
    details = records(out)
    assert len(details) == 3 * 5  # one image of each class, three captions each
    statuses = {r["status"] for r in details}
    assert "dropped" in statuses, "a threshold of 0.999 dropped nothing"
    for record in details:
        attempts = record["attempts"]
        if record["status"] == "ok":
            assert attempts[-1]["confidence"] >= 0.999
        else:
            assert len(attempts) == 3 and all(a["confidence"] < 0.999 for a in attempts)
        assert all(a["confidence"] < 0.999 for a in attempts[:-1])
        references = [a["reference"] for a in attempts]
        assert len(set(references)) == len(references), "a retry reused its reference"
        seeds = [a["seed"] for a in attempts]
        assert len(set(seeds)) == len(seeds)
    dropped = [r for r in details if r["status"] == "dropped"]
    assert not [p for p in (out / "audio").rglob("*.wav")
                if any(d["id"] in p.name for d in dropped)]
    failures = json.loads((out / "failures.json").read_text())["utterance_failures"]
    assert len(failures) == len(dropped)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["total"]["dropped"] == len(dropped)
    assert stats["build"]["attempts"].get("3", 0) >= len(dropped)


@pytest.mark.slow
def test_train_20_steps_and_evaluate_on_the_build(built: Path, inputs: dict[str, Path]) -> None:
    recipe = REPO / "recipes" / "voxemoset-tiny.yaml"
    run = inputs["root"] / "run"
    # The recipe as shipped but for its length: 20 steps, 4 sampling steps, a 3-epoch judge.
    voxcore("train", str(recipe), f"data.train.0.config.root={built}",
            f"data.cache_dir={inputs['root'] / 'cache'}", "train.max_steps=20",
            "generate.steps=4", "metrics.0.config.epochs=3",
            "--run-dir", str(run), "--no-progress", cwd=inputs["root"])
    result = voxcore("evaluate", str(run), "--split", "test", "--no-progress",
                     cwd=inputs["root"])
    metrics = json.loads((run / "eval" / "test" / "metrics.json").read_text())
    assert "judge" in metrics["metrics"], result.stdout


@pytest.mark.slow
def test_two_processes_build_what_one_builds(built: Path, inputs: dict[str, Path]) -> None:
    out = inputs["root"] / "two-processes"
    result = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
         "2", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
         "-m", "voxcore.cli", *build_args(inputs, out)], capture_output=True, text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=inputs["root"], timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    assert outputs(out) == outputs(built)


@pytest.mark.slow
def test_a_killed_build_continues_without_redoing_finished_items(
        built: Path, inputs: dict[str, Path]) -> None:
    out = inputs["root"] / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "voxcore.cli", *build_args(inputs, out)], cwd=inputs["root"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "OMP_NUM_THREADS": "1"}, start_new_session=True)
    utterances = out / ".build" / "utterances"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(list(utterances.rglob("*.json"))) < 20:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = {p: p.stat().st_mtime_ns for p in utterances.rglob("*.json")}
    assert 20 <= len(finished) < len(records(built)), "the kill came too late to test resuming"
    assert not list(out.glob("voxemoset_*.jsonl")), "manifests appeared before the end"
    voxcore(*build_args(inputs, out), cwd=inputs["root"])
    for path, mtime in finished.items():
        assert path.stat().st_mtime_ns == mtime, f"{path.name} was made again"
    assert not [p for p in out.rglob("*.tmp")]
    assert outputs(out) == outputs(built)


@pytest.fixture
def tmp_out(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "out"


def expect_error(inputs: dict[str, Path], out: Path, *extra: str,
                 args: list[str] | None = None) -> str:
    result = voxcore(*(args or build_args(inputs, out, *extra)), cwd=inputs["root"],
                     check=False, env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert not (out / ".build").exists() or not list((out / ".build").rglob("utterances/*"))
    return result.stderr


def test_voices_missing_a_class_stop_before_any_work(inputs: dict[str, Path],
                                                      tmp_out: Path) -> None:
    args = ["data", "voxemoset", "--out", str(tmp_out), "--images", str(inputs["emoset"]),
            "--voices", f"crema-d={inputs['crema']}", "--captioner", "captions-file",
            f"captioner.config.path={inputs['captions']}",
            "voices.0.config.emotions=[enjoyment, anger, disgust, sadness]"]
    message = expect_error(inputs, tmp_out, args=args)
    assert "fear" in message and "crema-d" in message


def test_images_without_labelled_images_stop_before_any_work(
        inputs: dict[str, Path], tmp_path: Path, tmp_out: Path) -> None:
    empty = tmp_path / "EmoSet"
    write_emoset(empty, categories=("awe", "contentment"))
    args = build_args(inputs, tmp_out)
    args[args.index("--images") + 1] = str(empty)
    message = expect_error(inputs, tmp_out, args=args)
    assert "no labelled image" in message and "awe" in message


def test_a_captioner_without_its_weights_stops_before_any_work(inputs: dict[str, Path],
                                                                tmp_out: Path,
                                                                tmp_path: Path) -> None:
    args = build_args(inputs, tmp_out)
    at = args.index("--captioner")
    args[at:at + 3] = ["--captioner", "llava-onevision",
                       f"captioner.config.cache_dir={tmp_path / 'empty-hub'}"]
    message = expect_error(inputs, tmp_out, args=args)
    assert "llava" in message.lower() and "download" in message


def test_a_synthesizer_without_its_weights_stops_before_any_work(inputs: dict[str, Path],
                                                                  tmp_out: Path,
                                                                  tmp_path: Path) -> None:
    message = expect_error(inputs, tmp_out, "--synthesizer", "f5-tts",
                           f"synthesizer.config.cache_dir={tmp_path / 'empty-hub'}")
    assert "F5" in message and "download" in message


def test_a_typo_in_the_options_is_named_with_a_suggestion(inputs: dict[str, Path],
                                                          tmp_out: Path) -> None:
    message = expect_error(inputs, tmp_out, "emotion_check.treshold=0.4")
    assert "emotion_check.treshold" in message and "threshold" in message


def test_an_unknown_component_is_named_with_what_is_installed(inputs: dict[str, Path],
                                                              tmp_out: Path) -> None:
    message = expect_error(inputs, tmp_out, "--synthesizer", "espeek")
    assert "synthesizer.name" in message and "espeak" in message


def test_a_corrupt_or_uncaptioned_image_is_recorded_and_skipped(
        inputs: dict[str, Path], tmp_path: Path) -> None:
    emoset = tmp_path / "EmoSet"
    ids = write_emoset(emoset, per_split={"train": 2}, categories=("anger", "fear"))["train"]
    broken = emoset / "image" / "anger" / f"{ids[0]}.jpg"
    broken.write_bytes(b"not an image")
    captions = write_captions(tmp_path / "captions.jsonl", ids[:3])
    out = tmp_path / "out"
    args = build_args(inputs, out, "images.splits=[train]")
    args[args.index("--images") + 1] = str(emoset)
    args[args.index(f"captioner.config.path={inputs['captions']}")] = \
        f"captioner.config.path={captions}"
    voxcore(*args, cwd=tmp_path)
    failures = json.loads((out / "failures.json").read_text())
    reasons = " ".join(failures["caption_failures"])
    assert f"{ids[0]}" in reasons and "unreadable image" in reasons
    assert f"{ids[3]}" in reasons and "0 distinct non-empty caption" in reasons
    manifest = (out / "voxemoset_train.jsonl").read_text()
    assert ids[0] not in manifest and ids[3] not in manifest
    assert ids[1] in manifest and ids[2] in manifest
    report = (out / "report.md").read_text()
    assert "Images whose captions failed: 2." in report


@pytest.mark.parametrize("path", sorted((REPO / "recipes" / "builds").glob("voxemoset*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_build_configs_validate(path: Path) -> None:
    from omegaconf import OmegaConf
    from voxcore_voxemoset import VoxEmosetBuildConfig

    from voxcore.plugin_api import check_references

    options = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    config = VoxEmosetBuildConfig.model_validate(options)
    check_references(config, str(path))
