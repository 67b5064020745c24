"""Finding F5-TTS's files: local paths, the Hugging Face cache, and the offline error."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from voxcore_f5tts import DEFAULT_MODEL, DEFAULT_VOCODER, F5TTSConfig
from voxcore_f5tts.sources import package_vocab, parse_hub_file, resolve_files
from voxcore_f5tts.synthesizer import F5TTSSynthesizer

from voxcore.plugin_api import (
    CannotCheck,
    ConfigProblem,
    PretrainedNotFoundError,
    get_registry,
)

if TYPE_CHECKING:
    from conftest import TinyF5

_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def fake_hub_cache(cache: Path, repo: str, files: dict[str, Path]) -> None:
    """``files`` (path in the repo -> local file) laid out as huggingface_hub caches them."""
    root = cache / f"models--{repo.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(_COMMIT)
    for name, source in files.items():
        target = root / "snapshots" / _COMMIT / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)


def test_offline_build_fails_at_once_naming_every_file(tmp_path: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(PretrainedNotFoundError) as caught:
        get_registry("synthesizer").build("f5-tts", {"cache_dir": str(tmp_path / "cache")})
    assert time.perf_counter() - started < 5
    message = str(caught.value)
    assert DEFAULT_MODEL in message and DEFAULT_VOCODER in message
    assert "HF_HUB_OFFLINE is set" in message
    assert ("huggingface-cli download SWivid/F5-TTS F5TTS_v1_Base/model_1250000.safetensors "
            "--local-dir F5-TTS") in message
    assert ("huggingface-cli download charactr/vocos-mel-24khz config.yaml pytorch_model.bin "
            "--local-dir vocos-mel-24khz") in message
    assert "synthesizer.config.model: F5-TTS/F5TTS_v1_Base/model_1250000.safetensors" in message
    assert "synthesizer.config.vocoder: vocos-mel-24khz" in message


def test_missing_local_files_are_named(tiny_f5: TinyF5, tmp_path: Path) -> None:
    config = F5TTSConfig(model=str(tmp_path / "nowhere.safetensors"),
                         vocoder=str(tmp_path), vocab=str(tmp_path / "vocab.txt"))
    with pytest.raises(PretrainedNotFoundError) as caught:
        F5TTSSynthesizer(config)
    message = str(caught.value)
    assert "nowhere.safetensors (no such file or folder)" in message
    assert "vocoder files config.yaml, pytorch_model.bin" in message
    assert "vocab.txt (no such file)" in message


def test_folder_with_two_checkpoints_is_refused(tiny_f5: TinyF5, tmp_path: Path) -> None:
    for name in ("model_1.safetensors", "model_2.safetensors"):
        shutil.copy(tiny_f5.checkpoint, tmp_path / name)
    with pytest.raises(PretrainedNotFoundError, match="several checkpoints"):
        resolve_files(F5TTSConfig(**tiny_f5.config(model=str(tmp_path))))


def test_hub_files_are_found_in_the_cache_offline(tiny_f5: TinyF5, tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    fake_hub_cache(cache, "SWivid/F5-TTS", {
        "F5TTS_v1_Base/model_1250000.safetensors": tiny_f5.checkpoint,
        "F5TTS_v1_Base/vocab.txt": tiny_f5.model / "vocab.txt"})
    fake_hub_cache(cache, DEFAULT_VOCODER, {name: tiny_f5.vocoder / name
                                            for name in ("config.yaml", "pytorch_model.bin")})
    config = F5TTSConfig(cache_dir=str(cache), architecture=tiny_f5.architecture)
    files = resolve_files(config)
    snapshot = cache / "models--SWivid--F5-TTS" / "snapshots" / _COMMIT / "F5TTS_v1_Base"
    assert files.checkpoint == snapshot / "model_1250000.safetensors"
    assert files.vocab == snapshot / "vocab.txt"
    assert (files.vocoder / "config.yaml").is_file()
    synthesizer = F5TTSSynthesizer(config)
    assert synthesizer._loaded().vocab[" "] == 0


def test_vocab_defaults_to_the_one_f5tts_ships(tiny_f5: TinyF5, tmp_path: Path) -> None:
    shutil.copy(tiny_f5.checkpoint, tmp_path / "model.safetensors")
    files = resolve_files(F5TTSConfig(**tiny_f5.config(model=str(tmp_path / "model.safetensors"))))
    assert files.vocab == package_vocab()
    assert len(package_vocab().read_text(encoding="utf-8").splitlines()) == 2545


def test_checking_does_not_download_and_says_what_it_needs(tmp_path: Path) -> None:
    with pytest.raises(CannotCheck, match="nothing is downloaded while checking"):
        resolve_files(F5TTSConfig(cache_dir=str(tmp_path)), download=False)


def test_hub_file_urls() -> None:
    hub = parse_hub_file(DEFAULT_MODEL)
    assert hub is not None
    assert (hub.repo, hub.filename) == ("SWivid/F5-TTS", "F5TTS_v1_Base/model_1250000.safetensors")
    assert hub.url == DEFAULT_MODEL
    assert parse_hub_file("/local/model.safetensors") is None
    with pytest.raises(ConfigProblem):
        parse_hub_file("hf://SWivid/F5-TTS")


def test_an_unreachable_hub_is_tried_once(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    tried: list[str] = []

    def unreachable(repo: str, filename: str, **_: object) -> str:
        tried.append(filename)
        raise LocalEntryNotFoundError("no connection")

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", unreachable)
    with pytest.raises(PretrainedNotFoundError, match="the hub could not be reached"):
        resolve_files(F5TTSConfig(cache_dir=str(tmp_path)))
    assert tried == ["F5TTS_v1_Base/model_1250000.safetensors"]
