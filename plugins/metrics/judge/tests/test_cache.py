"""The trained-judge cache: reused when nothing changed, retrained when anything did."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from voxcore_judge import JudgeConfig
from voxcore_judge.cache import cache_key
from voxcore_judge.judge import obtain_judge
from voxcore_judge.testing import draw_shape, write_shapes

from voxcore.plugin_api import Sample

TINY = JudgeConfig(labels=["shape", "tone"], color_invariant=["shape"], epochs=1, batch_size=8,
                   holdout=0.25, min_real_accuracy=0.0)


@pytest.fixture
def samples(tmp_path: Path) -> list[Sample]:
    return write_shapes(tmp_path / "data", 24)


def test_key_depends_on_image_bytes_labels_and_training_config(
        samples: list[Sample], tmp_path: Path) -> None:
    key = cache_key(samples, TINY)
    assert key == cache_key(samples, TINY)
    untouched = {"cache_dir": "/elsewhere", "min_real_accuracy": 0.5, "device": "meta",
                 "on_low_accuracy": "raise"}
    assert cache_key(samples, TINY.model_copy(update=untouched)) == key
    assert cache_key(samples, TINY.model_copy(update={"seed": 1})) != key
    assert cache_key(samples, TINY.model_copy(update={"labels": ["shape"]})) != key
    assert cache_key(samples, TINY.model_copy(update={"color_invariant": []})) != key
    relabelled = [replace(samples[0], labels={"shape": "square", "tone": "dark"}), *samples[1:]]
    assert cache_key(relabelled, TINY) != key
    moved = tmp_path / "moved"
    shutil.copytree(samples[0].image.parent, moved)  # type: ignore[union-attr]
    assert cache_key([replace(s, image=moved / s.image.name)  # type: ignore[union-attr]
                      for s in samples], TINY) == key


def test_second_use_loads_instead_of_training(
        samples: list[Sample], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="voxcore_judge")
    first = obtain_judge(samples, TINY, tmp_path / "cache")
    assert first.trained and "trained judge" in caplog.text
    caplog.clear()
    second = obtain_judge(samples, TINY, tmp_path / "cache")
    assert not second.trained and "loaded judge" in caplog.text
    assert second.key == first.key and second.vocab == first.vocab
    assert second.real_accuracy == first.real_accuracy
    images = torch.rand(5, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(second.classifier.features(images),
                                   first.classifier.eval().features(images))
    entry = tmp_path / "cache" / first.key
    assert sorted(p.name for p in entry.iterdir()) == ["judge.json", "judge.safetensors"]
    info = json.loads((entry / "judge.json").read_text())
    assert info["vocab"] == {"shape": ["circle", "square"], "tone": ["bright", "dark"]}
    assert info["real_accuracy"] == first.real_accuracy and info["num_heldout"] == 6


def test_changing_an_image_or_the_config_retrains(
        samples: list[Sample], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = obtain_judge(samples, TINY, cache)
    path = samples[3].image
    assert path is not None
    draw_shape("square", "bright", 32, __import__("random").Random(99)).save(path)
    edited = obtain_judge(samples, TINY, cache)
    assert edited.trained and edited.key != first.key
    reconfigured = obtain_judge(samples, TINY.model_copy(update={"epochs": 2}), cache)
    assert reconfigured.trained and reconfigured.key not in {first.key, edited.key}
    assert not obtain_judge(samples, TINY.model_copy(update={"epochs": 2}), cache).trained


def test_a_corrupt_entry_is_retrained_and_replaced(
        samples: list[Sample], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = obtain_judge(samples, TINY, tmp_path)
    (tmp_path / first.key / "judge.safetensors").write_bytes(b"not safetensors")
    again = obtain_judge(samples, TINY, tmp_path)
    assert again.trained and "ignoring unusable judge cache entry" in caplog.text
    assert not obtain_judge(samples, TINY, tmp_path).trained


def test_an_unwritable_cache_still_gives_a_judge(
        samples: list[Sample], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    judge = obtain_judge(samples, TINY, blocker)
    assert judge.trained and "could not cache the judge" in caplog.text
