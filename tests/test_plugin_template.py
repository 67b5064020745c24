"""``voxcore new plugin KIND NAME``: every kind renders, installs, passes its own tests, and is
used by name from a recipe (checked; encoders, bottlenecks and generators train 5 steps)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from voxcore.cli import main

KINDS = ["encoder", "bottleneck", "generator", "metric", "dataset", "dataset-builder"]
TRAINED = {"encoder", "bottleneck", "generator"}


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


def run(installed: dict[str, Path], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(installed["site"])}
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


@pytest.mark.slow
def test_every_kind_is_found_by_voxcore(installed: dict[str, Path]) -> None:
    listed = run(installed, "-m", "voxcore.cli", "plugins", cwd=installed["tmp"]).stdout
    for kind in KINDS:
        assert f"acme-{kind}" in listed and f"voxcore-acme-{kind}" in listed


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
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
