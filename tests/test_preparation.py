"""Preparation steps: 'voxcore train' prepares (a recogniser, a judge) as a visible first step
and keeps the artefacts in the run; building a model to generate, evaluate or export never
trains; an exported model works on a machine where the training data is gone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RECIPE = """
name: prepared-toy
encoder:
  name: ctc-words
  config:
    train_data: {{name: voxshapes, config: {{root: {data}, split: train}}}}
    heldout_data: {{name: voxshapes, config: {{root: {data}, split: test}}}}
    training: {{width: 32, num_layers: 1, num_heads: 2, steps: 20, batch_size: 8}}
bottleneck: {{name: words-prosody, config: {{prosody: {{ratio: 4, widths: [16, 16],
                                                      num_heads: 2}}}}}}
generator: {{name: tiny-unet, config: {{resolution: 16, block_out_channels: [16, 32],
                                       cross_attention_dim: 16, pooled_dim: 16}}}}
data:
  train: [{{name: voxshapes, config: {{root: {data}, split: train}}}}]
  eval: [{{name: voxshapes, config: {{root: {data}, split: test}}}}]
  cache_dir: {cache}
train: {{lr: 1.0e-3, batch_size: 4, max_steps: 2, checkpoint_every: 2, validate_every: 0}}
generate: {{steps: 2, batch_size: 16}}
metrics:
  - name: judge
    config:
      train_data: {{name: voxshapes, config: {{root: {data}, split: train}}}}
      epochs: 1
      min_real_accuracy: 0.0
"""


def voxcore(cwd: Path, *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "voxcore.cli", *args], capture_output=True,
                            text=True, cwd=cwd, timeout=900)
    assert result.returncode == status, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def trained(voxshapes_small: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("prepared")
    data = tmp / "voxshapes"
    shutil.copytree(voxshapes_small, data)
    recipe = tmp / "recipe.yaml"
    recipe.write_text(RECIPE.format(data=data, cache=tmp / "cache"))
    run = tmp / "run"
    result = voxcore(tmp, "train", str(recipe), "--run-dir", str(run), "--no-progress")
    (tmp / "train.log").write_text(result.stderr)
    return {"tmp": tmp, "data": data, "recipe": recipe, "run": run}


@pytest.mark.slow
def test_train_prepares_first_and_keeps_the_artefacts_in_the_run(
        trained: dict[str, Path]) -> None:
    log = (trained["tmp"] / "train.log").read_text()
    assert "preparing: word recogniser of encoder (ctc-words)" in log
    assert "preparing: judge classifier of metrics[0] (judge)" in log
    assert log.index("preparing: word recogniser") < log.index("training prepared-toy")
    run = trained["run"]
    for folder in ("encoder", "metrics-0"):
        assert (run / "prepared" / folder / "voxcore-prepared.json").is_file()
    prepared = json.loads((run / "versions.json").read_text())["prepared"]
    assert set(prepared) == {"encoder", "metrics[0]"}
    assert prepared["encoder"]["description"] == "word recogniser"
    assert prepared["encoder"]["figures"]["utterances"] > 0
    again = voxcore(trained["tmp"], "prepare", str(trained["recipe"]))
    assert "encoder: word recogniser (voxcore-ctc:ctc-words) reused" in again.stdout
    assert "metrics[0]: judge classifier (voxcore-judge:judge) reused" in again.stdout


@pytest.mark.slow
def test_evaluate_uses_the_runs_artefacts_and_trains_nothing(trained: dict[str, Path]) -> None:
    for cache in trained["data"].glob(".*-cache"):
        shutil.rmtree(cache)  # the caches are gone; the run keeps its own copies
    result = voxcore(trained["tmp"], "evaluate", str(trained["run"]), "--limit", "4",
                     "--no-progress")
    assert "preparing" not in result.stderr and "training" not in result.stderr
    assert "content_accuracy" in result.stdout


@pytest.mark.slow
def test_an_exported_model_generates_with_the_dataset_gone(trained: dict[str, Path]) -> None:
    tmp = trained["tmp"]
    exported = tmp / "exported"
    voxcore(tmp, "export", str(trained["run"]), "--out", str(exported))
    assert (exported / "prepared" / "encoder" / "recognizer.safetensors").is_file()
    audio = tmp / "audio"
    audio.mkdir()
    for wav in sorted((trained["data"] / "audio").glob("*.wav"))[:2]:
        shutil.copy(wav, audio / wav.name)
    trained["data"].rename(tmp / "moved-away")
    try:
        result = voxcore(tmp, "generate", str(exported), "--audio", *map(str, audio.iterdir()),
                         "--out", str(tmp / "images"))
    finally:
        (tmp / "moved-away").rename(trained["data"])
    assert "preparing" not in result.stderr
    assert len(list((tmp / "images").glob("*.png"))) == 2


@pytest.mark.slow
def test_building_without_the_artefact_names_the_command(trained: dict[str, Path],
                                                         tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(trained["recipe"].read_text().replace(
        "steps: 20,", "steps: 21,"))  # another recogniser, never prepared
    cache = trained["data"] / ".recognizer-cache"
    before = sorted(p.name for p in cache.iterdir()) if cache.is_dir() else []
    code = ("import sys; from voxcore.recipe import load_recipe; "
            "from voxcore.assembly import build_model; from voxcore.errors import UserError\n"
            "try:\n    build_model(load_recipe(sys.argv[1]))\n"
            "except UserError as exc:\n    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code, str(recipe)], capture_output=True,
                            text=True, timeout=300)
    assert "needs its word recogniser prepared first" in result.stdout, result.stderr[-2000:]
    assert "voxcore prepare RECIPE" in result.stdout
    after = sorted(p.name for p in cache.iterdir()) if cache.is_dir() else []
    assert after == before  # building trained nothing
