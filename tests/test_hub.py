"""Finding pretrained weights: local folders, the hub cache, and the offline error messages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voxcore.hub import PretrainedNotFoundError, folder_fingerprint, resolve_pretrained


def test_an_existing_folder_is_used_as_is(tmp_path: Path) -> None:
    assert resolve_pretrained(str(tmp_path), what="test model") == tmp_path


@pytest.mark.parametrize("name", ["./models/unet", "/nonexistent/unet", "models/sd/unet"])
def test_a_missing_folder_is_not_sent_to_the_hub(name: str) -> None:
    with pytest.raises(PretrainedNotFoundError, match=r"test model folder .* does not exist; "
                                                      r"set generator\.config\.model"):
        resolve_pretrained(name, what="test model", recipe_key="generator.config.model")


@pytest.mark.parametrize("offline", ["1", "0"])
def test_an_uncached_hub_id_offline_names_id_cache_and_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline: str
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    with pytest.raises(PretrainedNotFoundError) as caught:
        resolve_pretrained("acme/model", what="Acme checkpoint", cache_dir=tmp_path)
    message = str(caught.value)
    assert message.startswith(f"Acme checkpoint 'acme/model' is not in the Hugging Face cache "
                              f"{tmp_path}")
    assert "huggingface-cli download acme/model" in message
    assert "set encoder.config.model to the downloaded folder" in message
    assert isinstance(caught.value, FileNotFoundError)


def test_a_cached_snapshot_is_found_offline(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo = tmp_path / "models--acme--model"
    snapshot = repo / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    assert resolve_pretrained("acme/model", what="m", cache_dir=tmp_path) == snapshot


def test_fingerprint_follows_the_files(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"1234")
    (tmp_path / "notes.txt").write_text("ignored")
    first = folder_fingerprint(tmp_path, ["*.safetensors"])
    (tmp_path / "notes.txt").write_text("still ignored")
    assert folder_fingerprint(tmp_path, ["*.safetensors"]) == first
    (tmp_path / "model.safetensors").write_bytes(b"12345")
    assert folder_fingerprint(tmp_path, ["*.safetensors"]) != first
    os.utime(tmp_path / "model.safetensors", ns=(1, 1))
    changed = folder_fingerprint(tmp_path, ["*.safetensors"])
    os.utime(tmp_path / "model.safetensors", ns=(2, 2))
    assert folder_fingerprint(tmp_path, ["*.safetensors"]) != changed
