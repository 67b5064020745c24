"""Recipes naming the public datasets: validation, and a tiny two-dataset training run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from voxcore_datasets.testing import (
    write_spokencoco_tree,
    write_tiny_recipe,
    write_voxemoset_tree,
)

from voxcore.plugin_api import RecipeError, load_recipe


def two_datasets(tmp_path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    coco = write_spokencoco_tree(tmp_path / "data")
    emo = write_voxemoset_tree(tmp_path / "data")
    train = [{"name": "spokencoco", "weight": 0.7, "config": coco},
             {"name": "voxemoset", "weight": 0.3, "config": emo}]
    evaluation = [{"name": "spokencoco", "config": {**coco, "split": "val"}},
                  {"name": "voxemoset", "config": {**emo, "split": "test"}}]
    return train, evaluation


def test_recipe_with_two_public_datasets_validates(tmp_path: Path) -> None:
    train, evaluation = two_datasets(tmp_path)
    recipe = write_tiny_recipe(tmp_path / "mix.yaml", train, evaluation)
    resolved = load_recipe(recipe)
    assert [b.entry.name for b in resolved.train_data] == ["spokencoco", "voxemoset"]
    assert [s.weight for s in resolved.recipe.data.train] == [0.7, 0.3]
    assert [b.entry.distribution for b in resolved.train_data] == ["voxcore-datasets"] * 2
    coco, emo = (b.build() for b in resolved.train_data)
    assert (len(coco), len(emo)) == (4, 6)
    assert [len(b.build()) for b in resolved.eval_data] == [4, 6]
    swapped = load_recipe(recipe, ["data.train[1].config.split=test"])
    assert swapped.train_data[1].config.split == "test"  # type: ignore[attr-defined]


def test_recipe_errors_name_the_dataset_option(tmp_path: Path) -> None:
    train, _ = two_datasets(tmp_path)
    train[1]["config"] = {**train[1]["config"], "emotion_classes": "paper6", "splt": "x"}
    recipe = write_tiny_recipe(tmp_path / "bad.yaml", train)
    with pytest.raises(RecipeError) as caught:
        load_recipe(recipe)
    message = str(caught.value)
    assert "data.train[1].config.emotion_classes" in message
    assert "data.train[1].config.splt" in message


@pytest.mark.slow
def test_train_on_spokencoco_and_voxemoset(tmp_path: Path) -> None:
    train, evaluation = two_datasets(tmp_path)
    recipe = write_tiny_recipe(tmp_path / "mix.yaml", train, evaluation,
                               cache_dir=tmp_path / "cache", max_steps=2)
    check = subprocess.run([sys.executable, "-m", "voxcore.cli", "recipe", "check", str(recipe)],
                           capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert check.returncode == 0, check.stderr[-3000:]
    assert "data.train[1]: voxemoset (voxcore-datasets" in check.stdout
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "voxcore.cli", "train", str(recipe), "--run-dir", str(run),
         "--no-progress"], capture_output=True, text=True, cwd=tmp_path, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "to step 2" in result.stdout
    assert "on 10 examples" in result.stderr  # 4 SpokenCOCO + 6 VoxEmoset (paper5) samples
    assert len((run / "logs" / "loss.csv").read_text().splitlines()) == 3  # header + 2 steps
    assert (run / "checkpoints" / "step-000002" / "model.safetensors").is_file()
