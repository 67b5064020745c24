"""Finding the checkpoint offline: local folders, hub caches, fast errors that say what to fetch,
and the fingerprint."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from voxcore_emotion2vec import Emotion2vecConfig
from voxcore_emotion2vec.recognizer import Emotion2vecRecognizer, build_emotion2vec_recognizer

from voxcore.plugin_api import PretrainedNotFoundError, UserError


def build(model: str, tmp_path: Path, **settings: Any) -> Emotion2vecRecognizer:
    config = Emotion2vecConfig(model=model, cache_dir=str(tmp_path / "hf-cache"), **settings)
    return build_emotion2vec_recognizer(config)


def hub_snapshot(cache: Path, repo: str, checkpoint: Path) -> Path:
    """``checkpoint``'s files laid out as the Hugging Face cache keeps a download of ``repo``."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    snapshot = folder / "snapshots" / ("a" * 40)
    shutil.copytree(checkpoint, snapshot)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("a" * 40)
    return snapshot


@pytest.mark.parametrize("model", ["emotion2vec/emotion2vec_plus_large",
                                   "iic/emotion2vec_plus_large", "iic/emotion2vec_plus_seed"])
def test_an_uncached_checkpoint_fails_at_once_saying_what_to_fetch(
        model: str, tmp_path: Path) -> None:
    with pytest.raises(PretrainedNotFoundError):
        build(model, tmp_path)  # the first lookup may import the hub clients
    started = time.perf_counter()
    with pytest.raises(PretrainedNotFoundError) as caught:
        build(model, tmp_path)
    assert time.perf_counter() - started < 2.0
    message = str(caught.value)
    name = model.split("/")[1]
    assert f"huggingface-cli download emotion2vec/{name} --local-dir models/{name}" in message
    assert f"modelscope download --model iic/{name} --local_dir models/{name}" in message
    assert "emotion_check.recognizer.config.model" in message
    assert isinstance(caught.value, FileNotFoundError)


def test_an_unknown_modelscope_id_is_not_guessed_on_the_other_hub(tmp_path: Path) -> None:
    with pytest.raises(PretrainedNotFoundError, match="not in the ModelScope cache"):
        build("iic/some_other_model", tmp_path)


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(PretrainedNotFoundError, match="does not exist"):
        build(str(tmp_path / "nowhere" / "emotion2vec"), tmp_path)


def test_a_folder_without_weights_is_refused(tiny_folder: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(tiny_folder / "config.yaml", partial)
    with pytest.raises(UserError, match=r"lacks model\.pt, tokens\.txt"):
        build(str(partial), tmp_path)


def test_the_hugging_face_cache_is_found_offline(tiny_folder: Path, tmp_path: Path) -> None:
    snapshot = hub_snapshot(tmp_path / "hf-cache", "emotion2vec/emotion2vec_plus_large",
                            tiny_folder)
    rec = build_emotion2vec_recognizer(Emotion2vecConfig(cache_dir=str(tmp_path / "hf-cache")))
    assert rec.folder == snapshot


def test_a_modelscope_id_uses_its_hugging_face_copy(tiny_folder: Path, tmp_path: Path) -> None:
    snapshot = hub_snapshot(tmp_path / "hf-cache", "emotion2vec/emotion2vec_plus_base",
                            tiny_folder)
    assert build("iic/emotion2vec_plus_base", tmp_path).folder == snapshot


@pytest.mark.parametrize("layout", ["models/iic--emotion2vec_plus_large/snapshots/master",
                                    "models/iic/emotion2vec_plus_large"])
def test_the_modelscope_cache_is_found_offline(tiny_folder: Path, tmp_path: Path,
                                               layout: str) -> None:
    copy = Path(os.environ["MODELSCOPE_CACHE"]) / layout
    shutil.copytree(tiny_folder, copy)
    assert build("iic/emotion2vec_plus_large", tmp_path).folder == copy


def test_a_config_of_another_model_is_refused(tiny_folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(tiny_folder, other)
    (other / "config.yaml").write_text("model: Paraformer\nmodel_conf: {}\n")
    rec = build(str(other), tmp_path)
    with pytest.raises(UserError, match="'Paraformer' model, not FunASR's 'Emotion2vec'"):
        _ = rec.model


def test_weights_that_do_not_fit_the_labels_are_refused(tiny_folder: Path,
                                                         tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(tiny_folder, other)
    (other / "tokens.txt").write_text("生气/angry\n开心/happy\n<unk>")
    rec = build(str(other), tmp_path)
    with pytest.raises(UserError, match=r"do not fit .* \(3 labels\).*proj\.weight"):
        _ = rec.model


def test_the_fingerprint_names_weights_and_precision(tiny_folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tiny_folder, copy)
    first = build(str(copy), tmp_path).recognizer_fingerprint
    assert first == build(str(copy), tmp_path, batch_size=3).recognizer_fingerprint
    assert first != build(str(copy), tmp_path, dtype="float16").recognizer_fingerprint
    state = torch.load(copy / "model.pt", weights_only=True)
    state["proj.bias"] += 1.0
    torch.save(state, copy / "model.pt")
    assert first != build(str(copy), tmp_path).recognizer_fingerprint
