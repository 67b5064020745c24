"""Finding checkpoints offline, and failing at build time with what to do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import ValidationError
from voxcore_llava import DEFAULT_MODEL, LlavaCaptionerConfig
from voxcore_llava.captioner import LlavaCaptioner, build_llava_captioner

from voxcore.plugin_api import CannotCheck, PretrainedNotFoundError, UserError, get_registry


@pytest.mark.parametrize("offline", ["1", ""])
def test_default_checkpoint_missing_offline_fails_at_build_with_the_download(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline: str) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    cache = tmp_path / "hub"
    started = time.perf_counter()
    with pytest.raises(PretrainedNotFoundError) as caught:
        get_registry("captioner").build("llava-onevision", {"cache_dir": str(cache)})
    message = str(caught.value)
    assert f"'{DEFAULT_MODEL}'" in message
    assert f"is not in the Hugging Face cache {cache}" in message
    assert (f"huggingface-cli download {DEFAULT_MODEL} --local-dir "
            "models/llava-onevision-qwen2-7b-ov-hf") in message
    assert "then captioner.config.model: models/llava-onevision-qwen2-7b-ov-hf" in message
    assert time.perf_counter() - started < 30


def test_other_hub_id_is_the_one_to_download(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PretrainedNotFoundError,
                       match="huggingface-cli download llava-hf/llava-onevision-qwen2-0.5b-ov-hf "
                             "--local-dir models/llava-onevision-qwen2-0.5b-ov-hf"):
        build_llava_captioner(LlavaCaptionerConfig(
            model="llava-hf/llava-onevision-qwen2-0.5b-ov-hf", cache_dir=str(tmp_path)))


def test_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(PretrainedNotFoundError,
                       match=r"folder .*nowhere does not exist; set captioner\.config\.model"):
        build_llava_captioner(LlavaCaptionerConfig(model=str(tmp_path / "nowhere")))


def test_a_cached_hub_snapshot_is_found_offline(
        tiny_llava: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo = tmp_path / "models--someone--tiny-llava"
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    for file in tiny_llava.iterdir():
        (snapshot / file.name).symlink_to(file)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    built = build_llava_captioner(LlavaCaptionerConfig(model="someone/tiny-llava",
                                                       cache_dir=str(tmp_path)))
    assert built.folder == snapshot
    local = build_llava_captioner(LlavaCaptionerConfig(model=str(tiny_llava)))
    assert built.captioner_fingerprint == local.captioner_fingerprint


def test_another_kind_of_checkpoint_is_refused(tiny_llava: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(tiny_llava, tmp_path / "other"))
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "llava_next"}))
    with pytest.raises(UserError, match="'llava_next' model, not LLaVA-OneVision"):
        build_llava_captioner(LlavaCaptionerConfig(model=str(folder)))
    (folder / "config.json").unlink()
    with pytest.raises(UserError, match="has no config.json"):
        build_llava_captioner(LlavaCaptionerConfig(model=str(folder)))


def test_pickled_weights_are_refused(tiny_llava: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(tiny_llava, tmp_path / "pickled"))
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(UserError, match="no safetensors weights; it has pytorch_model.bin"):
        build_llava_captioner(LlavaCaptionerConfig(model=str(folder)))


def test_a_check_does_not_look_up_hub_ids(tiny_llava: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import voxcore_llava.captioner

    monkeypatch.setattr(voxcore_llava.captioner, "checking", lambda: True)
    with pytest.raises(CannotCheck, match="looked up .* only when captioning"):
        build_llava_captioner(LlavaCaptionerConfig())
    assert isinstance(build_llava_captioner(LlavaCaptionerConfig(model=str(tiny_llava))),
                      LlavaCaptioner)


def test_config_refuses_typos_and_bad_values() -> None:
    with pytest.raises(ValidationError, match="promt"):
        LlavaCaptionerConfig(promt="x")  # type: ignore[call-arg]
    for bad in ({"temperature": 0}, {"top_p": 1.5}, {"batch_size": 0}, {"dtype": "int8"},
                {"max_new_tokens": 0}, {"prompt": ""}):
        with pytest.raises(ValidationError):
            LlavaCaptionerConfig(**bad)
    for name, field in LlavaCaptionerConfig.model_fields.items():
        assert field.description, f"{name} has no description"


def test_registering_imports_no_torch() -> None:
    code = ("import sys\n"
            "from voxcore.plugin_api import get_registry\n"
            "entry = get_registry('captioner').get('llava-onevision')\n"
            "heavy = sorted(m for m in sys.modules if m in ('torch', 'transformers'))\n"
            "assert not heavy, heavy\n"
            "print(entry.config_model.__name__)")
    env = {**os.environ, "VOXCORE_LOAD_PLUGINS": "llava"}  # this plugin's import alone
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "LlavaCaptionerConfig"
