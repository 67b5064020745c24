"""``voxcore new plugin KIND NAME``: every kind renders, installs, passes its own tests, and is
used by name from a recipe (checked; encoders, bottlenecks and generators train 5 steps), or,
for the components of dataset builders, from a ``build.yaml``: the four together build a
small VoxEmoset."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
import yaml
from packaging.specifiers import SpecifierSet
from PIL import Image

import voxcore
from voxcore.cli import main
from voxcore.scaffold import KINDS as SCAFFOLD_KINDS

RECIPE_KINDS = ["encoder", "bottleneck", "generator", "metric", "dataset", "dataset-builder"]
#: The components a dataset builder runs, and the section of its config that names each.
STAGE_KINDS = {"voice-corpus": "voices", "captioner": "captioner", "synthesizer": "synthesizer",
               "emotion-recognizer": "emotion_check.recognizer"}
KINDS = [*RECIPE_KINDS, *STAGE_KINDS]
TRAINED = {"encoder", "bottleneck", "generator"}
# torch's threads only wait for each other on the small, shared machines tests run on.
ONE_THREAD = {"OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every kind rendered as acme-KIND and installed (pip, no downloads) into one site."""
    tmp = tmp_path_factory.mktemp("template")
    for kind in KINDS:
        assert main(["new", "plugin", kind, f"acme-{kind}", "--out", str(tmp / kind)]) == 0
    site = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(site),
                    *(str(tmp / kind) for kind in KINDS)], check=True, timeout=600)
    return {"tmp": tmp, "site": site}


def run(installed: dict[str, Path], *args: str, cwd: Path,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(installed["site"])}
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                            cwd=cwd, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result


def make_pairs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(4):
        t = np.arange(8000) / 16000
        soundfile.write(folder / f"{index}.wav", 0.3 * np.sin(2 * np.pi * 300 * t), 16000)
        Image.new("RGB", (16, 16), (60 * index, 90, 200)).save(folder / f"{index}.png")
    return folder


def test_a_kind_that_does_not_exist_is_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "plugin", "encoder", "Bad_Name", "--out", str(tmp_path / "x")]) == 2
    assert "must be lowercase letters" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep")
    assert main(["new", "plugin", "metric", "ok", "--out", str(tmp_path / "full")]) == 2
    assert (tmp_path / "full" / "mine.txt").read_text() == "keep"


def test_every_kind_renders_its_example_and_a_voxcore_range(tmp_path: Path) -> None:
    assert sorted(SCAFFOLD_KINDS) == sorted(KINDS)
    for kind in KINDS:
        folder = tmp_path / kind
        assert main(["new", "plugin", kind, f"acme-{kind}", "--out", str(folder)]) == 0
        example = "build.yaml" if kind in STAGE_KINDS else "recipe.yaml"
        assert (folder / example).is_file() and f"acme-{kind}" in (folder / example).read_text()
        assert sorted(p.name for p in folder.glob("*.yaml")) == [example]
        assert f"| `{example}` |" in (folder / "README.md").read_text()
        pyproject = (folder / "pyproject.toml").read_text()
        found = re.search(r'"voxcore([<>=~!][^"]*)"', pyproject)
        assert found, pyproject
        voxcore_range = SpecifierSet(found.group(1))
        assert voxcore.__version__ in voxcore_range
        if kind in STAGE_KINDS:  # voxcore.stages and its registry kinds came with 0.3.1
            assert "0.3.0" not in voxcore_range


@pytest.mark.slow
def test_every_kind_is_found_by_voxcore(installed: dict[str, Path]) -> None:
    listed = run(installed, "-m", "voxcore.cli", "plugins", cwd=installed["tmp"]).stdout
    rows = {tuple(line.split()[:3]) for line in listed.splitlines()}
    for kind in KINDS:
        assert (kind.replace("-", "_"), f"acme-{kind}", f"voxcore-acme-{kind}") in rows, listed


@pytest.mark.slow
@pytest.mark.parametrize("kind", RECIPE_KINDS)
def test_a_rendered_plugin_passes_its_tests_and_works_from_a_recipe(
        installed: dict[str, Path], voxshapes_small: Path, kind: str) -> None:
    folder = installed["tmp"] / kind
    run(installed, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=folder)
    overrides = [f"data.train.0.config.root={voxshapes_small}",
                 f"data.cache_dir={folder / 'cache'}"]
    if kind == "metric":
        overrides.append(f"data.eval.0.config.root={voxshapes_small}")
    elif kind == "dataset":
        overrides = [f"data.train.0.config.root={make_pairs(folder / 'pairs')}"]
    elif kind == "dataset-builder":
        run(installed, "-m", "voxcore.cli", "data", f"acme-{kind}", "--out",
            str(folder / "built"), "size=8", cwd=folder)
        overrides = [f"data.train.0.config.path={folder / 'built' / 'samples.jsonl'}"]
    checked = run(installed, "-m", "voxcore.cli", "recipe", "check", "recipe.yaml", *overrides,
                  cwd=folder).stdout
    assert "its parts fit" in checked and f"acme-{kind}" in checked
    if kind in TRAINED:
        trained = run(installed, "-m", "voxcore.cli", "train", "recipe.yaml", *overrides,
                      "train.max_steps=5", "train.checkpoint_every=5", "--run-dir",
                      str(folder / "run"), "--no-progress", cwd=folder).stdout
        assert "to step 5" in trained


@pytest.mark.slow
def test_the_rendered_stage_plugins_pass_their_tests(installed: dict[str, Path]) -> None:
    # One pytest for the four (as 'cd DIR && pytest' in each runs them): a process each
    # would spend most of its time importing torch.
    run(installed, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        *(f"{kind}/tests" for kind in STAGE_KINDS), cwd=installed["tmp"], env=ONE_THREAD)


def stage_refs(config: Any) -> dict[str, list[Any]]:
    """The components a VoxEmoset build config names, by section."""
    return {"voices": list(config.voices), "captioner": [config.captioner],
            "synthesizer": [config.synthesizer],
            "emotion_check.recognizer": [config.emotion_check.recognizer]}


@pytest.mark.slow
@pytest.mark.parametrize("kind", STAGE_KINDS)
def test_a_rendered_build_config_names_the_component(installed: dict[str, Path],
                                                     kind: str) -> None:
    pytest.importorskip("voxcore_voxemoset")
    from voxcore.plugin_api import get_registry

    options = yaml.safe_load((installed["tmp"] / kind / "build.yaml").read_text())
    config = get_registry("dataset_builder").get("voxemoset").validate_config(options)
    for section, refs in stage_refs(config).items():
        if section == STAGE_KINDS[kind]:
            assert [ref.name for ref in refs] == [f"acme-{kind}"]
            continue
        for ref in refs:  # the first-party stages it keeps are registered, their configs valid
            get_registry(ref.kind).get(ref.name).validate_config(ref.config)


def stage_inputs(folder: Path) -> tuple[Path, Path]:
    """A table of 20 labelled images (2 per class and split) and a voice folder of 9
    speakers in every class (s7 and s8 are in the test split at ``test_fraction: 0.2``), in
    ``folder``."""
    rows = ["image,emotion,split"]
    (folder / "images").mkdir(parents=True)
    for split in ("train", "test"):
        for index, emotion in enumerate(("enjoyment", "anger", "disgust", "fear", "sadness")):
            for number in range(2):
                name = f"images/{split}_{emotion}_{number}.png"
                Image.new("RGB", (24 + 8 * number, 16),
                          (50 * index, 40 * number + 80, 200 - 30 * index)).save(folder / name)
                rows.append(f"{name},{emotion},{split}")
    (folder / "images.csv").write_text("\n".join(rows) + "\n")
    t = np.arange(4000) / 16000
    for emotion in ("happy", "angry", "disgust", "fear", "sad"):
        (folder / "voices" / emotion).mkdir(parents=True)
        for speaker in range(9):
            soundfile.write(folder / "voices" / emotion / f"s{speaker}_1.wav",
                            0.3 * np.sin(2 * np.pi * 200 * t), 16000)
    return folder / "images.csv", folder / "voices"


@pytest.mark.slow
def test_the_stage_plugins_build_a_dataset_from_their_build_configs(
        installed: dict[str, Path]) -> None:
    pytest.importorskip("voxcore_voxemoset")
    tmp = installed["tmp"]
    images, voices = stage_inputs(tmp / "stage-inputs")

    def section(kind: str, key: str) -> Any:
        return yaml.safe_load((tmp / kind / "build.yaml").read_text())[key]

    options = yaml.safe_load((tmp / "emotion-recognizer" / "build.yaml").read_text())
    options |= {"voices": section("voice-corpus", "voices"),
                "captioner": section("captioner", "captioner"),
                "synthesizer": section("synthesizer", "synthesizer"), "progress": False}
    options["images"]["root"] = str(images)
    options["voices"][0]["config"]["root"] = str(voices)
    (tmp / "stages.yaml").write_text(yaml.safe_dump(options))
    out = tmp / "stages-built"
    built = run(installed, "-m", "voxcore.cli", "data", "voxemoset", "--config",
                str(tmp / "stages.yaml"), "--out", str(out), cwd=tmp, env=ONE_THREAD)
    assert "voxemoset dataset written to" in built.stdout
    stats = json.loads((out / "stats.json").read_text())["build"]
    for kind in ("captioner", "synthesizer", "emotion-recognizer"):
        assert f"'acme-{kind}'" in stats[kind.split("-")[-1]]
    assert stats["utterances_planned"] == 60
    written = [json.loads(line) for split in ("train", "test")
               for line in (out / f"voxemoset_{split}.jsonl").read_text().splitlines()]
    # The recognizer's weights fit the synthesizer template's tones: few are made again.
    assert len(written) >= 50
    details = [json.loads(line) for line in (out / "details.jsonl").read_text().splitlines()]
    assert all(d["speaker"].startswith("acme-voice-corpus/") for d in details
               if d["status"] == "ok")
